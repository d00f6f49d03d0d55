"""Applying row-level deletes in the engine: the read of the data files, less the rows deleted.

The data files' read is wrapped in a filter (:func:`filtered_source`). Position deletes are an anti-join on
the ``_row_number`` virtual column (checked to match Iceberg's 0-based position), per data file or, over
more files, on one integer key made of the file's number (from ``_path``) and the row number; equality
deletes an anti-join on the equality columns, per group of data files they apply to, where a NULL in a
delete row matches a NULL. What that costs is measured in ``bench/bench_deletes.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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
    engine: Engine,
    files: Sequence[str],
    structure: str,
    stored: Schema,
    deletes: AppliedDeletes,
    delete_schemas: Mapping[str, Schema] | None = None,
    query_filters: bool = False,
) -> str:
    """A read of ``files`` (the engine's file source) without the rows ``deletes`` remove.

    Args:
        engine: The engine.
        files: The data files (paths as in the manifests).
        structure: The ClickHouse structure the data files are read with.
        stored: The schema the files hold (names and field ids; the equality columns are found in it).
        deletes: The delete files that apply (:meth:`SnapshotDeletes.applying_to`).
        delete_schemas: Each equality delete file's own schema (from its footer), where its names may
            differ from ``stored``'s (a column renamed since); omitted, they are ``stored``'s.
        query_filters: The query filters this table's rows itself: its conditions should run before the
            equality lookups (see :func:`_equality`).
    """
    positioned = set(deletes.position_files)
    plain = [f for f in files if f not in positioned]
    with_positions = [f for f in files if f in positioned]
    reads: list[str] = []
    if plain:  # files no position delete names: no row number to look up
        equality = _equality(engine, deletes, stored, plain, delete_schemas, query_filters)
        reads += _reads(engine, plain, structure, [equality])
    if len(with_positions) <= PER_FILE_POSITIONS:
        source = engine.file_source(list(deletes.position), _POSITION_STRUCTURE) if with_positions else ""
        for f in with_positions:
            rows = f"_row_number NOT IN (SELECT pos FROM {source} WHERE file_path = {quote_literal(f)})"
            equality = _equality(engine, deletes, stored, [f], delete_schemas, query_filters)
            reads += _reads(engine, [f], structure, [rows, equality])
    else:
        equality = _equality(engine, deletes, stored, with_positions, delete_schemas, query_filters)
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


def _equality(
    engine: Engine,
    deletes: AppliedDeletes,
    stored: Schema,
    files: Sequence[str],
    delete_schemas: Mapping[str, Schema] | None = None,
    query_filters: bool = False,
) -> str:
    """The rows of ``files`` kept by the equality deletes ("" when none applies to them).

    Columns are matched by field id: on the data side through ``stored`` (a field the files lack is
    NULL there), on the delete side through each delete file's own schema (``delete_schemas``, from its
    footer; without it, the delete files hold the names ``stored`` does).

    With ``query_filters``, each condition names ``_path``, which keeps it out of PREWHERE: the engine
    then reads and filters by the query's own conditions first and looks up only the rows they keep
    (a filtered query keeping 10% of 10M rows: 2.05x of the table compacted instead of 2.86x). Without
    conditions of its own, the lookup is best in PREWHERE (the other columns are decoded for the rows
    kept only).
    """
    from ...arrowtypes import iceberg_to_clickhouse, nullable
    from ..rowlevel import engine_path

    parts: list[str] = []
    reading = set(files)
    for group in deletes.equality:
        applies = reading & set(group.files)
        if not applies:
            continue
        source = _deleted_keys(engine, group.deletes, group.field_ids, stored, delete_schemas)
        by_id = {f.field_id: f for f in stored.fields}
        data: list[tuple[str, bool]] = []
        for field_id in group.field_ids:
            found = by_id.get(field_id)
            if found is not None:
                data.append((quote_identifier(found.name), found.required))
            else:  # a column added after these files were written: NULL in them
                schema = delete_schemas[group.deletes[0]] if delete_schemas is not None else stored
                ch_type = nullable(iceberg_to_clickhouse(schema.find_field(field_id).field_type))
                data.append((f"CAST(NULL, {quote_literal(ch_type)})", False))
        keys = [f"_rat_k{i}" for i in range(len(data))]
        if len(data) == 1:
            # A NULL in a delete row matches a NULL: the NULL case is one scalar subquery.
            c, k = data[0][0], keys[0]
            found_sql = (
                f"(ifNull({c} IN (SELECT {k} FROM {source}), 0) OR "
                f"(isNull({c}) AND (SELECT count() FROM {source} WHERE isNull({k})) > 0))"
            )
        else:
            left = ", ".join(_null_safe(c, required) for c, required in data)
            right = ", ".join(_null_safe(k, False) for k in keys)
            found_sql = f"({left}) IN (SELECT {right} FROM {source})"
        if applies == reading:
            parts.append(f"NOT (_path != '' AND {found_sql})" if query_filters else f"NOT {found_sql}")
        else:
            paths = ", ".join(quote_literal(engine_path(p)) for p in sorted(applies))
            parts.append(f"NOT (_path IN ({paths}) AND {found_sql})")
    return " AND ".join(parts)


def _deleted_keys(
    engine: Engine,
    paths: Sequence[str],
    field_ids: Sequence[int],
    stored: Schema,
    delete_schemas: Mapping[str, Schema] | None,
) -> str:
    """The delete files' rows as columns ``_rat_k0``, ``_rat_k1``... (one per equality field id)."""
    from ...arrowtypes import iceberg_to_clickhouse, nullable

    layouts: dict[str, list[str]] = {}
    for path in paths:
        schema = delete_schemas[path] if delete_schemas is not None else stored
        fields = [schema.find_field(i) for i in field_ids]
        structure = ", ".join(
            f"{quote_identifier(f.name)} {nullable(iceberg_to_clickhouse(f.field_type))}" for f in fields
        )
        select = ", ".join(f"{quote_identifier(f.name)} AS _rat_k{i}" for i, f in enumerate(fields))
        layouts.setdefault(f"{select}\0{structure}", []).append(path)
    selects = []
    for layout, group in layouts.items():
        select, structure = layout.split("\0")
        selects.append(f"SELECT {select} FROM {engine.file_source(group, quote_literal(structure))}")
    return "(" + " UNION ALL ".join(selects) + ")"


def _null_safe(column: str, required: bool) -> str:
    if required:
        return column
    # NULL matches NULL in an equality delete: compare (is null, value or the type's default).
    return f"isNull({column}), ifNull({column}, defaultValueOfArgumentType(assumeNotNull({column})))"
