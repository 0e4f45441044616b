"""Scoring on a cluster with an existing engine: a callable class for Ray
Data's ``map_batches`` (one :class:`~sentinel.Scorer` an actor, loaded
once), and the same function for Spark's ``mapInArrow`` (see
``docs/scale.md``).

A partition (a day's file) is a batch: its rows are scored together, as
``sentinel score`` scores one file, so the batch's peers, ranks and
budget are the partition's. Read with the partition's path as a column
(Ray: ``read_parquet(..., include_paths=True)``) and the rows of each path
are scored as one batch, even when the engine hands over several
partitions at once. An engine must never split a partition across
batches: give Ray one block per file (``override_num_blocks`` = the number
of files, ``batch_size=None``).
"""

from __future__ import annotations

from typing import Any, Optional

import pyarrow as pa
import pyarrow.compute as pc

from . import Scorer, to_arrow


class ScoreBatches:
    """``map_batches(ScoreBatches, fn_constructor_kwargs=dict(...),
    batch_size=None, batch_format="pyarrow")``: scores each partition of a
    batch and returns the scored rows, the partition column (``path``)
    kept last so the rows can be traced back. Keyword arguments are
    :class:`~sentinel.Scorer`'s, plus ``partition_column`` and
    ``keep_columns``."""

    def __init__(self, partition_column: Optional[str] = "path", keep_columns: bool = False, **scorer: Any) -> None:
        self.scorer = Scorer(**scorer)
        self.partition_column = partition_column
        self.keep_columns = keep_columns

    def __call__(self, batch: Any) -> pa.Table:
        table = to_arrow(batch)
        col = self.partition_column
        if col is None or col not in table.column_names:
            return self.scorer.score(table, keep_columns=self.keep_columns)
        scored = []
        paths = table.column(col)
        for path in pc.unique(paths).to_pylist():
            part = table.filter(pc.equal(paths, pa.scalar(path, paths.type)))
            out = self.scorer.score(part.drop_columns([col]), name=str(path), keep_columns=self.keep_columns)
            scored.append(out.append_column(col, pa.array([path] * out.num_rows, paths.type)))
        return pa.concat_tables(scored)


def score_arrow_batches(batches: Any, **scorer: Any):
    """For Spark's ``mapInArrow``: the record batches of one partition in,
    its scored rows out as record batches (the partition scored as one
    batch, so it is collected first)."""
    scorer_ = Scorer(**scorer)
    table = pa.Table.from_batches(list(batches))
    yield from scorer_.score(table).to_batches()
