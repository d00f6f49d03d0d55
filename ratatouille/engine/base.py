"""The engine interface: ClickHouse SQL in, Arrow out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa


@dataclass
class QueryStats:
    """What a query did, as the engine reports it.

    Attributes:
        elapsed_s: Wall time of the query.
        read_rows: Rows the engine read.
        read_bytes: Bytes the engine read.
        cached: The tables whose snapshot the snapshot cache served (empty: all read from files).
    """

    elapsed_s: float = 0.0
    read_rows: int = 0
    read_bytes: int = 0
    cached: list[str] = field(default_factory=list)


#: The engine session's time zone. Iceberg ``timestamp`` (without zone) values are read as UTC, as
#: everything here treats a naive timestamp, so a literal like ``'2024-01-02'`` means the same instant
#: on every machine, and file pruning can compare it with the files' statistics exactly.
SESSION_TIMEZONE = "UTC"

ProgressCallback = Callable[[int, int, int], None]
"""Called with (read_rows, total_rows_to_read, read_bytes) while a query runs."""


class Engine(Protocol):
    """A ClickHouse SQL engine: embedded chDB or a ClickHouse server."""

    dsn: str

    def query_arrow(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
        stats: QueryStats | None = None,
    ) -> pa.Table:
        """Run a query and return its result as Arrow, with ClickHouse types repaired."""
        ...

    def command(self, sql: str, settings: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns nothing of interest (DDL)."""
        ...

    def insert_arrow(self, table: str, data: pa.Table) -> None:
        """Insert Arrow data into an existing engine table (``db.table`` already quoted)."""
        ...

    def describe(self, sql: str, parameters: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
        """The (name, ClickHouse type) pairs of a query's result, without running it."""
        ...

    def file_source(self, paths: list[str], structure: str) -> str:
        """A table-function expression reading exactly these Parquet data files with this structure."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...
