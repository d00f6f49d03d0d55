"""Reading data files by Iceberg field id: the columns of each file mapped to the schema a query reads.

The engine reads Parquet columns by name. That is exact as long as no schema of the table ever gave a
field id another name or a name another field id (no rename, no drop and re-add): then a read by name
is a read by id, and the SQL is the plain one (:func:`names_are_ids`, checked on the table's metadata
alone, without opening a file).

Otherwise each file's own columns are taken from its Parquet footer (the field ids every Iceberg writer
stores; a table's name mapping for files without them), kept per path since a data file never changes.
Files with the same columns are read together; each such group gets a select list that takes every
field of the read schema from the file's column of the same id (under its stored name), a field the
files lack as NULL, and nested structs rebuilt field by field when their fields differ. Several groups
are read as one UNION ALL.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from .arrowtypes import iceberg_to_clickhouse, nullable
from .sqltext import quote_identifier, quote_literal

if TYPE_CHECKING:
    from pyiceberg.io import FileIO
    from pyiceberg.schema import Schema
    from pyiceberg.table import Table
    from pyiceberg.table.metadata import TableMetadata
    from pyiceberg.types import IcebergType, NestedField

    from .engine import Engine

#: Footers kept (one small schema each; data files are immutable, so an entry never goes stale).
CAPACITY = 8192
#: Footers read at once when a read opens many files for the first time (S3 latency).
FOOTER_THREADS = 8
#: The alias of the files in each select: stored columns are named through it, since a select list's
#: aliases shadow the columns of the same name (``amount AS price, NULL AS amount`` after a rename and a
#: new ``amount`` would read the NULL as price).
FILES_ALIAS = "_rat_files"


def names_are_ids(metadata: TableMetadata, schema: Schema) -> bool:
    """True when reading ``schema`` by name is reading it by field id, in every file of the table.

    That holds when no schema of the table names a field of ``schema`` otherwise (a rename) and none
    gives one of its names to another field id (a drop and re-add), at any depth. Type promotions and
    added or reordered columns keep it: the engine casts, and files lacking a column read it as NULL.
    The answer is kept per table, schema list and schema read (a table's schemas never change).
    """
    from pyiceberg.schema import index_by_name

    uuid = str(metadata.table_uuid)
    known = any(other is schema for other in metadata.schemas)
    key = (uuid, tuple(other.schema_id for other in metadata.schemas), schema.schema_id)
    if known and key in _VERDICTS:
        return _VERDICTS[key]
    wanted = _names(uuid, schema) if known else index_by_name(schema)
    ids = {field_id: name for name, field_id in wanted.items()}
    verdict = True
    for other in metadata.schemas:
        if other is schema:
            continue
        for name, field_id in _names(uuid, other).items():
            if wanted.get(name, field_id) != field_id or ids.get(field_id, name) != name:
                verdict = False
                break
        if not verdict:
            break
    if known:
        _remember(_VERDICTS, key, verdict)
    return verdict


#: Kept answers of :func:`names_are_ids`, and each table schema's names (a schema id never changes).
_VERDICTS: dict[tuple[str, tuple[int, ...], int], bool] = {}
_NAMES: dict[tuple[str, int], dict[str, int]] = {}
_KEPT = 4096


def _remember(store: dict[Any, Any], key: Any, value: Any) -> None:
    if len(store) >= _KEPT:
        store.clear()
    store[key] = value


def _names(uuid: str, schema: Schema) -> dict[str, int]:
    from pyiceberg.schema import index_by_name

    key = (uuid, schema.schema_id)
    found = _NAMES.get(key)
    if found is None:
        found = index_by_name(schema)
        _remember(_NAMES, key, found)
    return found


class _FooterCache:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._items: OrderedDict[str, Schema] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def get(self, path: str) -> Schema | None:
        with self._lock:
            found = self._items.get(path)
            if found is not None:
                self._items.move_to_end(path)
            return found

    def put(self, path: str, schema: Schema) -> None:
        with self._lock:
            self._items[path] = schema
            self._items.move_to_end(path)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


FOOTERS = _FooterCache()


def _read_footer(io: FileIO, metadata: TableMetadata, path: str) -> Schema:
    import pyarrow.parquet as pq
    from pyiceberg.io.pyarrow import pyarrow_to_schema

    with io.new_input(path).open() as fin:
        arrow_schema = pq.ParquetFile(fin).schema_arrow
    # Files without field ids (imported, or written by a writer that stores none): the table's name
    # mapping, else the names of the current schema, which is what a read by name assumes.
    mapping = metadata.name_mapping() or metadata.schema().name_mapping
    return pyarrow_to_schema(arrow_schema, mapping, downcast_ns_timestamp_to_us=True)


def file_schemas(table: Table, paths: Sequence[str]) -> list[Schema]:
    """Each file's columns as stored (names, types and field ids), from its Parquet footer."""
    found = {p: FOOTERS.get(p) for p in paths}
    missing = [p for p, s in found.items() if s is None]
    if missing:
        meta, io = table.metadata, table.io

        def read(path: str) -> tuple[str, Schema]:
            return path, _read_footer(io, meta, path)

        if len(missing) == 1:
            results = [read(missing[0])]
        else:
            with ThreadPoolExecutor(min(FOOTER_THREADS, len(missing))) as pool:
                results = list(pool.map(read, missing))
        for path, read_schema in results:
            FOOTERS.put(path, read_schema)
            found[path] = read_schema
    out = []
    for p in paths:
        schema = found[p]
        assert schema is not None
        out.append(schema)
    return out


def _wanted(t: IcebergType) -> str:
    return nullable(iceberg_to_clickhouse(t))


def _missing(t: IcebergType) -> str:
    """A field the file lacks: NULL (arrays, tuples and maps: their empty default)."""
    ch_type = _wanted(t)
    if ch_type.startswith("Nullable("):
        return f"CAST(NULL, {quote_literal(ch_type)})"
    return f"defaultValueOfTypeName({quote_literal(ch_type)})"


def _ids(t: IcebergType) -> object:
    """The field ids of a type's nested fields, in order, at every depth (None for a primitive)."""
    from pyiceberg.types import ListType, MapType, StructType

    if isinstance(t, StructType):
        return tuple((f.field_id, _ids(f.field_type)) for f in t.fields)
    if isinstance(t, ListType):
        return ("list", t.element_id, _ids(t.element_type))
    if isinstance(t, MapType):
        return ("map", t.key_id, _ids(t.key_type), t.value_id, _ids(t.value_type))
    return None


def _stored_type(wanted: IcebergType, stored: IcebergType) -> str:
    """The engine type to read a stored column as: ``wanted``'s types under ``stored``'s names.

    Only for types of the same shape (:func:`_ids` equal).
    """
    from pyiceberg.types import ListType, MapType, StructType

    if isinstance(wanted, StructType) and isinstance(stored, StructType):
        inner = ", ".join(
            f"{quote_identifier(s.name)} {_stored_type(w.field_type, s.field_type)}"
            for w, s in zip(wanted.fields, stored.fields, strict=True)
        )
        return f"Tuple({inner})"
    if isinstance(wanted, ListType) and isinstance(stored, ListType):
        return f"Array({_stored_type(wanted.element_type, stored.element_type)})"
    if isinstance(wanted, MapType) and isinstance(stored, MapType):
        key = iceberg_to_clickhouse(wanted.key_type)
        return f"Map({key}, {_stored_type(wanted.value_type, stored.value_type)})"
    return _wanted(wanted)


def _column(wanted: IcebergType, stored: IcebergType, ref: str, depth: int = 0) -> tuple[str, str]:
    """(the engine type to declare a stored column with, the expression of the wanted column).

    The same fields under the same names: the stored column is declared with the wanted type (a
    promotion is the engine's cast). A struct whose fields differ (ids or names: the engine casts named
    tuples by name) is rebuilt field by field by id; a list or map of such structs, element by element.
    """
    from pyiceberg.types import ListType, MapType, StructType

    want = _wanted(wanted)
    if _ids(wanted) == _ids(stored) and _stored_type(wanted, stored) == want:
        return want, ref
    if isinstance(wanted, StructType) and isinstance(stored, StructType):
        by_id = {f.field_id: f for f in stored.fields}
        declared_parts, exprs = [], []
        for s in stored.fields:
            w = next((f for f in wanted.fields if f.field_id == s.field_id), None)
            sub_ref = f"tupleElement({ref}, {quote_literal(s.name)})"
            declared_parts.append(
                f"{quote_identifier(s.name)} "
                + (
                    _wanted(s.field_type)
                    if w is None
                    else _column(w.field_type, s.field_type, sub_ref, depth)[0]
                )
            )
        for w in wanted.fields:
            s_found = by_id.get(w.field_id)
            if s_found is None:
                exprs.append(_missing(w.field_type))
            else:
                sub_ref = f"tupleElement({ref}, {quote_literal(s_found.name)})"
                exprs.append(_column(w.field_type, s_found.field_type, sub_ref, depth)[1])
        return (
            f"Tuple({', '.join(declared_parts)})",
            f"CAST(tuple({', '.join(exprs)}), {quote_literal(want)})",
        )
    if isinstance(wanted, ListType) and isinstance(stored, ListType):
        var = f"_e{depth}"
        declared, expr = _column(wanted.element_type, stored.element_type, var, depth + 1)
        return f"Array({declared})", f"CAST(arrayMap({var} -> {expr}, {ref}), {quote_literal(want)})"
    if isinstance(wanted, MapType) and isinstance(stored, MapType):
        k, v = f"_k{depth}", f"_v{depth}"
        declared, expr = _column(wanted.value_type, stored.value_type, v, depth + 1)
        key = iceberg_to_clickhouse(stored.key_type)
        return (
            f"Map({key}, {declared})",
            f"CAST(mapApply(({k}, {v}) -> ({k}, {expr}), {ref}), {quote_literal(want)})",
        )
    # A primitive stored where the schema has a nested type (or the reverse): no Iceberg evolution does
    # that; read the stored column as the wanted type and let the engine say if it cannot.
    return want, ref


def stored_column(wanted: IcebergType, stored: IcebergType, ref: str) -> str:
    """The expression of a column of type ``wanted`` read from the stored column ``ref`` (same ids)."""
    return _column(wanted, stored, ref)[1]


def mapped_select(schema: Schema, stored: Schema) -> tuple[str, str]:
    """(the structure literal to read a file with, the select list giving ``schema``'s columns).

    ``stored`` is the file's own schema (stored names, field ids); the select reads the files as
    ``FILES_ALIAS``.
    """
    by_id = {f.field_id: f for f in stored.fields}
    declared, columns = [], []
    for field in schema.fields:
        found: NestedField | None = by_id.get(field.field_id)
        if found is None:
            expr = _missing(field.field_type)
        else:
            ref = f"{FILES_ALIAS}.{quote_identifier(found.name)}"
            ch_type, expr = _column(field.field_type, found.field_type, ref)
            declared.append(f"{quote_identifier(found.name)} {ch_type}")
        name = quote_identifier(field.name)
        columns.append(f"{expr} AS {name}")
    if not declared:  # no column of the schema in these files: any one column gives the row count
        first = stored.fields[0]
        declared.append(f"{quote_identifier(first.name)} {_wanted(first.field_type)}")
    return quote_literal(", ".join(declared)), ", ".join(columns)


def mapped_source(
    engine: Engine, table: Table, schema: Schema, paths: Sequence[str], extra: Sequence[str] = ()
) -> str:
    """A parenthesized SELECT of ``schema``'s columns over ``paths``, matched by field id.

    Args:
        engine: The engine.
        table: The table the files belong to (its FileIO reads the footers).
        schema: The schema to read.
        paths: The data files.
        extra: Columns put first in every select (the engine's virtual columns, e.g. ``_path``).
    """
    head = "".join(f"{c}, " for c in extra)
    selects = [
        f"SELECT {head}{columns} FROM {engine.file_source(files, structure)} AS {FILES_ALIAS}"
        for (structure, columns), (_, files) in file_kinds(table, schema, paths).items()
    ]
    return "(" + " UNION ALL ".join(selects) + ")"


def file_kinds(
    table: Table, schema: Schema, paths: Sequence[str]
) -> dict[tuple[str, str], tuple[Schema, list[str]]]:
    """The files grouped by how they are read: (structure, select list) -> (a file's schema, the paths).

    Files whose footers give the same structure and select list (see :func:`mapped_select`) are read by
    one call; the schema is the first such file's (their stored names and field ids are the same).
    """
    kinds: dict[tuple[str, str], tuple[Schema, list[str]]] = {}
    for path, stored in zip(paths, file_schemas(table, paths), strict=True):
        kinds.setdefault(mapped_select(schema, stored), (stored, []))[1].append(path)
    return kinds
