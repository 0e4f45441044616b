#!/usr/bin/env bash
# #17's entity resolution, measured: pairwise precision and recall of the
# exporters resolved over a generated world's spellings (name, ID and
# address as filed) against its `usppi_entity` ground truth
# (examples/resolution.rs), for the 200,000-line New Jersey world of #17
# (seed 2), another seed, variant 9, and a million lines.
#
#     bash benches/resolution.sh        # WORLDS="2 3 v9 1m"
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${SENTINEL_TARGET_DIR:-${HOME:-/root}/.cache/sentinel-target}}"
cargo build --release --quiet --bin sentinel --example resolution
S="$CARGO_TARGET_DIR/release/sentinel"
R="$CARGO_TARGET_DIR/release/examples/resolution"
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
for w in ${WORLDS:-2 3 v9 1m}; do
  case "$w" in
    v9) args=(--rows 200000 --seed 9 --variant 9) ;;
    1m) args=(--rows 1000000 --seed 1) ;;
    *) args=(--rows 200000 --seed "$w") ;;
  esac
  "$S" generate "${args[@]}" --scenario nj-warehouse --out "$DIR/w.csv" -q
  echo "== generate ${args[*]} --scenario nj-warehouse"
  "$R" "$DIR/w.csv"
done
