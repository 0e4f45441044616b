#!/usr/bin/env bash
# Restricted-party screening (issue #29): quality of `sentinel screen` on a
# generated world against its own synthetic list (pairwise precision and
# recall, by how the list spells each party: benches/screen_quality.py),
# then its speed on BIG lines (default 10M) against a list padded to
# ENTRIES entries (default 20,000), each with an alias.
#
#     bash benches/screen.sh            # ROWS=200000 BIG=10000000 ENTRIES=20000
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-200000}
BIG=${BIG:-10000000}
ENTRIES=${ENTRIES:-20000}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${SENTINEL_TARGET_DIR:-${HOME:-/root}/.cache/sentinel-target}}"
cargo build --release --quiet --bin sentinel
S="${SENTINEL:-$CARGO_TARGET_DIR/release/sentinel}"
DIR=${KEEP:-$(mktemp -d)}
mkdir -p "$DIR"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$DIR"' EXIT
echo "== quality: $ROWS lines (seed 2, New Jersey scenario) against the world's own list"
"$S" generate --rows "$ROWS" --seed 2 --scenario nj-warehouse --out "$DIR/w.csv" --list-out "$DIR/list.csv"
"$S" screen "$DIR/w.csv" --list "$DIR/list.csv" --out "$DIR/m.csv"
python3 benches/screen_quality.py "$DIR/w.csv" "$DIR/list.truth.csv" "$DIR/m.csv"
if [ "$BIG" -gt 0 ]; then
  echo "== speed: $BIG lines against $ENTRIES entries"
  [ -s "$DIR/big.csv" ] || "$S" generate --rows "$BIG" --seed 3 --out "$DIR/big.csv" -q
  python3 - "$DIR/list.csv" "$DIR/big-list.csv" "$ENTRIES" <<'PY'
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
