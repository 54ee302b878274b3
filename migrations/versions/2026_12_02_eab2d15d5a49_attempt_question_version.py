"""attempt question version

A counter on each answer row, raised by every save of its response and by a regrade of
its question. A submit reads and grades its answers before it takes SQLite's write lock
and, under the lock, compares the sum of the versions with the sum it graded: a save
that landed in between is never graded stale (it is graded again, under the lock).
Existing rows start at 0.

Revision ID: eab2d15d5a49
Revises: 573f8abdb437
Create Date: 2026-12-02 03:44:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'eab2d15d5a49'
down_revision = '573f8abdb437'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attempt_question', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='0',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('attempt_question', schema=None) as batch_op:
        batch_op.drop_column('version')
