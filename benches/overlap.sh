#!/usr/bin/env bash
# Daily batches against one monthly batch (issue #17): the busiest month of
# a 200,000-line world with the New Jersey scenario (seed 2) is scored with
# the default model as one run and as daily runs in date order, each way on
# a party store (`score --parties`) that starts new (WARM=0) or holds every
# earlier line of the world, scored as one run (WARM=1, as a store does
# after months of daily use), both at a 1% budget. Prints how many lines
# each way flags, how many of them both flag, and the New Jersey and other
# scheme lines each way finds.
#
#     bash benches/overlap.sh            # ROWS=200000 SEED=2 WARM=0 MODEL=models/default SENTINEL=binary
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-200000}
SEED=${SEED:-2}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${SENTINEL_TARGET_DIR:-${HOME:-/root}/.cache/sentinel-target}}"
cargo build --release --quiet --bin sentinel
S="${SENTINEL:-$CARGO_TARGET_DIR/release/sentinel}"
MODEL=(${MODEL:+--model "$MODEL"})
DIR=${DIR:-$(mktemp -d)}
[ -n "${KEEP:-}" ] || trap 'rm -rf "$DIR"' EXIT
[ -s "$DIR/world.csv" ] || "$S" generate --rows "$ROWS" --seed "$SEED" --scenario nj-warehouse --out "$DIR/world.csv" -q
rm -rf "$DIR/days" "$DIR"/*.db "$DIR"/month*.csv "$DIR"/before*.csv
mkdir -p "$DIR/days"
python3 - "$DIR" <<'PY'
import csv, collections, sys
d = sys.argv[1]
with open(f"{d}/world.csv", newline="") as f:
    r = csv.reader(f)
    header = next(r)
    rows = list(r)
at = header.index("export_date")
month = collections.Counter(x[at][:7] for x in rows).most_common(1)[0][0]
all_rows = rows
rows = [x for x in rows if x[at].startswith(month)]
def write(path, part):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(part)
write(f"{d}/before.csv", [x for x in all_rows if x[at][:7] < month])
write(f"{d}/month.csv", rows)
for day in sorted({x[at] for x in rows}):
    write(f"{d}/days/{day}.csv", [x for x in rows if x[at] == day])
print(f"month {month}: {len(rows)} lines")
PY
if [ "${WARM:-0}" = 1 ]; then
  "$S" score "$DIR/before.csv" "${MODEL[@]}" --parties "$DIR/month.db" --out "$DIR/before-scored.csv" -q
  cp "$DIR/month.db" "$DIR/days.db"
fi
"$S" score "$DIR/month.csv" "${MODEL[@]}" --parties "$DIR/month.db" --budget 1% --out "$DIR/month-scored.csv" -q
for f in "$DIR"/days/*.csv; do
  case "$f" in *-scored.csv) continue ;; esac
  "$S" score "$f" "${MODEL[@]}" --parties "$DIR/days.db" --budget 1% --out "${f%.csv}-scored.csv" -q
done
python3 - "$DIR" <<'PY'
import csv, glob, sys
d = sys.argv[1]
def scored(paths):
    out = {}
    for p in paths:
        with open(p, newline="") as f:
            for r in csv.DictReader(f):
                out[r["shipment_id"]] = (r["flagged"] == "true", float(r["risk_score"]))
    return out
def top(s, k):
    return set(sorted(s, key=lambda x: (-s[x][1], x))[:k])
truth = {}
with open(f"{d}/month.csv", newline="") as f:
    for r in csv.DictReader(f):
        truth[r["shipment_id"]] = r.get("typology", "")
m = scored([f"{d}/month-scored.csv"])
ds = scored(sorted(glob.glob(f"{d}/days/*-scored.csv")))
month = {k for k, v in m.items() if v[0]}
nj = {k for k, t in truth.items() if t == "nj_warehouse"}
other = {k for k, t in truth.items() if t and t != "nj_warehouse"}
# Two ways to read the days: each day's own 1% (what a daily desk
# inspects), and the month's budget spent on the days' scores pooled (the
# same number of lines as the month flags: the rankings compared).
for name, days in (("1% of each day", {k for k, v in ds.items() if v[0]}),
                   ("the days' scores pooled, top as many as the month", top(ds, len(month)))):
    both = month & days
    print(f"{name}: month {len(month)}, days {len(days)}, both {len(both)}; "
          f"overlap {len(both) / max(len(month), 1):.3f} of the month's, {len(both) / max(len(days), 1):.3f} of the days'; "
          f"nj_warehouse of {len(nj)}: month {len(month & nj)}, days {len(days & nj)}; "
          f"other schemes of {len(other)}: month {len(month & other)}, days {len(days & other)}")
PY
