"""manifest-sentinel from Python: score a batch of export filings held in
memory (a ``pyarrow.Table``, ``polars.DataFrame`` or ``pandas.DataFrame``)
and get the scored rows back as a ``pyarrow.Table``, the same rows and
values as ``sentinel score`` writes for the same batch (its Parquet
output's column types).

The batch crosses into the native scorer through the Arrow C data
interface, column by column; nothing is written to disk.

>>> import pyarrow.csv, sentinel
>>> scorer = sentinel.Scorer()                      # the embedded model, 1% budget
>>> scored = scorer.score(pyarrow.csv.read_csv("datasets/sample.csv"))
>>> scored.sort_by("rank").slice(0, 5).column("reasons")
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterable, Literal, Optional, Sequence, Tuple, Union, overload

import pyarrow as pa
import pyarrow.compute as pc

from . import _native
from ._native import InputError, __version__

__all__ = ["Scorer", "InputError", "to_arrow", "__version__"]

# Column types the native reader takes as they are (and casts to text as it
# casts a Parquet file's); anything else is cast to text by pyarrow first.
_AS_IS = (
    pa.types.is_string,
    pa.types.is_large_string,
    pa.types.is_string_view,
    pa.types.is_integer,
    pa.types.is_floating,
    pa.types.is_boolean,
    pa.types.is_null,
)


def to_arrow(batch: Any) -> pa.Table:
    """A batch as a ``pyarrow.Table`` the scorer reads: a pyarrow Table or
    RecordBatch, a polars or pandas DataFrame, or anything exporting an
    Arrow stream (``__arrow_c_stream__``). Dates, timestamps, decimals and
    dictionary columns become text; a column that cannot be read as text
    raises :class:`InputError` naming it."""
    if isinstance(batch, pa.Table):
        table = batch
    elif isinstance(batch, pa.RecordBatch):
        table = pa.Table.from_batches([batch])
    elif type(batch).__module__.startswith("polars"):
        table = batch.to_arrow()
    elif type(batch).__module__.startswith("pandas"):
        table = pa.Table.from_pandas(batch, preserve_index=False)
    elif hasattr(batch, "__arrow_c_stream__"):
        table = pa.table(batch)
    else:
        raise TypeError(
            "a batch is a pyarrow.Table or RecordBatch, a polars.DataFrame or a "
            f"pandas.DataFrame, not {type(batch).__name__}"
        )
    columns = []
    for name, column in zip(table.column_names, table.columns):
        t = column.type
        if pa.types.is_dictionary(t):
            column = column.cast(t.value_type)
            t = column.type
        if not any(is_kind(t) for is_kind in _AS_IS):
            try:
                column = pc.cast(column, pa.string())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                raise InputError(f"column `{name}` of type {t} cannot be read as text: {e}") from None
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


class Scorer:
    """A model, a mapping and a flag rule, loaded once; scores batches.

    ``model``: a model directory (default: the embedded default model).
    ``mapping``: a column-mapping file (TOML) for other layouts (default:
    the model's own, if it has one). ``budget``: the share or count flagged,
    ``"1%"`` or ``"top:500"``; or ``threshold``: flag rows whose risk_score
    is at least this. ``ignore_labels``: rank by the label-free score.
    ``lists``: restricted-party lists (the Consolidated Screening List's
    CSV layout) each batch's parties are screened against. ``parties``: a
    party store (SQLite; created when missing), as ``score --parties``:
    each batch's party histories start from every batch scored with it
    before and are written back once the batch is scored, so batches must
    come in date order, one at a time (a lock keeps a scorer's runs apart).
    """

    def __init__(
        self,
        model: Optional[Union[str, os.PathLike]] = None,
        mapping: Optional[Union[str, os.PathLike]] = None,
        budget: Optional[str] = "1%",
        *,
        threshold: Optional[float] = None,
        ignore_labels: bool = False,
        lists: Sequence[Union[str, os.PathLike]] = (),
        list_min_score: float = 0.88,
        parties: Optional[Union[str, os.PathLike]] = None,
    ) -> None:
        self._native = _native.Scorer(
            model=os.fspath(model) if model is not None else None,
            mapping=os.fspath(mapping) if mapping is not None else None,
            budget=None if threshold is not None else budget,
            threshold=threshold,
            ignore_labels=ignore_labels,
            lists=[os.fspath(p) for p in lists],
            list_min_score=list_min_score,
            parties=os.fspath(parties) if parties is not None else None,
        )
        #: The rejected rows of the last batch scored (the rejects file's columns).
        self.last_rejects: Optional[pa.Table] = None
        #: The summary of the last batch scored (as ``--summary-json`` writes it).
        self.last_summary: Optional[dict] = None

    def _run(self, batch: Any, name: str, keep_columns: bool, explain: Sequence[str] = ()) -> pa.Table:
        table = to_arrow(batch)
        scored, rejects, summary = self._native.score(
            table, name=name, keep_columns=keep_columns, explain=[str(s) for s in explain]
        )
        self.last_rejects = rejects
        self.last_summary = json.loads(summary)
        return scored

    @overload
    def score(
        self, batch: Any, *, name: str = ..., keep_columns: bool = ..., with_rejects: Literal[False] = ...
    ) -> pa.Table: ...

    @overload
    def score(
        self, batch: Any, *, name: str = ..., keep_columns: bool = ..., with_rejects: Literal[True]
    ) -> Tuple[pa.Table, pa.Table]: ...

    def score(
        self,
        batch: Any,
        *,
        name: str = "<batch>",
        keep_columns: bool = False,
        with_rejects: bool = False,
    ) -> Union[pa.Table, Tuple[pa.Table, pa.Table]]:
        """Scores one batch (all its rows are one run, as one ``sentinel
        score`` call's inputs are) and returns the scored rows: the spec's
        scored-output columns, in input order. With ``with_rejects``, a pair:
        the scored rows and the rejected rows (the rejects file's columns:
        file, line, shipment_id, column, value, reason_code, reason; ``file``
        is ``name`` and ``line`` the row's number from 1). Rejected rows are
        also kept in :attr:`last_rejects`, the summary in
        :attr:`last_summary`. ``keep_columns`` appends the batch's columns
        as ``--keep-columns`` does."""
        scored = self._run(batch, name, keep_columns)
        return (scored, self.last_rejects) if with_rejects else scored

    def explain(self, batch: Any, shipment_ids: Iterable[str], *, name: str = "<batch>") -> pa.Table:
        """Why the model ranks these rows where it does: the batch scored as
        :meth:`score` scores it, with reasons for the rows named (by
        shipment_id) whatever their rank. Returns those rows' shipment_id,
        risk_score, flagged, rank, case_id, likely_category, reason_codes
        and reasons, in input order."""
        wanted = [str(s) for s in shipment_ids]
        scored = self._run(batch, name, False, wanted)
        rows = scored.filter(pc.is_in(scored.column("shipment_id"), value_set=pa.array(wanted, pa.string())))
        keep = [
            c
            for c in (
                "shipment_id",
                "risk_score",
                "flagged",
                "rank",
                "case_id",
                "likely_category",
                "reason_codes",
                "reasons",
            )
            if c in rows.column_names
        ]
        return rows.select(keep)

    def drift(self, batch: Any = None) -> dict:
        """How far a batch is from the model's training data: the
        summary's drift object. Scores ``batch`` if given, else reads the
        last batch scored."""
        if batch is not None:
            self._run(batch, "<batch>", False)
        if self.last_summary is None:
            raise ValueError("no batch scored yet: pass one")
        return self.last_summary["drift"]

    @property
    def manifest(self) -> dict:
        """The model's manifest (``manifest.json``): id, mode, training
        files and rows, features, metrics."""
        return json.loads(self._native.manifest_json())

    @property
    def model_id(self) -> str:
        return self._native.model_id

    @property
    def mode(self) -> str:
        """``supervised`` or ``label-free``."""
        return self._native.mode

    @property
    def rule(self) -> str:
        """The flag rule, e.g. ``budget 1%``."""
        return self._native.rule

    def __repr__(self) -> str:
        return f"Scorer(model_id={self.model_id!r}, mode={self.mode!r}, rule={self.rule!r})"
