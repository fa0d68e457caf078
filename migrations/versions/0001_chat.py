"""chat: staff, children, conversations, messages, audit

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 01:38:40.030371
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import helpline.models


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', helpline.models.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_log_hash'))
    )
    op.create_table('child_identities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.Column('blocked_at', helpline.models.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_child_identities')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_child_identities_token_hash'))
    )
    op.create_table('staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('kdf_salt', sa.String(length=32), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=True),
    sa.Column('key_signature', sa.String(length=128), nullable=True),
    sa.Column('encrypted_private_key', sa.String(length=255), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('max_chats', sa.SmallInteger(), nullable=True),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', helpline.models.UTCDateTime(), nullable=True),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff')),
    sa.UniqueConstraint('public_id', name=op.f('uq_staff_public_id')),
    sa.UniqueConstraint('username', name=op.f('uq_staff_username'))
    )
    op.create_table('conversations',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('urgency', sa.SmallInteger(), nullable=False),
    sa.Column('contact_by', sa.String(length=8), nullable=False),
    sa.Column('age_band', sa.String(length=16), nullable=True),
    sa.Column('gender', sa.String(length=16), nullable=True),
    sa.Column('municipality', sa.String(length=64), nullable=True),
    sa.Column('topic', sa.String(length=32), nullable=True),
    sa.Column('in_danger', sa.Boolean(), nullable=True),
    sa.Column('returning_child', sa.Boolean(), nullable=False),
    sa.Column('counsellor_id', sa.Integer(), nullable=True),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.Column('accepted_at', helpline.models.UTCDateTime(), nullable=True),
    sa.Column('ended_at', helpline.models.UTCDateTime(), nullable=True),
    sa.Column('ended_by', sa.String(length=16), nullable=True),
    sa.Column('feedback', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['child_identities.id'], name=op.f('fk_conversations_child_id_child_identities')),
    sa.ForeignKeyConstraint(['counsellor_id'], ['staff.id'], name=op.f('fk_conversations_counsellor_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversations'))
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversations_child_id'), ['child_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversations_counsellor_id'), ['counsellor_id'], unique=False)
        batch_op.create_index('ix_conversations_queue', ['state', 'urgency', 'created_at'], unique=False)

    op.create_table('staff_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', helpline.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_staff_sessions_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_sessions'))
    )
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_sessions_staff_id'), ['staff_id'], unique=False)

    op.create_table('conversation_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('participant', sa.String(length=48), nullable=False),
    sa.Column('wrapped_key', sa.String(length=128), nullable=False),
    sa.Column('wrapper_public_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_conversation_keys_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_keys')),
    sa.UniqueConstraint('conversation_id', 'participant', name='uq_conversation_keys_participant')
    )
    op.create_table('messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('sender', sa.String(length=48), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_messages_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('conversation_id', 'client_id', name='uq_messages_client_id'),
    sa.UniqueConstraint('conversation_id', 'seq', name='uq_messages_seq')
    )


def downgrade() -> None:
    op.drop_table('messages')
    op.drop_table('conversation_keys')
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_sessions_staff_id'))

    op.drop_table('staff_sessions')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_queue')
        batch_op.drop_index(batch_op.f('ix_conversations_counsellor_id'))
        batch_op.drop_index(batch_op.f('ix_conversations_child_id'))

    op.drop_table('conversations')
    op.drop_table('staff')
    op.drop_table('child_identities')
    op.drop_table('audit_log')
