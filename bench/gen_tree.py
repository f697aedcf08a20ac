#!/usr/bin/env python3
"""Writes a synthetic Alembic project for benchmarks: N revision files with realistic
upgrade() bodies (create_table, add_column, alter_column, indexes, batch mode, raw SQL), in
one main line with short-lived feature branches that are merged back (merge revisions with
tuple down_revisions), in the two header styles real projects use.

    python3 bench/gen_tree.py OUT_DIR N [--seed S]

OUT_DIR gets alembic.ini, env.py (offline-safe, never connects) and versions/.
"""
import argparse
import os
import random

HEADER_PLAIN = '''"""{message}

Revision ID: {rev}
Revises: {revises}
Create Date: 2025-01-01 00:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None

'''

HEADER_TYPED = '''"""{message}

Revision ID: {rev}
Revises: {revises}
Create Date: 2025-01-01 00:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = {rev!r}
down_revision: Union[str, Sequence[str], None] = {down!r}
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

'''

TYPES = [
    "sa.Integer()", "sa.BigInteger()", "sa.String(length=120)", "sa.Text()", "sa.Boolean()",
    "sa.DateTime()", "sa.DateTime(timezone=True)", "sa.Numeric(10, 2)", "sa.Date()",
    "postgresql.JSONB(astext_type=sa.Text())", "sa.Float()", "sa.String(length=32)",
]


def body(rng, n, tables):
    """One upgrade() body; tables is the list of tables created so far (mutated)."""
    kind = rng.random()
    lines = []
    if kind < 0.3 or not tables:
        t = f"table_{n}"
        tables.append(t)
        cols = [
            "        sa.Column('id', sa.Integer(), nullable=False),",
        ]
        for c in range(rng.randint(3, 7)):
            ty = rng.choice(TYPES).replace("postgresql.", "sa.dialects.postgresql.")
            cols.append(f"        sa.Column('col_{c}', {ty}, nullable={rng.choice(['True', 'False'])}),")
        lines.append(f"    op.create_table(\n        {t!r},")
        lines.extend(cols)
        lines.append("        sa.PrimaryKeyConstraint('id'),\n    )")
        lines.append(f"    op.create_index(op.f('ix_{t}_col_0'), {t!r}, ['col_0'], unique=False)")
    elif kind < 0.6:
        t = rng.choice(tables)
        lines.append(f"    with op.batch_alter_table({t!r}, schema=None) as batch_op:")
        lines.append(f"        batch_op.add_column(sa.Column('extra_{n}', sa.String(length=64), nullable=True))")
        lines.append(f"        batch_op.create_index(batch_op.f('ix_{t}_extra_{n}'), ['extra_{n}'], unique=False)")
    elif kind < 0.8:
        t = rng.choice(tables)
        lines.append(f"    op.add_column({t!r}, sa.Column('flag_{n}', sa.Boolean(), server_default=sa.false(), nullable=False))")
        lines.append(f"    op.execute(\"UPDATE {t} SET flag_{n} = false\")")
        lines.append(f"    op.alter_column({t!r}, 'flag_{n}', server_default=None)")
    else:
        t = rng.choice(tables)
        lines.append(f"    op.execute(\"ALTER TABLE {t} ADD COLUMN note_{n} text\")")
        lines.append(f"    op.create_unique_constraint('uq_{t}_note_{n}', {t!r}, ['note_{n}'])")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    versions = os.path.join(args.out, "versions")
    os.makedirs(versions, exist_ok=True)
    with open(os.path.join(args.out, "alembic.ini"), "w") as f:
        f.write("[alembic]\nscript_location = %(here)s\n")
    with open(os.path.join(args.out, "env.py"), "w") as f:
        f.write("# Never run by `alembic heads`.\n")
    tables = []
    head = None
    n = 0
    while n < args.n:
        # Now and then a feature branch: two or three revisions beside the main line,
        # then a merge revision with a tuple down_revision.
        if head is not None and rng.random() < 0.05 and n + 6 < args.n:
            side, main = head, head
            # Each branch sees only the tables that exist on it; after the merge, both sets.
            side_tables = list(tables)
            for _ in range(rng.randint(1, 3)):
                side = write(versions, rng, n, side, side_tables); n += 1
                main = write(versions, rng, n, main, tables); n += 1
            tables.extend(t for t in side_tables if t not in tables)
            head = write(versions, rng, n, (main, side), tables, merge=True); n += 1
        else:
            head = write(versions, rng, n, head, tables); n += 1


def write(versions, rng, n, down, tables, merge=False):
    rev = f"{rng.getrandbits(48):012x}"
    message = "merge heads" if merge else f"change {n}"
    template = HEADER_TYPED if n % 2 else HEADER_PLAIN
    revises = ", ".join(down) if isinstance(down, tuple) else (down or "")
    text = template.format(message=message, rev=rev, revises=revises, down=down)
    text += "\ndef upgrade():\n"
    text += ("    pass\n" if merge else body(rng, n, tables) + "\n")
    text += "\n\ndef downgrade():\n    pass\n"
    with open(os.path.join(versions, f"{rev}_{message.replace(' ', '_')}.py"), "w") as f:
        f.write(text)
    return rev


if __name__ == "__main__":
    main()
