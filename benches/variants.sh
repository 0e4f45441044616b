#!/usr/bin/env bash
# The cross-variant protocol (issue #15): train on variants 0-3 of the
# generated world (50,000 lines each, no New Jersey scenario), evaluate on
# variant 9 (200,000 lines, with it), supervised and label-free; then the
# embedded default model on the same variant 9.
#
#     bash benches/variants.sh       # ROWS=50000 TEST_ROWS=200000 SEED=1
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-50000}
TEST_ROWS=${TEST_ROWS:-200000}
SEED=${SEED:-1}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${SENTINEL_TARGET_DIR:-${HOME:-/root}/.cache/sentinel-target}}"
cargo build --release --quiet --bin sentinel
S="${SENTINEL:-$CARGO_TARGET_DIR/release/sentinel}"
DIR=${DIR:-$(mktemp -d)}
[ -n "${KEEP:-}" ] || trap 'rm -rf "$DIR"' EXIT
train=()
for v in 0 1 2 3; do
  [ -s "$DIR/v$v.csv" ] || "$S" generate --rows "$ROWS" --seed $((100 + v)) --variant "$v" --out "$DIR/v$v.csv" -q
  train+=(--data "$DIR/v$v.csv")
done
[ -s "$DIR/v9.csv" ] || "$S" generate --rows "$TEST_ROWS" --seed 9 --variant 9 --scenario nj-warehouse --out "$DIR/v9.csv" -q
"$S" train "${train[@]}" --out "$DIR/m" --seed "$SEED" -q --force
"$S" evaluate "$DIR/v9.csv" --model "$DIR/m" --json --no-baseline > "$DIR/sup.json"
"$S" evaluate "$DIR/v9.csv" --model "$DIR/m" --json --no-baseline --ignore-labels > "$DIR/free.json"
"$S" evaluate "$DIR/v9.csv" --model models/default --json --no-baseline > "$DIR/default.json" || echo "{}" > "$DIR/default.json"
python3 - "$DIR" <<'PY'
import json, sys
d = sys.argv[1]
for name, f in (("variants 0-3, supervised", "sup"), ("variants 0-3, label-free", "free"), ("embedded default model", "default")):
    m = json.load(open(f"{d}/{f}.json")).get("model")
    if not m:
        print(f"{name:>28}: (no figures: the model is of another feature set)")
        continue
    at1 = next(b["recall"] for b in m["at_budget"] if b["budget_percent"] == 1.0)
    nj1 = m["recall_by_typology"]["nj_warehouse"]["recall_at_1pct"]
    typ = ", ".join(f"{k} {v['recall_at_1pct']:.2f}" for k, v in sorted(m["recall_by_typology"].items()))
    print(f"{name:>28}: PR-AUC {m['pr_auc']:.3f}, recall at 1% {at1:.3f}, nj_warehouse at 1% {nj1:.3f}  [{typ}]")
PY
