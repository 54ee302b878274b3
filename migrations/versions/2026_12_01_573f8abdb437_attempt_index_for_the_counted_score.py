"""attempt index for the counted score

The statistics take each expected person's highest submitted score with one probe of
the attempt table (stats/queries.counted_score); with the status and score in this
index the probe reads the index alone, not the attempt's row (a city's year of exams:
200,000 probes). It costs one more index entry per attempt, written at the start and
rewritten at the submit.

Revision ID: 573f8abdb437
Revises: 9c1f8936ae55
Create Date: 2026-12-01 21:57:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '573f8abdb437'
down_revision = '9c1f8936ae55'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_attempt_quiz_person_status_score', 'attempt',
                    ['quiz_id', 'person_id', 'status', 'score'], unique=False)


def downgrade():
    op.drop_index('ix_attempt_quiz_person_status_score', table_name='attempt')
