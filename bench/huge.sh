#!/usr/bin/env bash
# Hostile and huge input: deep nesting, long operator chains, NUL bytes, huge SQL strings,
# thousands of missing parents, large and deep expectations files. Each case is generated in a
# temporary directory and run RUNS times (default 3) under /usr/bin/time -v; the table shows the
# exit code, the median wall time and the median peak RSS, and the memory target of issue 13
# (20 x the input size + 100 MB).
#
#   bash bench/huge.sh
#   RUNS=5 CASES="chain-1m expect-10mb" bash bench/huge.sh
#   BIN=/path/to/driftlint bash bench/huge.sh
#
# Exit codes: 0 or 1 are answers (1: findings); 2 is a clear error (for example a file over the
# size limit); 101 is a panic and 134 a stack overflow, which must never appear.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN="$PWD/target/release/driftlint"
fi
ALL="chain-20k chain-1m unary-30k unary-100k subscript-30k subscript-100k brackets-100k
module-chain-50k module-chain-1m nul-8mb nul-10mb sql-7mb-one sql-7mb-many parents-10k
expect-cols-40k expect-10mb expect-deep-100k expect-100mb"
CASES="${CASES:-$ALL}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# gen KIND N DIR: writes DIR/versions/a1.py (and DIR/expectations.yaml) for one case.
gen() {
  python3 - "$@" <<'EOF'
import os, sys
kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(os.path.join(out, "versions"), exist_ok=True)
head = '"""m"""\nfrom alembic import op\nimport sqlalchemy as sa\nrevision = "a1"\ndown_revision = None\n'
def rev(text, mode="w"):
    with open(os.path.join(out, "versions", "a1.py"), mode) as f:
        f.write(text)
def exp(text):
    with open(os.path.join(out, "expectations.yaml"), "w") as f:
        f.write(text)
exp("version: 1\ntables:\n  t:\n    columns: [id]\n")
table = '    op.create_table("t", sa.Column("id", sa.Integer))\n'
if kind == "chain":
    rev(head + "def upgrade():\n    x = " + " + ".join(['"a"'] * n) + "\n" + table)
elif kind == "unary":
    rev(head + "def upgrade():\n    x = " + "-" * n + "1\n" + table)
elif kind == "subscript":
    rev(head + "def upgrade():\n    x = a" + "[0]" * n + "\n" + table)
elif kind == "brackets":
    rev(head + "def upgrade():\n    x = " + "[" * n + "]" * n + "\n" + table)
elif kind == "module-chain":
    rev(head + "X = " + " + ".join(['"a"'] * n) + "\ndef upgrade():\n" + table)
elif kind == "nul":
    rev(b"\0" * n, "wb")
elif kind == "sql-one":
    # One INSERT with many rows, in one string literal.
    rows = []
    size = 0
    i = 0
    while size < n:
        row = "(%d, 'name %d')" % (i, i)
        rows.append(row)
        size += len(row) + 2
        i += 1
    rev(head + "def upgrade():\n" + table + "    op.execute(\"INSERT INTO t (id, name) VALUES " + ", ".join(rows) + "\")\n")
elif kind == "sql-many":
    stmt = "CREATE TABLE IF NOT EXISTS t (id integer); "
    rev(head + "def upgrade():\n" + table + "    op.execute(\"" + stmt * (n // len(stmt)) + "\")\n")
elif kind == "parents":
    rev('revision = "a1"\ndown_revision = (' + ", ".join('"p%011d"' % i for i in range(n)) + ")\n")
elif kind == "expect-cols":
    exp("version: 1\ntables:\n  t:\n    columns:\n" + "".join("      c%d: integer\n" % i for i in range(n)))
    rev(head + "def upgrade():\n" + table)
elif kind == "expect-size":
    parts = ["version: 1\ntables:\n"]
    size = 0
    i = 0
    while size < n:
        s = "  table_%d:\n    columns:\n      id: integer\n      name: text\n      email: varchar(120)\n" % i
        parts.append(s)
        size += len(s)
        i += 1
    exp("".join(parts))
    rev(head + "def upgrade():\n" + table)
elif kind == "expect-deep":
    exp("version: 1\ntables:\n  t: " + "[" * n + "]" * n + "\n")
    rev(head + "def upgrade():\n" + table)
EOF
}

case_args() {
  case "$1" in
    chain-20k) echo "chain 20000" ;;
    chain-1m) echo "chain 1000000" ;;
    unary-30k) echo "unary 30000" ;;
    unary-100k) echo "unary 100000" ;;
    subscript-30k) echo "subscript 30000" ;;
    subscript-100k) echo "subscript 100000" ;;
    brackets-100k) echo "brackets 100000" ;;
    module-chain-50k) echo "module-chain 50000" ;;
    module-chain-1m) echo "module-chain 1000000" ;;
    nul-8mb) echo "nul 8000000" ;;
    nul-10mb) echo "nul 10000000" ;;
    sql-7mb-one) echo "sql-one 7000000" ;;
    sql-7mb-many) echo "sql-many 7000000" ;;
    parents-10k) echo "parents 10000" ;;
    expect-cols-40k) echo "expect-cols 40000" ;;
    expect-10mb) echo "expect-size 10000000" ;;
    expect-deep-100k) echo "expect-deep 100000" ;;
    expect-100mb) echo "expect-size 100000000" ;;
    *) echo "unknown case $1" >&2; exit 2 ;;
  esac
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '| case | input | exit | findings | wall (median) | peak RSS (median) | RSS target |\n'
printf '|---|---|---|---|---|---|---|\n'
for name in $CASES; do
  dir="$work/$name"
  # shellcheck disable=SC2046
  gen $(case_args "$name") "$dir"
  input=$(du -cb "$dir/versions/a1.py" "$dir/expectations.yaml" | tail -1 | cut -f1)
  walls=$(mktemp)
  rsss=$(mktemp)
  code=0
  for _ in $(seq "$RUNS"); do
    set +e
    (cd "$dir" && /usr/bin/time -v -o "$dir/time.txt" "$BIN" check --migrations versions \
      --expectations expectations.yaml --format json >"$dir/out.json" 2>"$dir/err.txt")
    code=$?
    set -e
    # time -v prints "Elapsed (wall clock) time (h:mm:ss or m:ss): M:SS.ss".
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$dir/time.txt" >>"$walls"
    awk -F': ' '/Maximum resident set size/ { print $2 }' "$dir/time.txt" >>"$rsss"
  done
  findings=$(grep -c '"rule"' "$dir/out.json" || true)
  wall=$(median <"$walls")
  rss_mb=$(median <"$rsss" | awk '{ printf "%.0f", $1 / 1024 }')
  target_mb=$(awk -v b="$input" 'BEGIN { printf "%.0f", 20 * b / 1048576 + 100 }')
  printf '| %s | %s B | %s | %s | %.2f s | %s MB | %s MB |\n' \
    "$name" "$input" "$code" "$findings" "$wall" "$rss_mb" "$target_mb"
  rm -f "$walls" "$rsss"
  rm -rf "$dir"
done
