#!/usr/bin/env bash
# Seeded benchmarks: generator, reader (check), end-to-end score against the
# polars floor (read + write the same CSV), and peak memory of score on a
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
echo "== polars floor: read + write the same CSV"
T "$F" "$DIR/w.csv" "$DIR/floor.csv"
echo "== score $ROWS rows (embedded model, CSV in and out)"
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
