"""services directory: the public contacts of each service (phone, email, address, web, hours)

Revision ID: 0007h
Revises: 0007d
Create Date: 2026-12-04

Issue 19: the agency directory grows into a services directory that counsellors search and the
child's "more help" page reads; the referral contacts stay where they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import helpline.models

revision = '0007h'
down_revision = '0007a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('service_contacts',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('website', sa.String(length=200), nullable=True),
    sa.Column('hours', sa.String(length=100), nullable=True),
    sa.Column('updated_at', helpline.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_service_contacts_agency_id_agencies'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('agency_id', name=op.f('pk_service_contacts'))
    )


def downgrade() -> None:
    op.drop_table('service_contacts')
