"""console: second factor, cases, transfers, alerts, agencies

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import helpline.models


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=48), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('county', sa.String(length=64), nullable=True),
    sa.Column('municipality', sa.String(length=64), nullable=True),
    sa.Column('fallback_email', sa.String(length=254), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agencies')),
    sa.UniqueConstraint('code', name=op.f('uq_agencies_code'))
    )
    op.create_table('canned_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('shortcut', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', helpline.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canned_replies')),
    sa.UniqueConstraint('locale', 'shortcut', name='uq_canned_replies_shortcut')
    )
    op.create_table('throttles',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', helpline.models.UTCDateTime(), nullable=True),
    sa.Column('expires_at', helpline.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_throttles'))
    )
    with op.batch_alter_table('throttles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_throttles_expires_at'), ['expires_at'], unique=False)

    op.create_table('config_values',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', helpline.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['updated_by'], ['staff.id'], name=op.f('fk_config_values_updated_by_staff')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_config_values'))
    )
    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', helpline.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_recovery_codes_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_recovery_codes_code_hash'))
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_staff_id'), ['staff_id'], unique=False)

    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=True),
    sa.Column('raised_by', sa.Integer(), nullable=True),
    sa.Column('handled_by', sa.Integer(), nullable=True),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.Column('handled_at', helpline.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_alerts_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['handled_by'], ['staff.id'], name=op.f('fk_alerts_handled_by_staff')),
    sa.ForeignKeyConstraint(['raised_by'], ['staff.id'], name=op.f('fk_alerts_raised_by_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_handled_at'), ['handled_at'], unique=False)

    op.create_table('case_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('counsellor_id', sa.Integer(), nullable=False),
    sa.Column('contact_type', sa.String(length=24), nullable=False),
    sa.Column('primary_category', sa.String(length=64), nullable=True),
    sa.Column('secondary_categories', sa.JSON(), nullable=False),
    sa.Column('risk', sa.String(length=12), nullable=False),
    sa.Column('age_band', sa.String(length=16), nullable=True),
    sa.Column('gender', sa.String(length=16), nullable=True),
    sa.Column('outcome', sa.String(length=24), nullable=True),
    sa.Column('follow_up', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('note_keys', sa.JSON(), nullable=True),
    sa.Column('taxonomy_version', sa.String(length=16), nullable=False),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', helpline.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_case_records_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['counsellor_id'], ['staff.id'], name=op.f('fk_case_records_counsellor_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_records')),
    sa.UniqueConstraint('conversation_id', name=op.f('uq_case_records_conversation_id'))
    )
    with op.batch_alter_table('case_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_records_counsellor_id'), ['counsellor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_records_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_records_primary_category'), ['primary_category'], unique=False)

    op.create_table('conversation_access',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('granted_by', sa.Integer(), nullable=False),
    sa.Column('joined_at', helpline.models.UTCDateTime(), nullable=True),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_conversation_access_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['granted_by'], ['staff.id'], name=op.f('fk_conversation_access_granted_by_staff')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_conversation_access_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_access')),
    sa.UniqueConstraint('conversation_id', 'staff_id', name='uq_conversation_access_staff')
    )
    with op.batch_alter_table('conversation_access', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_access_staff_id'), ['staff_id'], unique=False)

    op.create_table('transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('from_staff_id', sa.Integer(), nullable=False),
    sa.Column('to_staff_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_transfers_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['from_staff_id'], ['staff.id'], name=op.f('fk_transfers_from_staff_id_staff')),
    sa.ForeignKeyConstraint(['to_staff_id'], ['staff.id'], name=op.f('fk_transfers_to_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfers'))
    )
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfers_conversation_id'), ['conversation_id'], unique=False)

    with op.batch_alter_table('child_identities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('block_reason', sa.String(length=32), nullable=True))

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('county', sa.String(length=64), nullable=True))

    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('totp_confirmed_at', helpline.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=False,
                                      server_default='available'))
        batch_op.add_column(sa.Column('agency_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('key_reset_at', helpline.models.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_staff_agency_id'), ['agency_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_staff_agency_id_agencies'), 'agencies', ['agency_id'], ['id'])

    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        # Sessions from before the second factor must sign in again.
        batch_op.add_column(sa.Column('mfa_done', sa.Boolean(), nullable=False, server_default=sa.false()))



def downgrade() -> None:
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_column('mfa_done')

    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_staff_agency_id_agencies'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_staff_agency_id'))
        batch_op.drop_column('key_reset_at')
        batch_op.drop_column('agency_id')
        batch_op.drop_column('status')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_confirmed_at')
        batch_op.drop_column('totp_secret')

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('county')

    with op.batch_alter_table('child_identities', schema=None) as batch_op:
        batch_op.drop_column('block_reason')

    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfers_conversation_id'))

    op.drop_table('transfers')
    with op.batch_alter_table('conversation_access', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_access_staff_id'))

    op.drop_table('conversation_access')
    with op.batch_alter_table('case_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_records_primary_category'))
        batch_op.drop_index(batch_op.f('ix_case_records_created_at'))
        batch_op.drop_index(batch_op.f('ix_case_records_counsellor_id'))

    op.drop_table('case_records')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_handled_at'))

    op.drop_table('alerts')
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_staff_id'))

    op.drop_table('recovery_codes')
    op.drop_table('config_values')
    with op.batch_alter_table('throttles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_throttles_expires_at'))

    op.drop_table('throttles')
    op.drop_table('canned_replies')
    op.drop_table('agencies')
