"""cases: contacts grouped about one child, their team, follow-up tasks, shift handover notes

Revision ID: 0007b
Revises: 0006f
Create Date: 2026-12-04

A case has an owner and a team; the case key is wrapped for each member alone (ADR 0026). A
contact record links to a case with ``case_records.case_id`` and carries its note key sealed
under the case key. Follow-up texts and handover notes are ciphertext.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import helpline.models


revision = '0007b'
down_revision = '0006f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', helpline.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['staff.id'], name=op.f('fk_cases_created_by_staff')),
    sa.ForeignKeyConstraint(['owner_id'], ['staff.id'], name=op.f('fk_cases_owner_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_owner_id'), ['owner_id'], unique=False)

    op.create_table('handover_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('note_keys', sa.JSON(), nullable=False),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.Column('read_at', helpline.models.UTCDateTime(), nullable=True),
    sa.Column('read_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['staff.id'], name=op.f('fk_handover_notes_author_id_staff')),
    sa.ForeignKeyConstraint(['read_by'], ['staff.id'], name=op.f('fk_handover_notes_read_by_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_notes'))
    )
    with op.batch_alter_table('handover_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_notes_created_at'), ['created_at'], unique=False)

    op.create_table('case_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('wrapped_key', sa.String(length=128), nullable=False),
    sa.Column('wrapper_public_key', sa.String(length=64), nullable=False),
    sa.Column('added_by', sa.Integer(), nullable=False),
    sa.Column('added_at', helpline.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['added_by'], ['staff.id'], name=op.f('fk_case_members_added_by_staff')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_members_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_case_members_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_members')),
    sa.UniqueConstraint('case_id', 'staff_id', name='uq_case_members_staff')
    )
    with op.batch_alter_table('case_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_members_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_members_staff_id'), ['staff_id'], unique=False)

    op.create_table('case_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('due_at', helpline.models.UTCDateTime(), nullable=False),
    sa.Column('done_at', helpline.models.UTCDateTime(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', helpline.models.UTCDateTime(), nullable=False),
    sa.Column('notified_at', helpline.models.UTCDateTime(), nullable=True),
    sa.Column('flagged_at', helpline.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_tasks_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['staff.id'], name=op.f('fk_case_tasks_created_by_staff')),
    sa.ForeignKeyConstraint(['owner_id'], ['staff.id'], name=op.f('fk_case_tasks_owner_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_tasks'))
    )
    with op.batch_alter_table('case_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_tasks_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_tasks_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_tasks_owner_id'), ['owner_id'], unique=False)

    with op.batch_alter_table('case_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('case_note_key', sa.String(length=128), nullable=True))
        batch_op.create_index(batch_op.f('ix_case_records_case_id'), ['case_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_case_records_case_id_cases'), 'cases', ['case_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('case_records', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_case_records_case_id_cases'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_case_records_case_id'))
        batch_op.drop_column('case_note_key')
        batch_op.drop_column('case_id')

    with op.batch_alter_table('case_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_tasks_owner_id'))
        batch_op.drop_index(batch_op.f('ix_case_tasks_due_at'))
        batch_op.drop_index(batch_op.f('ix_case_tasks_case_id'))

    op.drop_table('case_tasks')
    with op.batch_alter_table('case_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_members_staff_id'))
        batch_op.drop_index(batch_op.f('ix_case_members_case_id'))

    op.drop_table('case_members')
    with op.batch_alter_table('handover_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handover_notes_created_at'))

    op.drop_table('handover_notes')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_owner_id'))

    op.drop_table('cases')
