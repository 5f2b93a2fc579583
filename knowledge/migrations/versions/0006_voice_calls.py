"""phone calls' flow state between webhooks

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'voice_calls',
        sa.Column('channel', sa.String(length=32), nullable=False),
        sa.Column('call_id', sa.String(length=128), nullable=False),
        sa.Column('state', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('channel', 'call_id'),
    )
    op.create_index('ix_voice_calls_updated_at', 'voice_calls', ['updated_at'])


def downgrade() -> None:
    op.drop_index('ix_voice_calls_updated_at', table_name='voice_calls')
    op.drop_table('voice_calls')
