"""The Python path's cost over the command line, 1M lines held in memory
(issue #30): `Scorer.score` on a pyarrow.Table already read, against
`sentinel score` on the same rows from a file in memory (/dev/shm) to a
file in memory, alternated, medians. Neither side's figure counts reading
the batch from disk; the command line's counts parsing its input and
encoding its output, the package's counts the hand-over both ways.

    python3 benches/python.py [ROWS] [RUNS]      # 1000000 5
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

import pyarrow.parquet as pq

import sentinel

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/sentinel-target"))
binary = os.environ.get("SENTINEL_BIN", os.path.join(target, "release", "sentinel"))
shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
with tempfile.TemporaryDirectory(dir=shm) as d:
    world = os.path.join(d, "w.parquet")
    subprocess.run([binary, "generate", "--rows", str(rows), "--seed", "1", "--scenario", "nj-warehouse",
                    "--out", world, "-q"], check=True)
    table = pq.read_table(world)
    world_csv = os.path.join(d, "w.csv")  # the same world, as CSV
    subprocess.run([binary, "generate", "--rows", str(rows), "--seed", "1", "--scenario", "nj-warehouse",
                    "--out", world_csv, "-q"], check=True)
    scorer = sentinel.Scorer()
    scorer.score(table.slice(0, 1000))  # the model loaded, the library paged in

    def cli(src, out):
        t = time.perf_counter()
        subprocess.run([binary, "score", src, "--out", out, "-q"], check=True)
        return time.perf_counter() - t

    def python():
        t = time.perf_counter()
        scored = scorer.score(table)
        took = time.perf_counter() - t
        assert scored.num_rows == rows
        return took

    c, v, p = [], [], []
    for i in range(runs):
        c.append(cli(world, os.path.join(d, "out.parquet")))
        v.append(cli(world_csv, os.path.join(d, "out.csv")))
        p.append(python())
    mc, mv, mp = statistics.median(c), statistics.median(v), statistics.median(p)
    print(f"rows {rows}, {runs} alternated runs")
    print(f"  sentinel score (Parquet in and out, /dev/shm): {' '.join(f'{x:.2f}' for x in c)}  median {mc:.2f} s")
    print(f"  sentinel score (CSV in and out, /dev/shm):     {' '.join(f'{x:.2f}' for x in v)}  median {mv:.2f} s")
    print(f"  Scorer.score (pyarrow.Table in memory):        {' '.join(f'{x:.2f}' for x in p)}  median {mp:.2f} s")
    print(f"  Python over CLI: {100 * (mp / mc - 1):+.1f}% (Parquet), {100 * (mp / mv - 1):+.1f}% (CSV)")
