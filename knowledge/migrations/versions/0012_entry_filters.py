"""indexes for the console's entry filters (category, department)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 12:50:00
"""
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_kb_entries_category', 'kb_entries', ['category'])
    op.create_index('ix_kb_entries_department', 'kb_entries', ['department'])


def downgrade() -> None:
    op.drop_index('ix_kb_entries_department', table_name='kb_entries')
    op.drop_index('ix_kb_entries_category', table_name='kb_entries')
