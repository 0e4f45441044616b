#!/usr/bin/env bash
# The public customs data's dev split: train on 2020, score 2021Q1, through
# datasets/mappings/kcd.toml. Prints precision at 5% and 10% inspected and
# PR-AUC, for the supervised model and the label-free score. Reads
# ../shared/data/kcd/ (or KCD=DIR) when it is there; the tool itself never
# reads it.
#
#     bash benches/kcd.sh                # MODES="supervised label-free" SENTINEL=binary
set -euo pipefail
cd "$(dirname "$0")/.."
KCD=${KCD:-../shared/data/kcd}
if [ ! -f "$KCD/train-2020.csv" ] || [ ! -f "$KCD/valid-2021q1.csv" ]; then
  echo "benches/kcd.sh: no customs data in $KCD (set KCD=DIR)" >&2
  exit 2
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${SENTINEL_TARGET_DIR:-${HOME:-/root}/.cache/sentinel-target}}"
cargo build --release --quiet --bin sentinel
S="${SENTINEL:-$CARGO_TARGET_DIR/release/sentinel}"
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
# Exit 3 means some rows were rejected (net mass 0): the rest are used.
ok() { "$@" || [ $? -eq 3 ]; }
for mode in ${MODES:-supervised label-free}; do
  flags=()
  [ "$mode" = label-free ] && flags=(--ignore-labels)
  ok "$S" train --data "$KCD/train-2020.csv" --mapping datasets/mappings/kcd.toml --out "$DIR/m-$mode" "${flags[@]}" -q
  ok "$S" evaluate "$KCD/valid-2021q1.csv" --model "$DIR/m-$mode" --json --no-baseline > "$DIR/e-$mode.json"
  python3 - "$DIR/e-$mode.json" "$mode" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
m = r["model"]
p = {b["budget_percent"]: b["precision"] for b in m["at_budget"]}
print(f"{sys.argv[2]:>11}: rows {r['rows']}, base rate {r['positives'] / r['rows']:.3f}, "
      f"P@5% {p[5.0]:.3f}, P@10% {p[10.0]:.3f}, PR-AUC {m['pr_auc']:.3f}")
PY
done
