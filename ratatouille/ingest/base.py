"""What every format reader produces: chunks of raw columns, read within the memory bound."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from .infer import Raw
from .progress import Progress


@dataclass
class Chunk:
    """Consecutive rows of one file (or sheet), columns not yet typed.

    Attributes:
        columns: Raw columns by name (see :mod:`ratatouille.ingest.infer`).
        num_rows: Rows in the chunk.
        first_row: The 1-based row number of the chunk's first row in the file (the header row counts).
        sheet: The Excel sheet the rows come from.
        typed: The columns carry their own types (Parquet, parsers): nothing is inferred from text.
    """

    columns: dict[str, Raw]
    num_rows: int
    first_row: int
    sheet: str | None = None
    typed: bool = False


class Reader(Protocol):
    """A format reader bound to one file; :meth:`chunks` may be called again to read it again."""

    display: str

    def chunks(self, progress: Progress) -> Iterator[Chunk]:
        """The file's rows, chunk by chunk (each within the memory bound)."""
        ...
