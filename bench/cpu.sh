#!/usr/bin/env bash
# CPU time, peak memory and (optionally) instruction counts of `driftlint check` on the synthetic
# trees, for a machine whose wall-clock times are noise because others share its cores:
#
#   bash bench/cpu.sh                       # 1,000 / 5,000 / 20,000 revisions, 9 runs each
#   SIZES="5000" RUNS=15 bash bench/cpu.sh
#   INSTRUCTIONS=1 SIZES="5000" bash bench/cpu.sh
#   BIN=/path/to/other/driftlint bash bench/cpu.sh   # compare another build on the same trees
#
# For each tree it runs the check without expectations (graph rules only) and with the tree's
# expectations.yaml (lowering, replay and the expectation rules), and prints the median user,
# system and total CPU time (GNU time counts in steps of 10 ms, so use enough runs) and the median
# peak RSS. With INSTRUCTIONS=1 it also counts the instructions of one run under callgrind, with
# RAYON_NUM_THREADS=1 so that the count does not depend on how the threads were scheduled (idle
# rayon workers spin). Trees and their expectations are made as bench/static.sh makes them.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES="${SIZES:-1000 5000 20000}"
RUNS="${RUNS:-9}"
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN="$PWD/target/release/driftlint"
fi
mkdir -p bench/out
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '| revisions | expectations | user | sys | user+sys | peak RSS | instructions |\n|---|---|---|---|---|---|---|\n'
for n in $SIZES; do
  tree="bench/out/tree-$n"
  [ -d "$tree/versions" ] || python3 bench/gen_tree.py "$tree" "$n" >/dev/null
  [ -f "$tree/expectations.yaml" ] || "$BIN" init --migrations "$tree" -o "$tree/expectations.yaml" 2>/dev/null
  for with in no yes; do
    args=(check --migrations "tree-$n")
    [ "$with" = yes ] && args+=(--expectations "tree-$n/expectations.yaml")
    samples=$(mktemp)
    # Run from bench/out, which has no expectations of its own for check to pick up.
    for _ in $(seq "$RUNS"); do
      (cd bench/out && /usr/bin/time -f '%U %S %M' -o "$samples.one" "$BIN" "${args[@]}" >/dev/null) || true
      cat "$samples.one" >>"$samples"
    done
    user=$(awk '{ print $1 * 1000 }' "$samples" | median)
    sys=$(awk '{ print $2 * 1000 }' "$samples" | median)
    total=$(awk '{ print ($1 + $2) * 1000 }' "$samples" | median)
    rss=$(awk '{ print $3 / 1024 }' "$samples" | median)
    instructions="-"
    if [ "${INSTRUCTIONS:-0}" = 1 ]; then
      log=$(mktemp)
      (cd bench/out && RAYON_NUM_THREADS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$BIN" "${args[@]}" >/dev/null 2>"$log") || true
      instructions=$(grep -oP 'Collected : \K[0-9]+' "$log" | awk '{ printf "%.0f M", $1 / 1e6 }')
      rm -f "$log"
    fi
    rm -f "$samples" "$samples.one"
    printf '| %s | %s | %.0f ms | %.0f ms | %.0f ms | %.1f MB | %s |\n' \
      "$n" "$with" "$user" "$sys" "$total" "$rss" "$instructions"
  done
done
