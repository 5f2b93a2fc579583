"""questions left for staff: ticket kind, and the ticket of an unanswered question

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=False,
                                      server_default='complaint'))
    with op.batch_alter_table('kb_unanswered', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ticket_number', sa.String(length=32), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('kb_unanswered', schema=None) as batch_op:
        batch_op.drop_column('ticket_number')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('kind')
