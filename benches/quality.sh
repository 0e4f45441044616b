#!/usr/bin/env bash
# The GPU quality protocol: train on a 200,000-line world without the New
# Jersey scenario (seed 1), evaluate on another world with it (seed 2), for
# the risk model's seeds 1, 2 and 3 (SEEDS), and print each run and the
# mean. One seed alone moves PR-AUC by about 0.007 and the New Jersey recall
# by about 0.03 (docs/quality.md), more than most changes worth measuring.
#
#     bash benches/quality.sh            # SEEDS="1 2 3" ROWS=200000 SENTINEL=binary
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-200000}
SEEDS=${SEEDS:-1 2 3}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${SENTINEL_TARGET_DIR:-${HOME:-/root}/.cache/sentinel-target}}"
cargo build --release --quiet --bin sentinel
S="${SENTINEL:-$CARGO_TARGET_DIR/release/sentinel}"
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
"$S" generate --rows "$ROWS" --seed 1 --out "$DIR/train.csv" -q
"$S" generate --rows "$ROWS" --seed 2 --scenario nj-warehouse --out "$DIR/test.csv" -q
for seed in $SEEDS; do
  "$S" train --data "$DIR/train.csv" --out "$DIR/m$seed" --seed "$seed" -q
  "$S" evaluate "$DIR/test.csv" --model "$DIR/m$seed" --json --no-baseline > "$DIR/e$seed.json"
done
python3 - "$DIR" $SEEDS <<'PY'
import json, sys
d, seeds = sys.argv[1], sys.argv[2:]
rows = []
for s in seeds:
    r = json.load(open(f"{d}/e{s}.json"))
    for name in ("model",):
        m = r.get(name)
        if not m:
            continue
        at1 = next(b["recall"] for b in m["at_budget"] if b["budget_percent"] == 1.0)
        nj1 = m["recall_by_typology"]["nj_warehouse"]["recall_at_1pct"]
        rows.append((name, s, m["pr_auc"], at1, nj1))
        print(f"seed {s} {name:>10}: PR-AUC {m['pr_auc']:.3f}, recall at 1% {at1:.3f}, nj_warehouse at 1% {nj1:.3f}")
for name in ("model",):
    sel = [r for r in rows if r[0] == name]
    if sel:
        k = len(sel)
        print(f"mean {name:>10} over {k} seeds: PR-AUC {sum(r[2] for r in sel) / k:.3f}, "
              f"recall at 1% {sum(r[3] for r in sel) / k:.3f}, nj_warehouse at 1% {sum(r[4] for r in sel) / k:.3f}")
PY
