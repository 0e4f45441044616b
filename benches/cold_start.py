#!/usr/bin/env python3
"""The analyst who starts with no labels (issue #28): weekly inspection rounds.

The lines of FILES are taken in date order, week by week. Each week the
analyst inspects a share (--budget) of the week's lines chosen with
sentinel: a model trained on the earlier weeks' lines, with only the labels
of the lines inspected so far revealed (label-free until the revealed lines
hold positives and negatives: `sentinel train` decides), and with
--explore of the picks drawn at random from the rest, as the review desk
does. The inspected lines' labels are revealed and the next week starts.
Week 0 is chosen by a label-free model trained on week 0's own lines.

Against it, each week: random selection (the week's base rate) and a model
trained on every label of the earlier weeks (--oracle). Prints one row per
week and a summary; writes the rows as CSV with --csv.

    python3 benches/cold_start.py --sentinel BIN --label Fraud --date Date \\
        --id "Declaration ID" --mapping datasets/mappings/kcd.toml \\
        --budget 0.05 --oracle train-2020.csv valid-2021q1.csv
"""

import argparse
import csv
import datetime
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time


def read_rows(files):
    header, rows = None, []
    for f in files:
        with open(f, newline="") as fh:
            rd = csv.reader(fh)
            h = next(rd)
            if header is None:
                header = h
            elif h != header:
                sys.exit(f"{f}: another header than {files[0]}")
            rows.extend(rd)
    return header, rows


def write(path, header, rows):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def run(cmd):
    """Runs sentinel; exit 3 (rows rejected) is a success."""
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 3):
        sys.exit(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stderr}")


def train(args, path, out, extra=()):
    cmd = [args.sentinel, "train", "--data", path, "--out", out, "--force", "-q", *extra]
    if args.mapping:
        cmd += ["--mapping", args.mapping]
    run(cmd)


def ranked(args, model, path, work):
    """The week's shipment ids, best first."""
    out = os.path.join(work, "scored.csv")
    run([args.sentinel, "score", path, "--model", model, "--out", out, "--budget", "top:1", "-q"])
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows.sort(key=lambda r: int(r["rank"]))
    return [r["shipment_id"] for r in rows]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--sentinel", required=True)
    ap.add_argument("--mapping")
    ap.add_argument("--label", default="label", help="the label column as the file names it")
    ap.add_argument("--date", default="export_date")
    ap.add_argument("--id", default="shipment_id")
    ap.add_argument("--typology", help="a ground-truth column; reports when each value is first caught")
    ap.add_argument("--budget", type=float, default=0.05, help="share of each week's lines inspected")
    ap.add_argument("--explore", type=float, default=0.1, help="share of the picks drawn at random")
    ap.add_argument("--oracle", action="store_true", help="also a model trained on every earlier label")
    ap.add_argument("--weeks", type=int, default=0, help="stop after this many weeks (0: all)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--csv", help="write the weekly rows here")
    ap.add_argument("--train-args", default="", help="more arguments for the analyst's `sentinel train` (as --train-args=\"--party-outcomes\")")
    args = ap.parse_args()

    header, rows = read_rows(args.files)
    col = {n: i for i, n in enumerate(header)}
    for n in (args.label, args.date, args.id) + ((args.typology,) if args.typology else ()):
        if n not in col:
            sys.exit(f"no column {n!r} in {args.files[0]}")
    li, di, ii = col[args.label], col[args.date], col[args.id]
    day = lambda r: datetime.date.fromisoformat(r[di][:10])
    rows.sort(key=day)
    first = day(rows[0])
    weeks = {}
    for r in rows:
        weeks.setdefault((day(r) - first).days // 7, []).append(r)
    order = sorted(weeks)
    if args.weeks:
        order = order[: args.weeks]
    label_of = {r[ii]: r[li] for r in rows}
    positive = lambda sid: label_of.get(sid, "") in ("1", "1.0")
    revealed = set()
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="cold-start-")
    # An uninspected line shows none of its truth: the label and the
    # generator's ground-truth columns (train reads true_category).
    hidden = [col[n] for n in (args.label, "true_category", "typology", "usppi_entity") if n in col]

    def blank(r, keep):
        if keep:
            return r
        r = list(r)
        for i in hidden:
            r[i] = ""
        return r

    out = []
    found = {"cold": 0, "oracle": 0, "random": 0.0}
    total_pos = 0
    caught, seen = {}, {}
    started = time.time()
    earlier = []
    print(f"{'week':>4} {'lines':>6} {'pos':>5} {'picked':>6} {'cold':>6} {'oracle':>6} {'random':>6} {'found':>6} {'o.found':>7} {'mode':>10}")
    for w in order:
        week = weeks[w]
        n = len(week)
        k = max(1, math.ceil(args.budget * n))
        pos = sum(positive(r[ii]) for r in week)
        total_pos += pos
        week_path = os.path.join(work, "week.csv")
        write(week_path, header, [blank(r, False) for r in week])
        # The analyst's model: earlier weeks with the revealed labels only.
        train_rows = [blank(r, r[ii] in revealed) for r in earlier] if earlier else [blank(r, False) for r in week]
        train_path = os.path.join(work, "train.csv")
        write(train_path, header, train_rows)
        model = os.path.join(work, "cold")
        train(args, train_path, model, args.train_args.split())
        with open(os.path.join(model, "manifest.json")) as fh:
            mode = json.load(fh)["mode"]
        ids = ranked(args, model, week_path, work)
        n_explore = min(round(k * args.explore), max(0, len(ids) - k))
        picked = ids[: k - n_explore]
        rest = ids[k - n_explore :]
        picked += rng.sample(rest, n_explore) if n_explore else []
        hits = sum(positive(s) for s in picked)
        revealed.update(picked)
        found["cold"] += hits
        found["random"] += pos * k / n
        if args.typology:
            ti = col[args.typology]
            by_id = {r[ii]: r[ti] for r in week}
            for t in set(by_id.values()) - {""}:
                seen.setdefault(t, w)
            for s in picked:
                t = by_id.get(s, "")
                if t and positive(s) and t not in caught:
                    caught[t] = w
        o_prec = float("nan")
        if args.oracle and earlier and sum(positive(r[ii]) for r in earlier) >= 5:
            write(train_path, header, earlier)
            train(args, train_path, os.path.join(work, "oracle"))
            top = ranked(args, os.path.join(work, "oracle"), week_path, work)[:k]
            o_hits = sum(positive(s) for s in top)
            found["oracle"] += o_hits
            o_prec = o_hits / k
        row = {
            "week": w,
            "lines": n,
            "positives": pos,
            "picked": k,
            "cold_precision": hits / k,
            "oracle_precision": o_prec,
            "random_precision": pos / n,
            "cold_found": found["cold"] / max(total_pos, 1),
            "oracle_found": found["oracle"] / max(total_pos, 1) if args.oracle else float("nan"),
            "random_found": found["random"] / max(total_pos, 1),
            "mode": mode,
        }
        out.append(row)
        print(
            f"{w:>4} {n:>6} {pos:>5} {k:>6} {row['cold_precision']:>6.3f} {o_prec:>6.3f} "
            f"{row['random_precision']:>6.3f} {row['cold_found']:>6.3f} {row['oracle_found']:>7.3f} {mode:>10}",
            flush=True,
        )
        earlier.extend(week)
    later = [r for r in out if r["week"] >= 6]
    mean = lambda k: sum(r[k] for r in later) / max(len(later), 1)
    print(f"\n{len(out)} weeks in {time.time() - started:.0f} s; budget {args.budget:.0%}, explore {args.explore:.0%}")
    print(f"weeks 6+: cold precision {mean('cold_precision'):.3f}, random {mean('random_precision'):.3f}", end="")
    if args.oracle:
        ok = [r for r in later if r["oracle_precision"] == r["oracle_precision"]]
        ratio = [r["cold_precision"] >= 0.8 * r["oracle_precision"] for r in ok]
        print(f", oracle {mean('oracle_precision'):.3f}; cold >= 0.8 x oracle in {sum(ratio)} of {len(ok)} weeks", end="")
    below = sum(r["cold_precision"] <= r["random_precision"] for r in out)
    print(f"; at or below random in {below} of {len(out)} weeks")
    print(f"found by the end: cold {out[-1]['cold_found']:.3f}, random {out[-1]['random_found']:.3f}", end="")
    print(f", oracle {out[-1]['oracle_found']:.3f}" if args.oracle else "")
    if args.typology:
        for t, first in sorted(seen.items(), key=lambda x: x[1]):
            w = caught.get(t)
            when = f"first caught in week {w}, round {order.index(w) - order.index(first) + 1} of its lines" if w is not None else "never caught"
            print(f"  {t}: first line in week {first}, {when}")
    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            wr = csv.DictWriter(fh, fieldnames=list(out[0]))
            wr.writeheader()
            wr.writerows(out)


if __name__ == "__main__":
    main()
