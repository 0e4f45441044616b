#!/usr/bin/env bash
# The analyst who starts with no labels (issue #28): weekly inspection
# rounds from no label at all (benches/cold_start.py), on the public customs
# data (2020 then 2021Q1, 5% of each week) and on a generated world with the
# New Jersey scenario (1% of each week). Each week: the analyst's pick
# (sentinel on what has been inspected so far, 10% explored at random),
# random picks, and a model trained on every earlier label. Reads
# ../shared/data/kcd/ (or KCD=DIR) when it is there.
#
#     bash benches/cold-start.sh        # WORLDS="kcd nj" ROWS=50000 SENTINEL=binary
set -euo pipefail
cd "$(dirname "$0")/.."
KCD=${KCD:-../shared/data/kcd}
ROWS=${ROWS:-50000}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${SENTINEL_TARGET_DIR:-${HOME:-/root}/.cache/sentinel-target}}"
cargo build --release --quiet --bin sentinel
S="${SENTINEL:-$CARGO_TARGET_DIR/release/sentinel}"
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
for world in ${WORLDS:-kcd nj}; do
  case $world in
    kcd)
      if [ ! -f "$KCD/train-2020.csv" ]; then
        echo "benches/cold-start.sh: no customs data in $KCD (set KCD=DIR)" >&2
        continue
      fi
      echo "== KCD: 2020 then 2021Q1, 5% of each week"
      python3 benches/cold_start.py --sentinel "$S" --mapping datasets/mappings/kcd.toml \
        --label Fraud --date Date --id "Declaration ID" --budget 0.05 --oracle \
        "$KCD/train-2020.csv" "$KCD/valid-2021q1.csv"
      ;;
    nj)
      echo "== generated world of $ROWS lines with the New Jersey scenario, 1% of each week"
      "$S" generate --rows "$ROWS" --seed 2 --scenario nj-warehouse --out "$DIR/nj.csv" -q
      python3 benches/cold_start.py --sentinel "$S" --budget 0.01 --oracle \
        --typology typology "$DIR/nj.csv"
      ;;
  esac
done
