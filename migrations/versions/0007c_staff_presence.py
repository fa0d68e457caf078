"""staff_presence: who is on duty, and whose console is gone

Revision ID: 0007c
Revises: 0006f
Create Date: 2026-12-04

The child's page is told whether a counsellor is on duty, and a supervisor may take over a chat
whose counsellor's console has been gone for HELPLINE_TAKEOVER_AFTER_SECONDS (issue 18, ADR 0027).
The new conversation state `message` needs no schema change: the state is a string.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import helpline.models


revision = '0007c'
down_revision = '0007d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff_presence',
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('seen_at', helpline.models.UTCDateTime(), nullable=False),
    sa.Column('left_at', helpline.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_staff_presence_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('staff_id', name=op.f('pk_staff_presence'))
    )


def downgrade() -> None:
    op.drop_table('staff_presence')
