"""the question log: what residents asked and what the bot decided

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 11:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'kb_questions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('channel', sa.String(length=32), nullable=False),
        sa.Column('query', sa.Text(), nullable=False),
        sa.Column('decision', sa.String(length=16), nullable=False),
        sa.Column('entry_id', sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_kb_questions_at', 'kb_questions', ['at'])
    op.create_index('ix_kb_questions_entry_id', 'kb_questions', ['entry_id'])


def downgrade() -> None:
    op.drop_index('ix_kb_questions_entry_id', table_name='kb_questions')
    op.drop_index('ix_kb_questions_at', table_name='kb_questions')
    op.drop_table('kb_questions')
