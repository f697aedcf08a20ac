#!/usr/bin/env bash
# Benchmark of the live check (issue: live check): a database of TABLES tables (8 columns, a
# serial primary key, ROWS rows each) built by real Alembic, then the median wall time of
# `driftlint check --database-url` (migrations replayed + database read + every rule), beside
# SQLAlchemy's bulk reflection (`get_multi_columns` + `get_multi_pk_constraint`) in the same run.
#
#   bash bench/live.sh                 # 1,000 tables x 10,000 rows
#   TABLES=200 ROWS=1000 bash bench/live.sh
#
# Starts its own throwaway cluster on 127.0.0.1 (as the postgres user when run as root) and
# removes it afterwards. Needs hyperfine and .venv (scripts/test creates it).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
TABLES="${TABLES:-1000}"
ROWS="${ROWS:-10000}"
RUNS="${RUNS:-15}"
cargo build --release --quiet
bin="$root/target/release/driftlint"
py="$root/.venv/bin/python"
pgbin="$(pg_config --bindir)"
work="$(mktemp -d /tmp/driftlint-bench-XXXXXX)"
chmod 755 "$work"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$work"
cleanup() { as_pg "$pgbin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$pgbin/initdb" -D "$work/data" -A trust -U postgres >/dev/null
as_pg "$pgbin/pg_ctl" -D "$work/data" -l "$work/log" -o "-h 127.0.0.1 -p $port -k $work -c fsync=off -c synchronous_commit=off -c full_page_writes=off" -w start >/dev/null
url="postgresql://postgres@127.0.0.1:$port/bench"
psql -q -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE bench" postgres
project="$work/project"
python3 bench/gen_wide_project.py "$project" "$TABLES"
(cd "$project" && DATABASE_URL="$url" "$root/.venv/bin/alembic" upgrade head >/dev/null 2>&1)
# Fill every table in one statement per table, generated server-side.
psql -q -h 127.0.0.1 -p "$port" -U postgres bench >/dev/null <<SQL
DO \$\$
DECLARE t text;
BEGIN
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' LOOP
    EXECUTE format('INSERT INTO %I (name, email, score, amount, active, created_at, payload)
                    SELECT ''n'' || g, ''e'' || g || ''@example.org'', g, g / 100.0, mod(g, 2) = 0, now(), NULL
                    FROM generate_series(1, $ROWS) g', t);
  END LOOP;
END \$\$;
ANALYZE;
SQL
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -m), PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}'), $(date -u +%Y-%m-%d)"
echo "database: $TABLES tables x 8 columns, serial primary keys, $ROWS rows each"
# Expectations for every table, so the expectation rules run live too; run from the work
# directory so that no other expectations are found.
"$bin" init --migrations "$project" -o "$project/expectations.yaml" 2>/dev/null
cd "$work"
check="$bin check --migrations $project --expectations $project/expectations.yaml --database-url $url"
$check --format json > "$work/out.json" || true
python3 -c "import json; d=json.load(open('$work/out.json')); print('findings:', d['summary'], sorted({f['rule'] for f in d['findings']}))"
hyperfine --style none -N --warmup 2 --runs "$RUNS" --export-json "$work/h.json" -i \
  "$check" >/dev/null
ours=$(python3 -c "import json; print(json.load(open('$work/h.json'))['results'][0]['median'])")
theirs=()
for _ in $(seq 5); do theirs+=("$("$py" "$root/bench/reflect.py" "$url" | awk '{print $1}')"); done
median=$(printf '%s\n' "${theirs[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
printf '| driftlint check (full live check) | %.0f ms |\n' "$(python3 -c "print($ours*1000)")"
printf '| SQLAlchemy get_multi_columns + get_multi_pk_constraint | %.0f ms |\n' "$(python3 -c "print($median*1000)")"
