"""referrals followed through: the agency's planned action and date, and the support a child received

Revision ID: 0007d
Revises: 0006f
Create Date: 2026-12-04

Issue 19: after acknowledging, an agency says what it will do and by when (referral_follow);
reminders and escalations of that date are referral_escalations rows of kind ``p<plan>:<step>``.
On closing it says which support the child received (referral_support, codes only).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import helpline.models

revision = '0007d'
down_revision = '0007b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('referral_follow',
    sa.Column('referral_id', sa.String(length=32), nullable=False),
    sa.Column('plan', sa.Integer(), nullable=False),
    sa.Column('action_kind', sa.String(length=32), nullable=True),
    sa.Column('due_at', helpline.models.UTCDateTime(), nullable=True),
    sa.Column('set_by', sa.String(length=48), nullable=False),
    sa.Column('set_at', helpline.models.UTCDateTime(), nullable=False),
    sa.Column('acted_at', helpline.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_follow_referral_id_referrals'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('referral_id', name=op.f('pk_referral_follow'))
    )
    with op.batch_alter_table('referral_follow', schema=None) as batch_op:
        batch_op.create_index('ix_referral_follow_due', ['due_at'], unique=False)

    op.create_table('referral_support',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_support_referral_id_referrals'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_support')),
    sa.UniqueConstraint('referral_id', 'kind', name='uq_referral_support_kind')
    )
    with op.batch_alter_table('referral_support', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_support_referral_id'), ['referral_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('referral_support', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_support_referral_id'))
    op.drop_table('referral_support')
    with op.batch_alter_table('referral_follow', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_follow_due')
    op.drop_table('referral_follow')
