"""referrals: referrals, keys, events, notices, escalations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import helpline.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('officer_contacts',
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('updated_at', helpline.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_officer_contacts_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('staff_id', name=op.f('pk_officer_contacts'))
    )
    op.create_table('referrals',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('urgency', sa.String(length=12), nullable=False),
    sa.Column('chi_category', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('return_reason', sa.String(length=32), nullable=True),
    sa.Column('consent', sa.JSON(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('conversation_id', sa.String(length=32), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('report_code_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.Column('sent_at', helpline.models.UTCDateTime(), nullable=True),
    sa.Column('ack_deadline_at', helpline.models.UTCDateTime(), nullable=True),
    sa.Column('acknowledged_at', helpline.models.UTCDateTime(), nullable=True),
    sa.Column('closed_at', helpline.models.UTCDateTime(), nullable=True),
    sa.Column('updated_at', helpline.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_referrals_agency_id_agencies')),
    sa.ForeignKeyConstraint(['case_id'], ['case_records.id'], name=op.f('fk_referrals_case_id_case_records'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_referrals_conversation_id_conversations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by'], ['staff.id'], name=op.f('fk_referrals_created_by_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    sa.UniqueConstraint('report_code_hash', name=op.f('uq_referrals_report_code_hash'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_created_by'), ['created_by'], unique=False)
        batch_op.create_index('ix_referrals_due', ['state', 'ack_deadline_at'], unique=False)

    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('referral_id', sa.String(length=32), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', helpline.models.UTCDateTime(), nullable=False),
    sa.Column('claimed_until', helpline.models.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('sent_at', helpline.models.UTCDateTime(), nullable=True),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_notices_referral_id_referrals'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index('ix_notices_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('referral_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('referral_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=48), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_events_referral_id_referrals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_events'))
    )
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_events_referral_id'), ['referral_id'], unique=False)

    op.create_table('referral_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.String(length=32), nullable=False),
    sa.Column('reader', sa.String(length=48), nullable=False),
    sa.Column('wrapped_key', sa.String(length=128), nullable=False),
    sa.Column('wrapper_public_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_keys_referral_id_referrals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_keys')),
    sa.UniqueConstraint('referral_id', 'reader', name='uq_referral_keys_reader')
    )
    op.create_table('referral_escalations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=True),
    sa.Column('notice_id', sa.Integer(), nullable=True),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_referral_escalations_alert_id_alerts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_referral_escalations_notice_id_notices'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_escalations_referral_id_referrals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_escalations')),
    sa.UniqueConstraint('referral_id', 'kind', name='uq_referral_escalations_kind')
    )


def downgrade() -> None:
    op.drop_table('referral_escalations')
    op.drop_table('referral_keys')
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_events_referral_id'))

    op.drop_table('referral_events')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index('ix_notices_due')

    op.drop_table('notices')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_due')
        batch_op.drop_index(batch_op.f('ix_referrals_created_by'))
        batch_op.drop_index(batch_op.f('ix_referrals_agency_id'))

    op.drop_table('referrals')
    op.drop_table('officer_contacts')
