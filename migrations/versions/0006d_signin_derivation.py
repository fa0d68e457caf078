"""staff sign-in derivation: which verifier and key sealing an account has (ADR 0021)

Revision ID: 0006d
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006d'
down_revision = '0006b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every account that exists now is legacy (1): it moves over at its next sign-in.
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signin_version', sa.SmallInteger(), server_default='1', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('signin_version')
