"""the question log keeps the entries a clarification offered (for the confusable-pairs report)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 12:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('kb_questions') as batch:
        batch.add_column(sa.Column('offered', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('kb_questions') as batch:
        batch.drop_column('offered')
