import os
from typing import Any, Iterable, Literal, Optional, Sequence, Tuple, Union, overload

import pyarrow as pa

__version__: str

class InputError(ValueError):
    """Input sentinel cannot read: a batch without a core column, a column
    that cannot be read as text, a bad model, mapping or list. The message
    names the batch (or file), and the column or line."""

def to_arrow(batch: Any) -> pa.Table:
    """A batch (pyarrow Table or RecordBatch, polars or pandas DataFrame,
    or an Arrow stream) as the table the scorer reads."""

class Scorer:
    last_rejects: Optional[pa.Table]
    last_summary: Optional[dict]
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
    ) -> None: ...
    @overload
    def score(
        self, batch: Any, *, name: str = "<batch>", keep_columns: bool = False, with_rejects: Literal[False] = False
    ) -> pa.Table: ...
    @overload
    def score(
        self, batch: Any, *, name: str = "<batch>", keep_columns: bool = False, with_rejects: Literal[True]
    ) -> Tuple[pa.Table, pa.Table]: ...
    def explain(self, batch: Any, shipment_ids: Iterable[str], *, name: str = "<batch>") -> pa.Table: ...
    def drift(self, batch: Any = None) -> dict: ...
    @property
    def manifest(self) -> dict: ...
    @property
    def model_id(self) -> str: ...
    @property
    def mode(self) -> str: ...
    @property
    def rule(self) -> str: ...
