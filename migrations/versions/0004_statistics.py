"""statistics: daily roll-ups of metadata counts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import helpline.models


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stats_daily',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=1), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('county', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('dim', sa.String(length=24), nullable=False),
    sa.Column('value', sa.String(length=140), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stats_daily'))
    )
    with op.batch_alter_table('stats_daily', schema=None) as batch_op:
        batch_op.create_index('ix_stats_daily_day', ['day'], unique=False)
        batch_op.create_index('ix_stats_daily_slice', ['county', 'category', 'source', 'day'], unique=False)

    op.create_table('stats_state',
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('at', helpline.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_stats_state'))
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index('ix_conversations_created_at', ['created_at'], unique=False)
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_created_at', ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_created_at')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_created_at')
    op.drop_table('stats_state')
    with op.batch_alter_table('stats_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_stats_daily_slice')
        batch_op.drop_index('ix_stats_daily_day')
    op.drop_table('stats_daily')
