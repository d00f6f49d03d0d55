"""The type of every column of an ingestion: declared, taken from the table, or inferred (and widened).

Precedence: ``schema=``/``dtypes=`` win, then the existing table's column types (so that a text column
stays text even when a new file holds only digits), then inference. An inferred type found too narrow
after rows were written raises :class:`Restart`; a declared or table type that a value does not fit is
an error naming the file, column, row and value.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from .base import Chunk
from .errors import BadFile, Restart
from .infer import STRING, Misfit, convert, infer, kept_text, widen
from .options import ColumnType

DECLARED, TABLE, INFERRED = "declared", "table", "inferred"


class Plan:
    """Column types for one ingestion (shared by every file of a batch).

    Args:
        declared: ``schema=`` and ``dtypes=`` types.
        table_types: The target table's column types.
        text_markers: Strings that are NULL in text columns too.
        exact_columns: The files must have exactly the declared columns (``schema=``).
        table: The target's name, for messages.
    """

    def __init__(
        self,
        declared: dict[str, ColumnType],
        table_types: dict[str, pa.DataType],
        text_markers: Sequence[str],
        exact_columns: bool,
        table: str,
    ) -> None:
        self.declared = declared
        self.table_types = table_types
        self.text_markers = tuple(text_markers)
        self.exact_columns = exact_columns
        self.table = table
        self.types: dict[str, ColumnType | None] = {}
        self.origin: dict[str, str] = {}
        self._kept: set[str] = set()

    def _start(self, name: str) -> None:
        if name in self.types:
            return
        if name in self.declared:
            self.types[name], self.origin[name] = self.declared[name], DECLARED
        elif name in self.table_types:
            self.types[name], self.origin[name] = ColumnType(self.table_types[name]), TABLE
        else:
            self.types[name], self.origin[name] = None, INFERRED

    def widen(self, column: str, new_type: pa.DataType) -> None:
        """Give an inferred column a wider type (after a :class:`Restart`)."""
        self.types[column] = ColumnType(new_type)
        self._kept.discard(column)

    def new_attempt(self) -> None:
        """Forget what one pass over the files saw (kept text in undecided columns)."""
        self._kept.clear()

    def undecided(self) -> list[str]:
        """Columns that held no value at all so far."""
        return [n for n, t in self.types.items() if t is None]

    def check_columns(self, display: str, names: list[str]) -> None:
        """Refuse a file that lacks a declared column (or, with ``schema=``, has other ones)."""
        missing = [n for n in self.declared if n not in names]
        if missing:
            raise BadFile(
                display,
                f"declared column(s) {', '.join(map(repr, missing))} not in the file "
                f"(its columns: {', '.join(names)})",
            )
        if self.exact_columns:
            extra = [n for n in names if n not in self.declared]
            if extra:
                raise BadFile(
                    display,
                    f"column(s) {', '.join(map(repr, extra))} are not in schema=; "
                    "declare them or use dtypes= for a partial declaration",
                )

    def type_chunk(self, chunk: Chunk, display: str, written: bool) -> dict[str, pa.Array]:
        """Type one chunk.

        Args:
            chunk: The raw rows.
            display: The file, for messages.
            written: Rows were already handed to the writer in this pass (a widening then restarts).

        Raises:
            Restart: An inferred column needs a wider type.
            BadFile: A value does not fit a declared or table type.
        """
        excel = chunk.sheet is not None
        out: dict[str, pa.Array] = {}
        for name, raw in chunk.columns.items():
            self._start(name)
            current = self.types[name]
            if current is None:
                found = infer(raw, self.text_markers, excel)
                if found is None:
                    if kept_text(raw, self.text_markers):
                        self._kept.add(name)
                    continue
                if found == STRING and name in self._kept and written:
                    # Earlier rows' empty or marker texts were left out as NULL: keep them as text.
                    raise Restart(name, STRING)
                current = self.types[name] = ColumnType(found)
            out[name] = self._convert(name, raw, current, chunk, display, written, excel)
        return out

    def _convert(
        self,
        name: str,
        raw: object,
        current: ColumnType,
        chunk: Chunk,
        display: str,
        written: bool,
        excel: bool,
    ) -> pa.Array:
        strict = self.origin[name] == INFERRED
        while True:
            try:
                return convert(raw, current, self.text_markers, strict)  # type: ignore[arg-type]
            except Misfit as m:
                if strict:
                    wider = widen(current.type, infer(raw, self.text_markers, excel))  # type: ignore[arg-type]
                    if wider is None or wider == current.type:
                        wider = STRING
                    if written:
                        raise Restart(name, wider) from None
                    current = self.types[name] = ColumnType(wider)
                    continue
                where = f"the table {self.table}" if self.origin[name] == TABLE else "declared"
                raise BadFile(
                    display,
                    f"column {name!r} is {_describe(current)} ({where}) but holds {m.value!r}",
                    row=chunk.first_row + m.index if not chunk.typed else None,
                    sheet=chunk.sheet,
                ) from None


def _describe(t: ColumnType) -> str:
    from ..tables.evolution import _describe as describe

    text = describe(t.type)
    return f"{text} in format {t.format!r}" if t.format else text
