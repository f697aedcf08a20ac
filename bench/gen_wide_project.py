#!/usr/bin/env python3
"""Writes an Alembic project whose one revision creates N tables of 8 columns with a serial
primary key, for the live-check benchmark.

    python3 bench/gen_wide_project.py OUT_DIR N
"""
import os
import sys

out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(os.path.join(out, "versions"), exist_ok=True)
with open(os.path.join(out, "alembic.ini"), "w") as f:
    f.write("[alembic]\nscript_location = %(here)s\n")
with open(os.path.join(out, "env.py"), "w") as f:
    f.write('''import os
from alembic import context
from sqlalchemy import create_engine

engine = create_engine(os.environ["DATABASE_URL"])
with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
''')
lines = [
    '"""create the wide schema"""',
    "from alembic import op",
    "import sqlalchemy as sa",
    "",
    "revision = 'wide000000001'",
    "down_revision = None",
    "branch_labels = None",
    "depends_on = None",
    "",
    "",
    "def upgrade():",
]
for i in range(n):
    lines += [
        f"    op.create_table('t{i:04d}',",
        "        sa.Column('id', sa.Integer(), nullable=False),",
        "        sa.Column('name', sa.String(length=80), nullable=False),",
        "        sa.Column('email', sa.String(length=120), nullable=True),",
        "        sa.Column('score', sa.Integer(), nullable=True),",
        "        sa.Column('amount', sa.Numeric(10, 2), nullable=True),",
        "        sa.Column('active', sa.Boolean(), nullable=False),",
        "        sa.Column('created_at', sa.DateTime(), nullable=False),",
        "        sa.Column('payload', sa.Text(), nullable=True),",
        "        sa.PrimaryKeyConstraint('id'),",
        "    )",
    ]
with open(os.path.join(out, "versions", "wide000000001_create_the_wide_schema.py"), "w") as f:
    f.write("\n".join(lines) + "\n")
