"""add guest flags to users

Revision ID: 8b1d3e5f7a90
Revises: 4f2a9c1b7d3e
Create Date: 2025-10-02 16:40:03.992711

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8b1d3e5f7a90'
down_revision = '4f2a9c1b7d3e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_guest', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('is_test_account', sa.Boolean(), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('is_test_account')
        batch_op.drop_column('is_guest')
