"""covering indexes for the report figures

The report's and the statistics pages' passes over a period's attendance (per session,
unit and status) and over an exam's expected participants (per unit, with each person's
attempt) read the rows themselves only for the attendance status and the recipient's
person. Each index gains that column (it replaces the index it extends, whose columns
are its prefix), so the passes read the index alone. Nothing else changes.

Revision ID: 9c1f8936ae55
Revises: 1caf0df4f74b
Create Date: 2026-12-01 21:46:22.140074

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '9c1f8936ae55'
down_revision = '1caf0df4f74b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_attendance_session_unit_status', 'attendance',
                    ['session_id', 'unit_id', 'status'], unique=False)
    op.drop_index('ix_attendance_session_unit', table_name='attendance')
    op.create_index('ix_quiz_recipient_quiz_unit_person', 'quiz_recipient',
                    ['quiz_id', 'unit_id', 'person_id'], unique=False)
    op.drop_index('ix_quiz_recipient_quiz_unit', table_name='quiz_recipient')


def downgrade():
    op.create_index('ix_quiz_recipient_quiz_unit', 'quiz_recipient',
                    ['quiz_id', 'unit_id'], unique=False)
    op.drop_index('ix_quiz_recipient_quiz_unit_person', table_name='quiz_recipient')
    op.create_index('ix_attendance_session_unit', 'attendance',
                    ['session_id', 'unit_id'], unique=False)
    op.drop_index('ix_attendance_session_unit_status', table_name='attendance')
