#!/usr/bin/env bash
# Seeded benchmarks: generator, reader (check), end-to-end score against the
# polars floor (read + write the same CSV; RUNS alternated runs, medians), and peak memory of score on a
# large batch from a file and from stdin. Sizes: ROWS (default 1,000,000)
# and BIG (default 10,000,000). Needs GNU time (/usr/bin/time).
#
#     bash benches/bench.sh            # ROWS=1000000 BIG=10000000
#     ROWS=200000 BIG=0 bash benches/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
BIG=${BIG:-10000000}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${SENTINEL_TARGET_DIR:-${HOME:-/root}/.cache/sentinel-target}}"
cargo build --release --quiet --bin sentinel --example polars_floor
S="$CARGO_TARGET_DIR/release/sentinel"
F="$CARGO_TARGET_DIR/release/examples/polars_floor"
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
T() { /usr/bin/time -f "  %e s wall, %U s user, peak RSS %M KB" "$@"; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB, $(uname -m)"
echo "== generate $ROWS rows (seed 1)"
T "$S" generate --rows "$ROWS" --seed 1 --scenario nj-warehouse --out "$DIR/w.csv" -q
ls -l "$DIR/w.csv" | awk '{printf "  %.0f MB\n", $5/1e6}'
echo "== check (read + validate) $ROWS rows"
T "$S" check "$DIR/w.csv" -q
echo "== score $ROWS rows against the polars floor (read + write the same CSV), ${RUNS:-5} alternated runs"
floors=(); scores=()
for i in $(seq "${RUNS:-5}"); do
  s0=$(date +%s.%N); "$F" "$DIR/w.csv" "$DIR/floor.csv" >/dev/null; s1=$(date +%s.%N)
  "$S" score "$DIR/w.csv" --out "$DIR/scored.csv" -q; s2=$(date +%s.%N)
  floors+=("$(awk -v a="$s0" -v b="$s1" 'BEGIN {printf "%.2f", b - a}')")
  scores+=("$(awk -v a="$s1" -v b="$s2" 'BEGIN {printf "%.2f", b - a}')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mf=$(median "${floors[@]}"); ms=$(median "${scores[@]}")
echo "  floor: ${floors[*]} s; median $mf s"
echo "  score: ${scores[*]} s; median $ms s"
echo "  score / floor: $(awk -v s="$ms" -v f="$mf" 'BEGIN {printf "%.2f", s / f}')x (target 2.0x)"
echo "== one score run with its passes (SENTINEL_TIMINGS) and peak memory"
SENTINEL_TIMINGS=1 T "$S" score "$DIR/w.csv" --out "$DIR/scored.csv" --summary-json "$DIR/s.json" -q 2>&1 | sed 's/^/  /'
grep -E '"(seconds|rows_per_second)"' "$DIR/s.json" | sed 's/^/  /'
rm -f "$DIR/scored.csv" "$DIR/floor.csv"
if [ "$BIG" -gt 0 ]; then
  echo "== generate $BIG rows"
  T "$S" generate --rows "$BIG" --seed 2 --out "$DIR/big.csv" -q
  ls -l "$DIR/big.csv" | awk '{printf "  %.0f MB\n", $5/1e6}'
  echo "== score $BIG rows from a file (peak RSS is the figure)"
  T "$S" score "$DIR/big.csv" --out "$DIR/big-scored.csv" --summary-json "$DIR/b.json" -q
  grep -E '"(seconds|rows_per_second)"' "$DIR/b.json" | sed 's/^/  /'
  rm -f "$DIR/big-scored.csv"
  echo "== score $BIG rows from stdin"
  T bash -c "cat '$DIR/big.csv' | '$S' score - --out '$DIR/big-scored.csv' -q"
fi
