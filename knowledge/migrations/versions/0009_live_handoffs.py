"""live handoffs: staff take a conversation, reply into it and hand it back

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 12:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handoffs') as batch:
        batch.add_column(sa.Column('taken_by', sa.String(length=64), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('told_wait', sa.Integer(), nullable=False, server_default='0'))
    op.create_table(
        'handoff_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('handoff_id', sa.Integer(), nullable=False),
        sa.Column('who', sa.String(length=16), nullable=False),
        sa.Column('author', sa.String(length=64), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['handoff_id'], ['handoffs.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_handoff_messages_handoff_id', 'handoff_messages', ['handoff_id'])
    op.create_index('ix_handoff_messages_delivered_at', 'handoff_messages', ['delivered_at'])


def downgrade() -> None:
    op.drop_index('ix_handoff_messages_delivered_at', table_name='handoff_messages')
    op.drop_index('ix_handoff_messages_handoff_id', table_name='handoff_messages')
    op.drop_table('handoff_messages')
    with op.batch_alter_table('handoffs') as batch:
        batch.drop_column('told_wait')
        batch.drop_column('taken_at')
        batch.drop_column('taken_by')
