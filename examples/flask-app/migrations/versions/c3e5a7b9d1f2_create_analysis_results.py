"""create analysis_results

Revision ID: c3e5a7b9d1f2
Revises: 8b1d3e5f7a90
Create Date: 2025-11-20 11:05:27.004518

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = 'c3e5a7b9d1f2'
down_revision: Union[str, None] = '8b1d3e5f7a90'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'analysis_results',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.Enum('pending', 'done', 'failed', name='analysis_status'), nullable=False),
        sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_analysis_results_submission_id', 'analysis_results', ['submission_id'])


def downgrade() -> None:
    op.drop_index('ix_analysis_results_submission_id', table_name='analysis_results')
    op.drop_table('analysis_results')
    sa.Enum(name='analysis_status').drop(op.get_bind(), checkfirst=False)
