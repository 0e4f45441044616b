"""Fixtures of the Python package's tests: the `sentinel` binary the
package is compared with, the shipped sample and a generated 200,000-line
world (made once a session)."""

import os
import pathlib
import subprocess

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SAMPLE = REPO / "datasets" / "sample.csv"


def large_text(t: pa.Table) -> pa.Table:
    """The command line's Parquet output reads back with text as
    string_view, which few pyarrow kernels take; the package hands text
    back as large_string. The same values either way."""
    return t.cast(
        pa.schema(
            [
                pa.field(f.name, pa.large_string()) if pa.types.is_string_view(f.type) else f
                for f in t.schema
            ]
        )
    )


def _binary() -> pathlib.Path:
    """The command line built from the same tree: $SENTINEL_BIN, else the
    release build in $CARGO_TARGET_DIR (or the repository's target/)."""
    if os.environ.get("SENTINEL_BIN"):
        return pathlib.Path(os.environ["SENTINEL_BIN"])
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "release" / "sentinel"


@pytest.fixture(scope="session")
def sentinel_bin() -> pathlib.Path:
    b = _binary()
    assert b.exists(), f"{b} is missing: build it with `cargo build --release` (or set SENTINEL_BIN)"
    return b


@pytest.fixture(scope="session")
def cli(sentinel_bin, tmp_path_factory):
    """Runs `sentinel score` on a file (Parquet output) and returns the
    scored table."""
    out_dir = tmp_path_factory.mktemp("cli")

    def score(path, *flags):
        out = out_dir / f"{pathlib.Path(path).stem}-{len(os.listdir(out_dir))}.parquet"
        subprocess.run(
            [str(sentinel_bin), "score", str(path), "--out", str(out), "--quiet", *flags],
            check=False,
            capture_output=True,
        )
        assert out.exists(), f"sentinel score {path} wrote nothing"
        return large_text(pq.read_table(out))

    return score


@pytest.fixture(scope="session")
def world(sentinel_bin, tmp_path_factory) -> pathlib.Path:
    """A generated world of 200,000 lines (seed 7), as CSV."""
    p = tmp_path_factory.mktemp("world") / "world.csv"
    subprocess.run(
        [str(sentinel_bin), "generate", "--rows", "200000", "--seed", "7", "--out", str(p)],
        check=True,
        capture_output=True,
    )
    return p
