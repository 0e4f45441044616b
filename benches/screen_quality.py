"""Pairwise precision and recall of `sentinel screen` against a generated
world's list truth (issue #29), overall and by spelling kind.

    python3 benches/screen_quality.py WORLD.csv LIST.truth.csv MATCHES.csv

A pair is (shipment_id, role, list_id). Truth: the line's party (its
`usppi_entity` for the exporter, `name|country` for a consignee) is the
entry's. Kind: how the list spells the entry's name against the world's.
The same figures follow per party (role, party, list_id), so that a party
with many lines does not weigh more than one with a few."""
import csv
import sys
from collections import defaultdict

world, truth_path, matches_path = sys.argv[1:4]
csv.field_size_limit(1 << 24)
entry_of = {}  # (role, party) -> (list_id, kind)
for r in csv.DictReader(open(truth_path, newline="")):
    entry_of[(r["role"], r["party"])] = (r["list_id"], r["kind"])
truth = {}  # (shipment, role, list_id) -> kind
party_of = {}  # (shipment, role) -> party
for r in csv.DictReader(open(world, newline="")):
    parties = [
        ("usppi", r["usppi_entity"]),
        ("ultimate_consignee", f"{r['ultimate_consignee_name']}|{r['ultimate_consignee_country']}"),
        ("intermediate_consignee", f"{r['intermediate_consignee_name']}|{r['intermediate_consignee_country']}"),
    ]
    for role, party in parties:
        party_of[(r["shipment_id"], role)] = party
        e = entry_of.get((role, party))
        if e:
            truth[(r["shipment_id"], role, e[0])] = e[1]
found = set()
for r in csv.DictReader(open(matches_path, newline="")):
    found.add((r["shipment_id"], r["role"], r["list_id"]))


def report(what, truth, found):
    tp = len(found & truth.keys())
    print(f"{what}: {len(truth)} true, {len(found)} found, {tp} both: precision {tp / max(1, len(found)):.4f}, recall {tp / max(1, len(truth)):.4f}")
    by = defaultdict(lambda: [0, 0])
    for k, kind in truth.items():
        by[kind][0] += 1
        by[kind][1] += k in found
    for kind, (n, hit) in sorted(by.items()):
        print(f"  {kind:>16}: {n:6d} true, recall {hit / n:.4f}")


report("line pairs", truth, found)
party_truth = {(role, party_of[(s, role)], e): kind for (s, role, e), kind in truth.items()}
party_found = {(role, party_of[(s, role)], e) for (s, role, e) in found}
report("party pairs", party_truth, party_found)
