"""emergencies: two-person disclosures and debriefs

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import helpline.models


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('debriefs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('counsellor_id', sa.Integer(), nullable=False),
    sa.Column('supervisor_id', sa.Integer(), nullable=False),
    sa.Column('wellbeing', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['counsellor_id'], ['staff.id'], name=op.f('fk_debriefs_counsellor_id_staff')),
    sa.ForeignKeyConstraint(['supervisor_id'], ['staff.id'], name=op.f('fk_debriefs_supervisor_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debriefs'))
    )
    with op.batch_alter_table('debriefs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_debriefs_day'), ['day'], unique=False)

    op.create_table('disclosures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('asked_by', sa.Integer(), nullable=False),
    sa.Column('asked_reason', sa.String(length=32), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_reason', sa.String(length=32), nullable=True),
    sa.Column('referral_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.Column('decided_at', helpline.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['asked_by'], ['staff.id'], name=op.f('fk_disclosures_asked_by_staff')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_disclosures_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by'], ['staff.id'], name=op.f('fk_disclosures_decided_by_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosures'))
    )
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosures_conversation_id'), ['conversation_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosures_conversation_id'))

    op.drop_table('disclosures')
    with op.batch_alter_table('debriefs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_debriefs_day'))

    op.drop_table('debriefs')
