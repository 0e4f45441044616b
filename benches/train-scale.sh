#!/usr/bin/env bash
# Training at scale (#18): time and peak memory of `train` on a 1M-line and
# a BIG-line world (default 10M), both without the New Jersey scenario, and
# their models' quality on the #3 protocol's test world (200,000 lines,
# seed 2, with it). The 1M-line model trains on every row (--negatives all);
# the big one with the default sampling. Prints one line per run and the
# PR-AUC difference, overall and without the ring's lines (the New Jersey
# scheme, which neither training world holds: docs/quality.md, "Training at
# 10M").
#
#     bash benches/train-scale.sh          # BIG=10000000 SEED=1 KEEP=dir
set -euo pipefail
cd "$(dirname "$0")/.."
BIG=${BIG:-10000000}
SEED=${SEED:-1}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${SENTINEL_TARGET_DIR:-${HOME:-/root}/.cache/sentinel-target}}"
cargo build --release --quiet --bin sentinel
S=${SENTINEL:-$CARGO_TARGET_DIR/release/sentinel}
DIR=${KEEP:-$(mktemp -d)}
mkdir -p "$DIR"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$DIR"' EXIT
[ -f "$DIR/1m.csv" ] || "$S" generate --rows 1000000 --seed 1 --out "$DIR/1m.csv" -q
[ -f "$DIR/big.csv" ] || "$S" generate --rows "$BIG" --seed 3 --out "$DIR/big.csv" -q
[ -f "$DIR/test.csv" ] || "$S" generate --rows 200000 --seed 2 --scenario nj-warehouse --out "$DIR/test.csv" -q

run() { # name, then train's arguments
  local name=$1
  shift
  /usr/bin/time -f "%e %M" -o "$DIR/$name.time" "$S" train --force -q --seed "$SEED" --out "$DIR/$name" "$@"
  "$S" evaluate "$DIR/test.csv" --model "$DIR/$name" --json --no-baseline > "$DIR/$name.json"
  # The test world scored in full, for the PR-AUC without the ring (a
  # scheme no training world holds).
  "$S" score "$DIR/test.csv" --model "$DIR/$name" --budget top:1 --out "$DIR/$name.scored.csv" -q
  python3 - "$DIR" "$name" <<'PY'
import csv, json, sys
d, name = sys.argv[1], sys.argv[2]
wall, kb = open(f"{d}/{name}.time").read().split()
m = json.load(open(f"{d}/{name}.json"))["model"]
at1 = next(b["recall"] for b in m["at_budget"] if b["budget_percent"] == 1.0)
nj1 = m["recall_by_typology"]["nj_warehouse"]["recall_at_1pct"]
man = json.load(open(f"{d}/{name}/manifest.json"))
s = man.get("sampling") or {}
truth = {r["shipment_id"]: (r["label"] in ("1", "1.0"), r["typology"]) for r in csv.DictReader(open(f"{d}/test.csv"))}
risk = [(float(r["risk_score"]), truth[r["shipment_id"]]) for r in csv.DictReader(open(f"{d}/{name}.scored.csv"))]
risk = sorted(((r, pos) for r, (pos, t) in risk if t != "nj_warehouse"), key=lambda x: -x[0])
hits, ap = 0, 0.0
for i, (_, pos) in enumerate(risk, 1):
    if pos:
        hits += 1
        ap += hits / i
without = ap / max(hits, 1)
json.dump({"pr_auc": m["pr_auc"], "without_ring": without}, open(f"{d}/{name}.figures.json", "w"))
print(f"{name:>8}: train {float(wall):7.1f} s, peak {int(kb) / 1048576:5.2f} GB, rows {man['training_rows']}, "
      f"negatives kept {s.get('negatives_kept')} of {s.get('negatives_seen')}; "
      f"PR-AUC {m['pr_auc']:.4f}, without the ring {without:.4f}, recall at 1% {at1:.3f}, nj_warehouse at 1% {nj1:.3f}")
PY
}
run full1m --data "$DIR/1m.csv" --negatives all
run big --data "$DIR/big.csv"
python3 - "$DIR" <<'PY'
import json, sys
d = sys.argv[1]
a = json.load(open(f"{d}/full1m.figures.json"))
b = json.load(open(f"{d}/big.figures.json"))
print(f"PR-AUC sampled big minus full 1M: {b['pr_auc'] - a['pr_auc']:+.4f}; "
      f"without the ring: {b['without_ring'] - a['without_ring']:+.4f} (issue #28: within 0.01)")
PY
