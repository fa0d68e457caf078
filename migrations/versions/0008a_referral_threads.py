"""referrals to several agencies: legs that share one encrypted thread

Revision ID: 0008a
Revises: 0007g
Create Date: 2026-12-04

Issue 19 (ADR 0035): one referral can go to several agencies at once. Each agency's leg stays a
referral of its own (key, details, state, deadlines); the legs point at a thread whose key is
wrapped for every leg's readers, and whose messages are ciphertext under that key.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import helpline.models

revision = '0008a'
down_revision = '0007g'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('referral_threads',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['staff.id'], name=op.f('fk_referral_threads_created_by_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_threads'))
    )
    op.create_table('referral_thread_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.String(length=32), nullable=False),
    sa.Column('reader', sa.String(length=48), nullable=False),
    sa.Column('wrapped_key', sa.String(length=128), nullable=False),
    sa.Column('wrapper_public_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['thread_id'], ['referral_threads.id'],
                            name=op.f('fk_referral_thread_keys_thread_id_referral_threads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_thread_keys')),
    sa.UniqueConstraint('thread_id', 'reader', name='uq_referral_thread_keys_reader')
    )
    op.create_table('referral_thread_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('thread_id', sa.String(length=32), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=48), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'],
                            name=op.f('fk_referral_thread_messages_agency_id_agencies')),
    sa.ForeignKeyConstraint(['thread_id'], ['referral_threads.id'],
                            name=op.f('fk_referral_thread_messages_thread_id_referral_threads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_thread_messages'))
    )
    with op.batch_alter_table('referral_thread_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_thread_messages_thread_id'), ['thread_id'], unique=False)
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thread_id', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_referrals_thread_id'), ['thread_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_referrals_thread_id_referral_threads'), 'referral_threads',
                                    ['thread_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_referrals_thread_id_referral_threads'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_referrals_thread_id'))
        batch_op.drop_column('thread_id')
    with op.batch_alter_table('referral_thread_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_thread_messages_thread_id'))
    op.drop_table('referral_thread_messages')
    op.drop_table('referral_thread_keys')
    op.drop_table('referral_threads')
