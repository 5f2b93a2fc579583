"""staff answers on handoffs and tickets

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 07:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

TABLES = ('handoffs', 'tickets')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('answer', sa.Text(), nullable=False, server_default=''))
            batch_op.add_column(sa.Column('answer_note', sa.Text(), nullable=False,
                                          server_default=''))
            batch_op.add_column(sa.Column('answered_by', sa.String(length=64), nullable=False,
                                          server_default=''))
            batch_op.add_column(sa.Column('answered_at', sa.DateTime(timezone=True),
                                          nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in ('answered_at', 'answered_by', 'answer_note', 'answer'):
                batch_op.drop_column(column)
