"""referral reports: public reports of illegal content become referrals with no staff creator

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=12), nullable=False, server_default='helpline'))
        batch_op.add_column(sa.Column('report_code_hash', sa.String(length=64), nullable=True))
        batch_op.alter_column('created_by',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_referrals_report_code_hash'), ['report_code_hash'])


def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_referrals_report_code_hash'), type_='unique')
        batch_op.alter_column('created_by',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('report_code_hash')
        batch_op.drop_column('source')

