"""staff: the first name a child sees (child_name), apart from the username and display name

Revision ID: 0006b
Revises: 0005
Create Date: 2026-12-04

Existing accounts get NULL: children then see the page's neutral word ("Këshilltar/e") until an
admin sets a first name. The display name is not copied, since the CLI set it to the username
(ADR 0019).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006b'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('child_name', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('child_name')
