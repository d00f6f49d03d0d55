"""Ingestion options: one frozen dataclass, and the parsing of the ``schema=`` / ``dtypes=`` types."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

import pandas as pd
import pyarrow as pa

from ..errors import InvalidInput

#: The memory, in MB, that the data in flight of one ingestion may use (see docs/ingestion.md).
DEFAULT_MEMORY_MB = 256
ON_ERROR = ("raise", "skip")
ParserFunc = Callable[[BytesIO, str], pd.DataFrame]
SheetSpec = int | str | Sequence[int | str] | None

_NAMED: dict[str, pa.DataType] = {
    "string": pa.string(),
    "str": pa.string(),
    "text": pa.string(),
    "varchar": pa.string(),
    "int": pa.int64(),
    "integer": pa.int64(),
    "long": pa.int64(),
    "int64": pa.int64(),
    "bigint": pa.int64(),
    "int32": pa.int32(),
    "float": pa.float64(),
    "double": pa.float64(),
    "float64": pa.float64(),
    "float32": pa.float32(),
    "bool": pa.bool_(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "datetime": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "binary": pa.binary(),
}
_DECIMAL_RE = re.compile(r"^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$")
_PY_TYPES: dict[type, pa.DataType] = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
    dt.date: pa.date32(),
    dt.datetime: pa.timestamp("us"),
    bytes: pa.binary(),
}


@dataclass(frozen=True)
class ColumnType:
    """A declared column type.

    Attributes:
        type: The Arrow type the column gets.
        format: A ``strptime`` format for text dates and timestamps (``"%d/%m/%Y"``), or None for ISO.
    """

    type: pa.DataType
    format: str | None = None


def parse_type(spec: Any, column: str = "?") -> ColumnType:
    """Parse one declared type.

    Accepted: an Arrow type; ``str``, ``int``, ``float``, ``bool``, ``datetime.date``, ``datetime.datetime``;
    a name (``"string"``, ``"int"``, ``"int32"``, ``"float"``, ``"bool"``, ``"date"``, ``"timestamp"``,
    ``"timestamptz"``, ``"decimal(12,2)"``, pandas names such as ``"Int64"`` or ``"float64"``), optionally
    with a ``strptime`` format after a colon: ``"date:%d/%m/%Y"``.

    Raises:
        InvalidInput: The type is not understood.
    """
    if isinstance(spec, ColumnType):
        return spec
    if isinstance(spec, pa.DataType):
        return ColumnType(spec)
    if isinstance(spec, type) and spec in _PY_TYPES:
        return ColumnType(_PY_TYPES[spec])
    if isinstance(spec, str):
        name, _, fmt = spec.partition(":")
        key = name.strip().lower()
        if key in _NAMED:
            if fmt and not pa.types.is_temporal(_NAMED[key]):
                raise InvalidInput(f"column {column!r}: a format only applies to date and timestamp types")
            return ColumnType(_NAMED[key], fmt or None)
        if m := _DECIMAL_RE.match(key):
            return ColumnType(pa.decimal128(int(m.group(1)), int(m.group(2))))
    raise InvalidInput(
        f"column {column!r}: unknown type {spec!r}; use string, int, int32, float, bool, date, timestamp, "
        "timestamptz, decimal(p,s) or an Arrow type (dates may carry a format: 'date:%d/%m/%Y')"
    )


def parse_types(spec: Mapping[str, Any] | pa.Schema | None) -> dict[str, ColumnType]:
    """Parse ``schema=`` or ``dtypes=``: an Arrow schema or a ``{column: type}`` mapping."""
    if spec is None:
        return {}
    if isinstance(spec, pa.Schema):
        return {f.name: ColumnType(f.type) for f in spec}
    if not isinstance(spec, Mapping):
        raise InvalidInput(
            f"expected a {{column: type}} mapping or an Arrow schema, got {type(spec).__name__}"
        )
    return {str(k): parse_type(v, str(k)) for k, v in spec.items()}


@dataclass(frozen=True)
class IngestOptions:
    """How to read and type a file. Every field has a working default; see docs/ingestion.md.

    Attributes:
        format: ``csv``, ``tsv``, ``xlsx``, ``xls``, ``json``, ``ndjson``, ``parquet``; None: by extension.
        sheet: Excel sheet: index, name, a list of them, or None for every sheet.
        header: Header row: None detects it, True is the first row, False means none, an int is its
            0-based row number (the rows above it are skipped).
        delimiter: CSV field separator; None sniffs it.
        quotechar: CSV quote character; None sniffs it.
        encoding: Text encoding; None detects it (BOM, UTF-8, else cp1252).
        null_markers: Strings that mean NULL in text columns too (none by default).
        schema: Every column's type: the file must have exactly these columns.
        dtypes: Some columns' types; the others are inferred.
        extract_from_filename: A regex whose named groups become string columns.
        parser: A registered parser's name, or a callable ``func(BytesIO, filename) -> DataFrame``.
        memory_mb: The memory the data in flight may use; large files stream in batches within it.
        progress: Show a progress bar (None: only in interactive sessions).
        partition_by: Partition terms for a table the ingestion creates (``["day(ts)"]``); for an
            existing table they must match its partitioning.
    """

    format: str | None = None
    sheet: SheetSpec = 0
    header: bool | int | None = None
    delimiter: str | None = None
    quotechar: str | None = None
    encoding: str | None = None
    null_markers: tuple[str, ...] = ()
    schema: dict[str, ColumnType] = field(default_factory=dict)
    dtypes: dict[str, ColumnType] = field(default_factory=dict)
    extract_from_filename: str | None = None
    parser: str | ParserFunc | None = None
    memory_mb: int = DEFAULT_MEMORY_MB
    progress: bool | None = None
    partition_by: tuple[str, ...] | None = None

    @property
    def declared(self) -> dict[str, ColumnType]:
        """Declared types: ``schema`` then ``dtypes`` (``dtypes`` wins on a column in both)."""
        return {**self.schema, **self.dtypes}

    @property
    def chunk_bytes(self) -> int:
        """Bytes of input read per batch: an eighth of the bound leaves room for the typed copy and writer."""
        return max(1 << 20, self.memory_mb * (1 << 20) // 8)

    @classmethod
    def build(cls, **kwargs: Any) -> IngestOptions:
        """Validate user keyword arguments and build the options.

        Raises:
            InvalidInput: An option has a wrong value or an unknown name.
        """
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise InvalidInput(f"unknown option(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values = {k: v for k, v in kwargs.items() if v is not None or k in ("sheet", "header")}
        if "schema" in values:
            values["schema"] = parse_types(values["schema"])
        if "dtypes" in values:
            values["dtypes"] = parse_types(values["dtypes"])
        markers = values.get("null_markers")
        if markers is not None:
            if isinstance(markers, str) or not all(isinstance(m, str) for m in markers):
                raise InvalidInput("null_markers is a list of strings, for example ['', 'NA', '-']")
            values["null_markers"] = tuple(markers)
        memory = values.get("memory_mb", DEFAULT_MEMORY_MB)
        if not isinstance(memory, int) or memory < 16:
            raise InvalidInput(f"memory_mb must be an integer of at least 16, got {memory!r}")
        for name in ("delimiter", "quotechar"):
            v = values.get(name)
            if v is not None and (not isinstance(v, str) or len(v) != 1):
                raise InvalidInput(f"{name} must be one character, got {v!r}")
        header = values.get("header")
        if header is not None and not isinstance(header, bool | int):
            raise InvalidInput(f"header must be True, False, None or a row number, got {header!r}")
        if isinstance(header, int) and not isinstance(header, bool) and header < 0:
            raise InvalidInput(f"header row must be 0 or more, got {header}")
        if values.get("extract_from_filename") is not None:
            try:
                re.compile(values["extract_from_filename"])
            except re.error as e:
                raise InvalidInput(f"extract_from_filename is not a valid regex: {e}") from e
        if "partition_by" in values:
            from ..tables.partitioning import normalize_partition_by

            values["partition_by"] = tuple(normalize_partition_by(values["partition_by"]) or ())
        return cls(**values)
