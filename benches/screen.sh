#!/usr/bin/env bash
# Restricted-party screening (issue #29): quality of `sentinel screen` on
# generated worlds against their own synthetic lists (pairwise precision and
# recall, per line and per party, by how the list spells each party:
# benches/screen_quality.py), what `score --list` costs over `score` on the
# first world (five alternated runs, medians), then screen's speed on BIG
# lines (default 10M) against a list padded to ENTRIES entries (default
# 20,000), each with an alias.
#
#     bash benches/screen.sh   # ROWS=1000000 WORLDS="1 2 3 4:9" BIG=10000000 ENTRIES=20000
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
WORLDS=${WORLDS:-1 2 3 4:9}
BIG=${BIG:-10000000}
ENTRIES=${ENTRIES:-20000}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${SENTINEL_TARGET_DIR:-${HOME:-/root}/.cache/sentinel-target}}"
cargo build --release --quiet --bin sentinel
S="${SENTINEL:-$CARGO_TARGET_DIR/release/sentinel}"
DIR=${KEEP:-$(mktemp -d)}
mkdir -p "$DIR"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$DIR"' EXIT
first=""
for world in $WORLDS; do
  # SEED or SEED:VARIANT
  seed=${world%%:*}
  variant=""
  [ "$seed" = "$world" ] || variant="--variant ${world#*:}"
  echo "== quality: $ROWS lines (seed $seed ${variant}, New Jersey scenario) against the world's own list"
  "$S" generate --rows "$ROWS" --seed "$seed" $variant --scenario nj-warehouse --out "$DIR/w$seed.csv" --list-out "$DIR/list$seed.csv" -q
  "$S" screen "$DIR/w$seed.csv" --list "$DIR/list$seed.csv" --out "$DIR/m$seed.csv"
  python3 benches/screen_quality.py "$DIR/w$seed.csv" "$DIR/list$seed.truth.csv" "$DIR/m$seed.csv"
  [ -n "$first" ] || first=$seed
done
echo "== score vs score --list on $ROWS lines (seed $first) with its list: five alternated runs"
for i in 1 2 3 4 5; do
  /usr/bin/time -f "%e" -a -o "$DIR/t-plain" "$S" score "$DIR/w$first.csv" --out "$DIR/s0.csv" -q
  /usr/bin/time -f "%e" -a -o "$DIR/t-list" "$S" score "$DIR/w$first.csv" --out "$DIR/s1.csv" -q --list "$DIR/list$first.csv"
done
python3 - "$DIR/t-plain" "$DIR/t-list" <<'PY'
import statistics, sys
a = [float(x) for x in open(sys.argv[1])]
b = [float(x) for x in open(sys.argv[2])]
ma, mb = statistics.median(a), statistics.median(b)
print(f"  score {sorted(a)} median {ma:.2f} s; score --list {sorted(b)} median {mb:.2f} s: +{100 * (mb / ma - 1):.1f}%")
PY
if [ "$BIG" -gt 0 ]; then
  echo "== speed: $BIG lines against $ENTRIES entries"
  [ -s "$DIR/big.csv" ] || "$S" generate --rows "$BIG" --seed 3 --out "$DIR/big.csv" -q
  python3 - "$DIR/list$first.csv" "$DIR/big-list.csv" "$ENTRIES" <<'PY'
import csv, random, sys
src, dst, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = list(csv.reader(open(src, newline="")))
header, body = rows[0], rows[1:]
name_at, alias_at = header.index("name"), header.index("alt_names")
words = sorted({w for r in body for w in r[name_at].split() if w.isalpha()})
rng = random.Random(1)
syll = ["ka", "zo", "ve", "tru", "mi", "lo", "dra", "qui", "sha", "bex", "nor", "pel"]
def made_up():
    return "".join(rng.choice(syll) for _ in range(rng.randint(2, 3))).capitalize()
out = csv.writer(open(dst, "w", newline=""))
out.writerow(header)
for r in body:
    out.writerow(r)
for i in range(max(0, want - len(body))):
    r = [""] * len(header)
    r[0], r[1] = f"pad-{i}", "padding"
    r[name_at] = f"{made_up()} {' '.join(rng.sample(words, 2))} Ltd"
    r[alias_at] = f"{made_up()} Holdings"
    r[header.index("addresses")] = f"{rng.randint(1, 999)} Harbour Rd, {rng.choice(['HK', 'SG', 'MY', 'AE', 'CN'])}"
    out.writerow(r)
PY
  /usr/bin/time -f "  %e s wall, peak RSS %M KB" "$S" screen "$DIR/big.csv" --list "$DIR/big-list.csv" --out "$DIR/big-m.csv"
fi
