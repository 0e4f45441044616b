"""Ray Data throughput (issue #30): a generated world of ROWS lines split
into DAYS daily Parquet partitions, scored with `sentinel.cluster.
ScoreBatches` on a local Ray cluster with 1 and then 2 scoring actors
(one CPU each). Prints lines/s and lines/s per core, and the same rows
through `Scorer.score` in this process for comparison.

    python3 benches/ray_throughput.py [ROWS] [DAYS]     # 1000000 8
"""

import os
import subprocess
import sys
import tempfile
import time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import ray
import ray.data

import sentinel
from sentinel.cluster import ScoreBatches

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
days = int(sys.argv[2]) if len(sys.argv) > 2 else 8
target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/sentinel-target"))
binary = os.environ.get("SENTINEL_BIN", os.path.join(target, "release", "sentinel"))
with tempfile.TemporaryDirectory(dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as d:
    world = os.path.join(d, "w.parquet")
    subprocess.run([binary, "generate", "--rows", str(rows), "--seed", "5", "--days", str(days),
                    "--out", world, "-q"], check=True)
    t = pq.read_table(world)
    t = t.cast(pa.schema([pa.field(f.name, pa.large_string()) if pa.types.is_string_view(f.type) else f
                          for f in t.schema]))
    os.unlink(world)
    parts = os.path.join(d, "parts")
    os.mkdir(parts)
    dates = t.column("export_date")
    for day in pc.unique(dates).to_pylist():
        pq.write_table(t.filter(pc.equal(dates, day)), os.path.join(parts, f"{day}.parquet"))
    n_files = len(os.listdir(parts))
    scorer = sentinel.Scorer()
    start = time.perf_counter()
    for f in sorted(os.listdir(parts)):
        scorer.score(pq.read_table(os.path.join(parts, f)))
    local = time.perf_counter() - start
    print(f"{rows} lines in {n_files} partitions; {os.cpu_count()} cores")
    print(f"  in process, partitions one after another: {local:.1f} s, {rows / local:,.0f} lines/s")
    for actors in (1, 2):
        ray.init(num_cpus=actors + 1, include_dashboard=False, log_to_driver=False)
        ray.data.DataContext.get_current().use_datasource_v2 = False
        ray.data.DataContext.get_current().enable_progress_bars = False
        start = time.perf_counter()
        ds = ray.data.read_parquet(parts, include_paths=True, override_num_blocks=n_files)
        out = ds.map_batches(ScoreBatches, compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=1,
                             batch_size=None, batch_format="pyarrow")
        n = sum(b.num_rows for b in ray.get(out.to_arrow_refs()))
        took = time.perf_counter() - start
        ray.shutdown()
        assert n == rows
        print(f"  Ray, {actors} actor(s): {took:.1f} s, {rows / took:,.0f} lines/s, "
              f"{rows / took / min(actors * 2, os.cpu_count()):,.0f} lines/s per core used")
