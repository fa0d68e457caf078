"""messages: a client id is unique per sender, not per conversation

Revision ID: 0006f
Revises: 0005
Create Date: 2026-12-04

The child and a counsellor choose their frame ids independently; with the id unique per
conversation a counsellor whose id equalled one of the child's was answered with the child's
message and her words were dropped (issue 17).
"""

from __future__ import annotations

from alembic import op


revision = '0006f'
down_revision = '0006d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint('uq_messages_client_id', type_='unique')
        batch_op.create_unique_constraint('uq_messages_sender_client_id', ['conversation_id', 'sender', 'client_id'])


def downgrade() -> None:
    # Fails if a conversation holds the same client id from two senders: those rows are both real.
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint('uq_messages_sender_client_id', type_='unique')
        batch_op.create_unique_constraint('uq_messages_client_id', ['conversation_id', 'client_id'])
