"""question category confidential (保密 / 考试专用, inherited by subcategories)

Revision ID: 1a27db3fbdc6
Revises: 4d4fe5b27278
Create Date: 2026-12-01 11:46:40.794348

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1a27db3fbdc6'
down_revision = '4d4fe5b27278'
branch_labels = None
depends_on = None


def upgrade():
    # sa.false() renders FALSE on PostgreSQL (a boolean) and 0 on SQLite; existing
    # categories are not confidential.
    with op.batch_alter_table('question_category', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_confidential', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('question_category', schema=None) as batch_op:
        batch_op.drop_column('is_confidential')
