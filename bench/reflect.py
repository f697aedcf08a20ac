#!/usr/bin/env python3
"""SQLAlchemy's bulk reflection of columns and primary keys, timed: the comparison point for the
live-check benchmark.

    python3 bench/reflect.py URL
"""
import sys
import time

from sqlalchemy import create_engine, inspect

engine = create_engine(sys.argv[1])
start = time.perf_counter()
with engine.connect() as connection:
    insp = inspect(connection)
    columns = insp.get_multi_columns(schema="public")
    keys = insp.get_multi_pk_constraint(schema="public")
elapsed = time.perf_counter() - start
print(f"{elapsed:.4f} {len(columns)} {len(keys)}")
