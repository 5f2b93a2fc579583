"""editors' changes to published entries, kept for a reviewer

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 13:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'kb_proposals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sa.String(length=128), nullable=False),
        sa.Column('base_version', sa.Integer(), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('author', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('decided_by', sa.String(length=64), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_kb_proposals_entry_id', 'kb_proposals', ['entry_id'])
    op.create_index('ix_kb_proposals_status', 'kb_proposals', ['status'])


def downgrade() -> None:
    op.drop_index('ix_kb_proposals_status', table_name='kb_proposals')
    op.drop_index('ix_kb_proposals_entry_id', table_name='kb_proposals')
    op.drop_table('kb_proposals')
