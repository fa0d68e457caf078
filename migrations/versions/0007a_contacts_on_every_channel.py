"""case_records: the record of one contact on any channel, not only a chat

Revision ID: 0007a
Revises: 0006f
Create Date: 2026-12-04

A phone call, an e-mail, a visit, a letter or a report is recorded in the same table as a chat's
wrap-up (ADR 0025): the conversation becomes optional and the record says its channel, who made
contact, the municipality (county derived), when it started and how long it lasted. The statistics'
roll-up table gets an index that covers the views' reads (they now count every contact).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import helpline.models

revision = '0007a'
down_revision = '0007c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_records', schema=None) as batch_op:
        batch_op.alter_column('conversation_id', existing_type=sa.String(length=32), nullable=True)
        batch_op.add_column(sa.Column('channel', sa.String(length=16), server_default='chat', nullable=False))
        batch_op.add_column(sa.Column('ref', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('contact_by', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('municipality', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('county', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('started_at', helpline.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('duration_seconds', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_case_records_started_at'), ['started_at'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_case_records_ref'), ['ref'])
    # The statistics views read one slice's counts over a period: an index that covers the read.
    with op.batch_alter_table('stats_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_stats_daily_slice')
        batch_op.create_index('ix_stats_daily_cover', ['county', 'category', 'source', 'dim', 'value', 'day', 'n'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stats_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_stats_daily_cover')
        batch_op.create_index('ix_stats_daily_slice', ['county', 'category', 'source', 'day'], unique=False)
    # Contacts that no chat carries cannot live in the old shape: they go.
    op.execute("DELETE FROM case_records WHERE conversation_id IS NULL")
    with op.batch_alter_table('case_records', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_case_records_ref'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_case_records_started_at'))
        batch_op.drop_column('duration_seconds')
        batch_op.drop_column('started_at')
        batch_op.drop_column('county')
        batch_op.drop_column('municipality')
        batch_op.drop_column('contact_by')
        batch_op.drop_column('ref')
        batch_op.drop_column('channel')
        batch_op.alter_column('conversation_id', existing_type=sa.String(length=32), nullable=False)
