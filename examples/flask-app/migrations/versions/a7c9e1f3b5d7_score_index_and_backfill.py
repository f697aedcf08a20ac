"""score index and backfill

Revision ID: a7c9e1f3b5d7
Revises: e5a7c9d1f3b5
Create Date: 2026-03-03 17:48:31.220945

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c9e1f3b5d7'
down_revision = 'e5a7c9d1f3b5'
branch_labels = None
depends_on = None

SCORED_TABLES = ['submissions', 'analysis_results']


def upgrade():
    op.create_index(op.f('ix_submissions_score'), 'submissions', ['score'], unique=False)
    for table in SCORED_TABLES:
        op.add_column(table, sa.Column('score_version', sa.SmallInteger(), nullable=True))
    op.execute("UPDATE submissions SET score = 0 WHERE score IS NULL")


def downgrade():
    for table in SCORED_TABLES:
        op.drop_column(table, 'score_version')
    op.drop_index(op.f('ix_submissions_score'), table_name='submissions')
