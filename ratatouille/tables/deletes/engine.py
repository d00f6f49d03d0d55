"""Applying row-level deletes in the engine: the read of the data files, less the rows deleted.

The data files' read is wrapped in a filter (:func:`filtered_source`). Position deletes are an anti-join on
the ``_row_number`` virtual column (checked to match Iceberg's 0-based position), per data file or, over
more files, on one integer key made of the file's number (from ``_path``) and the row number; equality
deletes an anti-join on the equality columns, per group of data files they apply to, where a NULL in a
delete row matches a NULL. What that costs is measured in ``bench/bench_deletes.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ...errors import InvalidInput
from ...sqltext import quote_identifier, quote_literal

if TYPE_CHECKING:
    from pyiceberg.schema import Schema

    from ...engine import Engine
    from .planning import AppliedDeletes

_POSITION_STRUCTURE = quote_literal("file_path String, pos UInt64")  # the type of _row_number


#: Up to this many data files with position deletes, each is read on its own, filtered on its row number
#: alone (each such read scans the delete files again); beyond, one read of those files filters on a key
#: made of the file's number and the row number (:func:`_positions`), and the delete files are read once.
#: Measured over 10 files of 1M rows with 1% deleted: the two are even up to 4 files, and on 10 the key
#: takes a filtered query from 1.97x to 1.38x of the table compacted (aggregates: 2.3x either way).
PER_FILE_POSITIONS = 2

#: Bits of the row number in a position key: files of up to 2**40 rows (a trillion; a Parquet file of a
#: data lake holds millions), and up to 2**24 files in one read.
_ROW_BITS = 40


def filtered_source(
    engine: Engine, files: Sequence[str], structure: str, stored: Schema, deletes: AppliedDeletes
) -> str:
    """A read of ``files`` (the engine's file source) without the rows ``deletes`` remove.

    Args:
        engine: The engine.
        files: The data files (paths as in the manifests).
        structure: The ClickHouse structure the data files are read with.
        stored: The schema with the names the files hold (the equality columns are read by them).
        deletes: The delete files that apply (:meth:`SnapshotDeletes.applying_to`).
    """
    positioned = set(deletes.position_files)
    plain = [f for f in files if f not in positioned]
    with_positions = [f for f in files if f in positioned]
    reads: list[str] = []
    if plain:  # files no position delete names: no row number to look up
        reads += _reads(engine, plain, structure, [_equality(engine, deletes, stored, plain)])
    if len(with_positions) <= PER_FILE_POSITIONS:
        source = engine.file_source(list(deletes.position), _POSITION_STRUCTURE) if with_positions else ""
        for f in with_positions:
            rows = f"_row_number NOT IN (SELECT pos FROM {source} WHERE file_path = {quote_literal(f)})"
            reads += _reads(engine, [f], structure, [rows, _equality(engine, deletes, stored, [f])])
    else:
        equality = _equality(engine, deletes, stored, with_positions)
        reads += _reads(engine, with_positions, structure, [_positions(engine, deletes), equality])
    return "(" + " UNION ALL ".join(reads) + ")"


def _reads(engine: Engine, files: Sequence[str], structure: str, conditions: list[str]) -> list[str]:
    where = " AND ".join(c for c in conditions if c)
    where = f" WHERE {where}" if where else ""
    source = engine.file_source(list(files), structure)
    if not source.startswith("(") or not where:
        return [f"SELECT * FROM {source}{where}"]
    # Paths no single call can list (a glob character in a name): one filtered read per file, so that
    # the virtual columns are the file's.
    return [f"SELECT * FROM {engine.file_source([f], structure)}{where}" for f in files]


def _positions(engine: Engine, deletes: AppliedDeletes) -> str:
    """The rows kept by position deletes, over several files.

    Each data file with deletes gets a number (1, 2, ...; 0 for the others), and a row the key
    ``number << 40 | row number``: one integer, hashed far faster than a (path, row number) pair (which
    cost 4 to 8 times the plain read, measured). The delete files are read once.
    """
    from ..rowlevel import engine_path

    files = deletes.position_files
    if len(files) >= 1 << (64 - _ROW_BITS):
        raise InvalidInput(f"too many data files with position deletes in one read ({len(files)})")
    numbers = "[" + ", ".join(str(i) for i in range(1, len(files) + 1)) + "]"

    def key(path: str, paths: Iterable[str], row: str) -> str:
        listed = "[" + ", ".join(quote_literal(p) for p in paths) + "]"
        number = f"toUInt64(transform({path}, {listed}, {numbers}, 0))"
        return f"bitOr(bitShiftLeft({number}, {_ROW_BITS}), {row})"

    manifest = ", ".join(quote_literal(p) for p in files)
    deleted = (
        f"SELECT {key('file_path', files, 'pos')} "
        f"FROM {engine.file_source(list(deletes.position), _POSITION_STRUCTURE)} "
        f"WHERE file_path IN ({manifest})"
    )
    return f"{key('_path', (engine_path(p) for p in files), '_row_number')} NOT IN ({deleted})"


def _equality(engine: Engine, deletes: AppliedDeletes, stored: Schema, files: Sequence[str]) -> str:
    """The rows of ``files`` kept by the equality deletes ("" when none applies to them)."""
    from ...arrowtypes import iceberg_to_clickhouse, nullable
    from ..rowlevel import engine_path

    parts: list[str] = []
    reading = set(files)
    for group in deletes.equality:
        applies = reading & set(group.files)
        if not applies:
            continue
        columns = [stored.find_field(i) for i in group.field_ids]
        structure = quote_literal(
            ", ".join(
                f"{quote_identifier(c.name)} {nullable(iceberg_to_clickhouse(c.field_type))}" for c in columns
            )
        )
        source = engine.file_source(list(group.deletes), structure)
        if len(columns) == 1:
            # A NULL in a delete row matches a NULL: the NULL case is one scalar subquery.
            c = quote_identifier(columns[0].name)
            found = (
                f"(ifNull({c} IN (SELECT {c} FROM {source}), 0) OR "
                f"(isNull({c}) AND (SELECT count() FROM {source} WHERE isNull({c})) > 0))"
            )
        else:
            keys = ", ".join(_null_safe(quote_identifier(c.name), c.required) for c in columns)
            found = f"({keys}) IN (SELECT {keys} FROM {source})"
        if applies == reading:
            parts.append(f"NOT {found}")
        else:
            paths = ", ".join(quote_literal(engine_path(p)) for p in sorted(applies))
            parts.append(f"NOT (_path IN ({paths}) AND {found})")
    return " AND ".join(parts)


def _null_safe(column: str, required: bool) -> str:
    if required:
        return column
    # NULL matches NULL in an equality delete: compare (is null, value or the type's default).
    return f"isNull({column}), ifNull({column}, defaultValueOfArgumentType(assumeNotNull({column})))"
