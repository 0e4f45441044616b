#!/usr/bin/env bash
# #17's case figures: a 200,000-line world with the New Jersey scenario
# (`generate --rows 200000 --seed 2 --scenario nj-warehouse`) scored at a 1%
# budget with the default model (or MODEL=DIR). Prints how many cases the
# budget yields, how many of them hold more than one flagged line, how the
# ring's flagged lines fall into cases, and how many honest lines (flagged,
# and below the flag line) the ring's cases hold.
#
#     bash benches/cases.sh              # SEED=2 ROWS=200000 BUDGET=1% SENTINEL=binary
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${SENTINEL_TARGET_DIR:-${HOME:-/root}/.cache/sentinel-target}}"
cargo build --release --quiet --bin sentinel
S="${SENTINEL:-$CARGO_TARGET_DIR/release/sentinel}"
DIR=${DIR:-$(mktemp -d)}
mkdir -p "$DIR"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$DIR"' EXIT
variant=()
[ -n "${VARIANT:-}" ] && variant=(--variant "$VARIANT")
"$S" generate --rows "${ROWS:-200000}" --seed "${SEED:-2}" "${variant[@]}" --scenario nj-warehouse --out "$DIR/world.csv" -q
model=()
[ -n "${MODEL:-}" ] && model=(--model "$MODEL")
"$S" score "$DIR/world.csv" "${model[@]}" --budget "${BUDGET:-1%}" --keep-columns --out "$DIR/scored.csv" -q
"$S" cases "$DIR/scored.csv" --input "$DIR/world.csv" --out "$DIR/cases.csv" -q
python3 - "$DIR/scored.csv" "$DIR/cases.csv" <<'PY'
import csv, sys, collections
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
cases = list(csv.DictReader(open(sys.argv[2], newline="")))
flagged = [r for r in rows if r["flagged"] == "true"]
multi = sum(1 for c in cases if int(c["flagged_lines"]) > 1)
print(f"flagged {len(flagged)} of {len(rows)} lines; {len(cases)} cases, {multi} of more than one flagged line; "
      f"largest {max((int(c['flagged_lines']) for c in cases), default=0)} flagged lines")
ring = [r for r in rows if r["typology"] == "nj_warehouse"]
ring_flagged = [r for r in ring if r["flagged"] == "true"]
by_case = collections.Counter(r["case_id"] for r in ring_flagged)
top = by_case.most_common(2)
held = sum(n for _, n in top)
print(f"NJ lines {len(ring)}, flagged {len(ring_flagged)}, in {len(by_case)} cases {dict(by_case)}; "
      f"the largest two hold {held} ({held / max(len(ring_flagged), 1):.1%})")
for cid, _ in top:
    members = [r for r in rows if r["case_id"] == cid]
    honest_flagged = sum(1 for r in members if r["flagged"] == "true" and r["label"] == "0")
    honest_below = sum(1 for r in members if r["flagged"] != "true" and r["label"] == "0")
    other_fraud = sum(1 for r in members if r["label"] == "1" and r["typology"] != "nj_warehouse")
    ring_below = sum(1 for r in members if r["flagged"] != "true" and r["typology"] == "nj_warehouse")
    print(f"  case {cid}: {len(members)} lines; honest {honest_flagged} flagged + {honest_below} below the line; "
          f"other schemes {other_fraud}; ring lines below the line {ring_below}")
in_case = sum(1 for r in rows if r["case_id"])
print(f"lines carrying a case id: {in_case} ({in_case / len(rows):.1%})")
PY
