"""Scoring a partitioned Parquet dataset with Ray Data on a local cluster
(two scoring actors): every partition's rows as `sentinel score` gives
them for that partition's file, row for row."""

import pathlib
import subprocess

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from conftest import large_text

import ray
import ray.data

from sentinel.cluster import ScoreBatches


@pytest.fixture(scope="module")
def days(sentinel_bin, tmp_path_factory) -> pathlib.Path:
    """Eight days of filings (80,000 lines), one Parquet file a day."""
    d = tmp_path_factory.mktemp("days")
    world = d / "world.parquet"
    subprocess.run(
        [str(sentinel_bin), "generate", "--rows", "80000", "--seed", "11", "--days", "8",
         "--start", "2025-03-01", "--out", str(world)],
        check=True,
        capture_output=True,
    )
    t = large_text(pq.read_table(world))
    world.unlink()
    parts = d / "parts"
    parts.mkdir()
    dates = t.column("export_date")
    for day in pc.unique(dates).to_pylist():
        pq.write_table(t.filter(pc.equal(dates, pa.scalar(day, dates.type))), parts / f"{day}.parquet")
    return parts


def test_ray_scores_each_partition_as_the_command_line(days, cli):
    files = sorted(days.glob("*.parquet"))
    assert len(files) == 8
    # Two scoring actors of one CPU each, and room for the read tasks
    # beside them (with only two CPUs the actors would take both and the
    # reads could never run).
    ray.init(num_cpus=3, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    try:
        # One read task a file, so each partition is one block, handed
        # whole to an actor (Ray's newer Parquet reader packs small files
        # into one read task).
        ray.data.DataContext.get_current().use_datasource_v2 = False
        ds = ray.data.read_parquet(str(days), include_paths=True, override_num_blocks=len(files))
        scored = ds.map_batches(
            ScoreBatches,
            fn_constructor_kwargs={"budget": "1%"},
            compute=ray.data.ActorPoolStrategy(size=2),
            num_cpus=1,
            batch_size=None,
            batch_format="pyarrow",
            zero_copy_batch=True,
        )
        blocks = ray.get(scored.to_arrow_refs())
        got = pa.concat_tables(blocks)
    finally:
        ray.shutdown()
    # Each partition was scored as a batch of its own.
    assert len(blocks) == len(files)
    assert all(len(pc.unique(b.column("path"))) == 1 for b in blocks)
    assert got.num_rows == sum(pq.read_metadata(f).num_rows for f in files)
    paths = got.column("path")
    for f in files:
        part = got.filter(pc.ends_with(paths, f.name)).drop_columns(["path"])
        expected = cli(f)
        assert part.num_rows == expected.num_rows > 0, f.name
        assert part.schema == expected.schema
        assert part.equals(expected), f"{f.name}: Ray's rows differ from `sentinel score`"
        assert pc.sum(part.column("flagged")).as_py() > 0
