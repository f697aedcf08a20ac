#!/usr/bin/env bash
# Benchmark of the static check (issue: revision-graph lint): median wall time and peak RSS of
# `driftlint check` on synthetic trees of 1,000, 5,000 and 20,000 revisions, beside
# `alembic heads` on the same trees.
#
#   bash bench/static.sh            # all sizes
#   SIZES="5000" RUNS=20 bash bench/static.sh
#
# Needs hyperfine and GNU time (Debian packages `hyperfine`, `time`) and .venv with alembic
# (scripts/test creates it). Trees are generated once into bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
SIZES="${SIZES:-1000 5000 20000}"
RUNS="${RUNS:-15}"
ALEMBIC_RUNS="${ALEMBIC_RUNS:-3}"
cargo build --release --quiet
bin="$PWD/target/release/driftlint"
alembic="$PWD/.venv/bin/alembic"
mkdir -p bench/out
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -m), $(date -u +%Y-%m-%d)"
printf '| revisions | check (graph + replay) | with expectations | peak RSS | alembic heads | speed-up |\n|---|---|---|---|---|---|\n'
for n in $SIZES; do
  tree="bench/out/tree-$n"
  [ -d "$tree/versions" ] || python3 bench/gen_tree.py "$tree" "$n" >/dev/null
  # Expectations covering every table the tree creates, written by driftlint itself.
  [ -f "$tree/expectations.yaml" ] || "$bin" init --migrations "$tree" -o "$tree/expectations.yaml" 2>/dev/null
  json="bench/out/driftlint-$n.json"
  # Run from bench/out, which has no expectations of its own for check to pick up.
  (cd bench/out && hyperfine --style none -N --warmup 3 --runs "$RUNS" -i --export-json "$root/$json" \
    "$bin check --migrations tree-$n" \
    "$bin check --migrations tree-$n --expectations tree-$n/expectations.yaml" >/dev/null)
  ours=$(python3 -c "import json,sys; print(json.load(open('$json'))['results'][0]['median'])")
  withexp=$(python3 -c "import json,sys; print(json.load(open('$json'))['results'][1]['median'])")
  rss=$( { /usr/bin/time -f '%M' "$bin" check --migrations "$tree" --expectations "$tree/expectations.yaml" >/dev/null; } 2>&1 | tail -1)
  theirs="n/a"; ratio="n/a"
  if [ -x "$alembic" ]; then
    ajson="bench/out/alembic-$n.json"
    (cd "$tree" && hyperfine --style none --warmup 1 --runs "$ALEMBIC_RUNS" -i --export-json "$root/$ajson" "$alembic heads" >/dev/null)
    theirs=$(python3 -c "import json; print(json.load(open('$ajson'))['results'][0]['median'])")
    ratio=$(python3 -c "print(f'{$theirs/$ours:.0f}x')")
    theirs=$(python3 -c "print(f'{$theirs*1000:.0f} ms')")
  fi
  printf '| %s | %.1f ms | %.1f ms | %.1f MB | %s | %s |\n' "$n" "$(python3 -c "print($ours*1000)")" "$(python3 -c "print($withexp*1000)")" "$(python3 -c "print($rss/1024)")" "$theirs" "$ratio"
done
