"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 06:30:09.919787
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('cases',
    sa.Column('application_number', sa.String(length=32), nullable=False),
    sa.Column('service', sa.String(length=128), nullable=False),
    sa.Column('applicant', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('updated', sa.String(length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('application_number')
    )
    op.create_table('handoffs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender', sa.String(length=128), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('transcript', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handoffs_sender'), ['sender'], unique=False)

    op.create_table('kb_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ext_id', sa.String(length=128), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('short_answer', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('department', sa.String(length=128), nullable=False),
    sa.Column('conditions', sa.Text(), nullable=False),
    sa.Column('materials', sa.JSON(), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('time_limit', sa.Text(), nullable=False),
    sa.Column('fees', sa.Text(), nullable=False),
    sa.Column('place', sa.Text(), nullable=False),
    sa.Column('hours', sa.Text(), nullable=False),
    sa.Column('phone', sa.Text(), nullable=False),
    sa.Column('online_url', sa.Text(), nullable=False),
    sa.Column('basis', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('kb_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_entries_ext_id'), ['ext_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_kb_entries_generation'), ['generation'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_entries_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_entries_updated_at'), ['updated_at'], unique=False)

    op.create_table('kb_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('object_type', sa.String(length=16), nullable=False),
    sa.Column('object_key', sa.String(length=128), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('kb_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_revisions_object_key'), ['object_key'], unique=False)

    op.create_table('kb_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('kb_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('variant', sa.String(length=64), nullable=False),
    sa.Column('standard', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('variant')
    )
    op.create_table('kb_unanswered',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('sender', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('candidates', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('kb_unanswered', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_unanswered_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_unanswered_status'), ['status'], unique=False)

    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('district', sa.String(length=32), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('sender', sa.String(length=128), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    op.create_table('kb_similar_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['kb_entries.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('kb_similar_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_similar_questions_entry_id'), ['entry_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('kb_similar_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_similar_questions_entry_id'))

    op.drop_table('kb_similar_questions')
    op.drop_table('tickets')
    with op.batch_alter_table('kb_unanswered', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_unanswered_status'))
        batch_op.drop_index(batch_op.f('ix_kb_unanswered_created_at'))

    op.drop_table('kb_unanswered')
    op.drop_table('kb_terms')
    op.drop_table('kb_state')
    with op.batch_alter_table('kb_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_revisions_object_key'))

    op.drop_table('kb_revisions')
    with op.batch_alter_table('kb_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_entries_updated_at'))
        batch_op.drop_index(batch_op.f('ix_kb_entries_status'))
        batch_op.drop_index(batch_op.f('ix_kb_entries_generation'))
        batch_op.drop_index(batch_op.f('ix_kb_entries_ext_id'))

    op.drop_table('kb_entries')
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handoffs_sender'))

    op.drop_table('handoffs')
    op.drop_table('cases')

