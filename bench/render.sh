#!/usr/bin/env bash
# Rendering many findings: one revision file whose `down_revision` tuple names N revisions that no
# file defines (one line of about 10 bytes per parent), so `check` reports N `missing-parent`
# findings, all pointing into that one long line. Times `check` in each output format and prints
# the median wall time, the median CPU time (user + sys) and the median peak RSS.
#
#   bash bench/render.sh                     # N=100000, 5 runs per format
#   N=10000 RUNS=3 FORMATS="human json" bash bench/render.sh
#   BIN=/path/to/other/driftlint bash bench/render.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-100000}"
RUNS="${RUNS:-5}"
FORMATS="${FORMATS:-human json sarif github}"
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN="$PWD/target/release/driftlint"
fi
dir="bench/out/render-$N"
if [ ! -f "$dir/versions/a1.py" ]; then
  mkdir -p "$dir/versions"
  python3 - "$dir/versions/a1.py" "$N" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
parents = ", ".join(f"'m{i:07d}'" for i in range(n))
with open(path, "w") as f:
    f.write(f"revision = 'a1'\ndown_revision = ({parents})\n\n\ndef upgrade():\n    pass\n")
PY
fi
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '| findings | format | wall (median) | user+sys (median) | peak RSS (median) | output |\n|---|---|---|---|---|---|\n'
for format in $FORMATS; do
  samples=$(mktemp)
  for _ in $(seq "$RUNS"); do
    # The exit code is 1 (findings); the output goes to a file so the terminal costs nothing.
    /usr/bin/time -f '%e %U %S %M' -o "$samples.one" \
      "$BIN" check --migrations "$dir/versions" --format "$format" >"$samples.out" || true
    cat "$samples.one" >>"$samples"
  done
  wall=$(awk '{ print $1 }' "$samples" | median)
  cpu=$(awk '{ print $2 + $3 }' "$samples" | median)
  rss=$(awk '{ print $4 / 1024 }' "$samples" | median)
  size=$(wc -c <"$samples.out")
  printf '| %s | %s | %.2f s | %.2f s | %.0f MB | %s bytes |\n' "$N" "$format" "$wall" "$cpu" "$rss" "$size"
  rm -f "$samples" "$samples.one" "$samples.out"
done
