"""The native module behind `sentinel` (use `sentinel.Scorer`)."""

from typing import List, Optional, Tuple

import pyarrow as pa

__version__: str

class InputError(ValueError): ...

class Scorer:
    def __init__(
        self,
        model: Optional[str] = None,
        mapping: Optional[str] = None,
        budget: Optional[str] = None,
        threshold: Optional[float] = None,
        ignore_labels: bool = False,
        lists: List[str] = ...,
        list_min_score: float = 0.88,
        parties: Optional[str] = None,
    ) -> None: ...
    def score(
        self, table: pa.Table, name: str = "<batch>", keep_columns: bool = False, explain: List[str] = ...
    ) -> Tuple[pa.Table, pa.Table, str]:
        """The scored rows, the rejected rows and the summary (JSON)."""
    def manifest_json(self) -> str: ...
    @property
    def model_id(self) -> str: ...
    @property
    def mode(self) -> str: ...
    @property
    def rule(self) -> str: ...
