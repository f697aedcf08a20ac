"""invite codes

Revision ID: d4f6b8c0e2a4
Revises: c3e5a7b9d1f2
Create Date: 2026-01-08 08:51:10.377120

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4f6b8c0e2a4'
down_revision = 'c3e5a7b9d1f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('invite_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    # Seed the codes handed out at launch; their ids are fixed because the
    # mobile app shipped with them.
    op.execute(
        """
        INSERT INTO invite_codes (id, code) VALUES
            (1, 'LAUNCH-2026'),
            (2, 'PRESS-2026')
        """
    )


def downgrade():
    op.drop_table('invite_codes')
