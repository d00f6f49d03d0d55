"""Resolving table references to exactly one snapshot, and rendering that snapshot as engine SQL.

A reference is resolved through the catalog (never by looking at a folder): a branch head, a tag, a
snapshot id or the snapshot current at a time. The snapshot's data files, listed from its manifests, are
handed to the engine by name, so files of other snapshots or branches are never read.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .arrowtypes import empty_select, iceberg_to_clickhouse, nullable
from .catalog import load_table
from .errors import NotFound
from .sqltext import TableRef, quote_identifier, quote_literal

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.schema import Schema
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot

    from .engine import Engine
    from .tables.deletes import AppliedDeletes

MAIN = "main"


@dataclass(frozen=True)
class ResolvedTable:
    """A table reference bound to one snapshot.

    Attributes:
        ref: The reference as written.
        table: The loaded pyiceberg table.
        snapshot_id: The snapshot read, or None for a table with no data yet.
        branch: The branch whose head was taken (None for tags, snapshot ids and times).
    """

    ref: TableRef
    table: Table
    snapshot_id: int | None
    branch: str | None

    @property
    def snapshot(self) -> Snapshot | None:
        """The snapshot object, if any."""
        return None if self.snapshot_id is None else self.table.metadata.snapshot_by_id(self.snapshot_id)

    @property
    def schema(self) -> Schema:
        """The schema the snapshot is read with.

        A branch head is read with the table's current schema (a rename or a reorder since its last write
        shows), less the fields its snapshot's schema does not know: a column added on a dev branch is
        table-wide in Iceberg, and main's head does not show it before main is written with it. A tag, a
        snapshot id or a time is read with the schema its snapshot was written with. An empty table: the
        current schema.
        """
        current = self.table.schema()
        written = self.written_schema
        if written is None:
            return current
        if self.branch is None:
            return written
        if written.schema_id == current.schema_id:
            return current
        return _known_fields(current, written)

    @property
    def written_schema(self) -> Schema | None:
        """The schema the snapshot was written with (None without a snapshot, or when it names none)."""
        snap = self.snapshot
        if snap is not None and snap.schema_id is not None:
            for schema in self.table.metadata.schemas:
                if schema.schema_id == snap.schema_id:
                    return schema
        return None

    @property
    def schema_key(self) -> int:
        """Which schema :attr:`schema` is, for one snapshot: the current one's id for a branch head."""
        written = self.written_schema
        if written is None or self.branch is not None:
            return self.table.schema().schema_id
        return written.schema_id


def _known_fields(current: Schema, written: Schema) -> Schema:
    """``current`` less the fields (at any depth) whose ids ``written`` does not have."""
    from pyiceberg.schema import Schema, index_by_id, prune_columns

    known = set(index_by_id(written))
    if known >= set(index_by_id(current)):
        return current
    pruned = prune_columns(current, known, select_full_types=False)
    return Schema(*pruned.fields, schema_id=current.schema_id, identifier_field_ids=[])


def head_snapshot_id(table: Table, branch: str) -> int | None:
    """The head snapshot of a branch of a table, or None when the branch does not exist on it."""
    ref = table.metadata.refs.get(branch)
    return None if ref is None else ref.snapshot_id


def resolve(catalog: Catalog, ref: TableRef, active_branch: str | None = None) -> ResolvedTable:
    """Resolve a reference to one snapshot.

    Without an explicit ``@ref``, the active branch's head is read when the table has that branch, and
    main otherwise (a table not yet written on a dev branch is read from main).

    Raises:
        NotFound: The table, ref, snapshot or time does not exist.
    """
    # A table created on a branch (not published yet) is found on that branch: the one named, else the
    # active one.
    table = load_table(catalog, ref.identifier, ref.ref if ref.ref and ref.ref != MAIN else active_branch)
    meta = table.metadata
    if ref.snapshot_id is not None:
        if meta.snapshot_by_id(ref.snapshot_id) is None:
            raise NotFound(f"table {ref.identifier} has no snapshot {ref.snapshot_id}")
        return ResolvedTable(ref, table, ref.snapshot_id, None)
    if ref.as_of is not None:
        return ResolvedTable(ref, table, _snapshot_as_of(table, ref), None)
    if ref.ref is not None:
        if ref.ref not in meta.refs:
            if ref.ref == MAIN and not meta.snapshots:
                return ResolvedTable(ref, table, None, MAIN)
            known = ", ".join(sorted(meta.refs)) or "none"
            raise NotFound(f"table {ref.identifier} has no branch or tag {ref.ref!r} (it has: {known})")
        found = meta.refs[ref.ref]
        is_branch = found.snapshot_ref_type.value == "branch"
        return ResolvedTable(ref, table, found.snapshot_id, ref.ref if is_branch else None)
    if active_branch and active_branch != MAIN and active_branch in meta.refs:
        return ResolvedTable(ref, table, meta.refs[active_branch].snapshot_id, active_branch)
    return ResolvedTable(ref, table, head_snapshot_id(table, MAIN), MAIN)


def _snapshot_as_of(table: Table, ref: TableRef) -> int:
    assert ref.as_of is not None
    stamp_ms = int(ref.as_of.timestamp() * 1000)
    best: int | None = None
    for entry in table.metadata.snapshot_log:  # main's history, as time travel means "main as of"
        if entry.timestamp_ms <= stamp_ms:
            best = entry.snapshot_id
    if best is None:
        first = table.metadata.snapshot_log[0].timestamp_ms if table.metadata.snapshot_log else None
        when = (
            f"; its first snapshot is at {dt.datetime.fromtimestamp(first / 1000, dt.UTC).isoformat()}"
            if first
            else ""
        )
        raise NotFound(f"table {ref.identifier} has no snapshot at or before {ref.as_of.isoformat()}{when}")
    return best


@dataclass(frozen=True)
class ReadPlan:
    """What one reference reads: the data files of its snapshot that may hold rows the query keeps.

    Attributes:
        ref: The reference as written.
        snapshot_id: The snapshot read (None for a table with no data yet).
        row_filter: The Iceberg filter the files were planned with (``AlwaysTrue()``: all files).
        files: The data files read.
        total_files: The number of data files of the snapshot.
        deletes: The row-level delete files that apply to ``files`` (None: none).
    """

    ref: TableRef
    snapshot_id: int | None
    row_filter: str
    files: tuple[str, ...]
    total_files: int
    deletes: AppliedDeletes | None = None

    @property
    def planned_files(self) -> int:
        """The number of data files read."""
        return len(self.files)

    @property
    def filtered(self) -> bool:
        """True when the query's conditions gave the read an Iceberg filter."""
        return self.row_filter != "AlwaysTrue()"

    @property
    def pruned(self) -> bool:
        """True when some data files are skipped."""
        return len(self.files) < self.total_files


class _FileListCache:
    """Data files per (table uuid, snapshot id, row filter): a snapshot never changes, so a plan is kept."""

    def __init__(self, capacity: int = 256) -> None:
        self._items: OrderedDict[tuple[str, int, str], tuple[str, ...]] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def get(self, resolved: ResolvedTable, row_filter: BooleanExpression | None = None) -> tuple[str, ...]:
        """The data files of the snapshot that may hold rows matching ``row_filter`` (None: all)."""
        assert resolved.snapshot_id is not None
        key = (str(resolved.table.metadata.table_uuid), resolved.snapshot_id, _filter_key(row_filter))
        found = self.peek(key)
        if found is not None:
            return found
        files = _plan_files(resolved, row_filter)
        with self._lock:
            self._items[key] = files
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return files

    def peek(self, key: tuple[str, int, str]) -> tuple[str, ...] | None:
        """The cached plan of a key, if any."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None


def _filter_key(row_filter: BooleanExpression | None) -> str:
    from pyiceberg.expressions import AlwaysTrue

    return "" if row_filter is None or row_filter == AlwaysTrue() else repr(row_filter)


def _plan_files(resolved: ResolvedTable, row_filter: BooleanExpression | None = None) -> tuple[str, ...]:
    # Imported here: the tables package imports this module.
    from .tables.datafiles import matching_files

    assert resolved.snapshot_id is not None
    files = matching_files(resolved.table, resolved.snapshot_id, row_filter, with_deletes=True)
    return tuple(f.file_path for f in files)


FILE_LISTS = _FileListCache()


def plan_read(resolved: ResolvedTable, row_filter: BooleanExpression | None = None) -> ReadPlan:
    """The data files a reference reads: all of its snapshot's, or those ``row_filter`` may match.

    Iceberg prunes with partition values and column statistics; the filter must hold for every row the
    query keeps (see :mod:`ratatouille.sql.pruning`).
    """
    if resolved.snapshot_id is None:
        return ReadPlan(resolved.ref, None, "AlwaysTrue()", (), 0)
    files = FILE_LISTS.get(resolved, row_filter)
    key = _filter_key(row_filter)
    deletes = _deletes_for(resolved, files)
    if not key:
        return ReadPlan(resolved.ref, resolved.snapshot_id, "AlwaysTrue()", files, len(files), deletes)
    return ReadPlan(resolved.ref, resolved.snapshot_id, key, files, _total_files(resolved), deletes)


def _deletes_for(resolved: ResolvedTable, files: tuple[str, ...]) -> AppliedDeletes | None:
    """The row-level delete files that apply to ``files`` of the snapshot (see :mod:`.tables.deletes`)."""
    from .tables.deletes import deletes_for

    assert resolved.snapshot_id is not None
    return deletes_for(resolved.table, resolved.snapshot_id, files)


def _total_files(resolved: ResolvedTable) -> int:
    assert resolved.snapshot_id is not None
    listed = FILE_LISTS.peek((str(resolved.table.metadata.table_uuid), resolved.snapshot_id, ""))
    if listed is not None:
        return len(listed)
    snap = resolved.snapshot
    total = snap.summary["total-data-files"] if snap is not None and snap.summary is not None else None
    if total is not None and str(total).isdigit():
        return int(total)  # pyiceberg and other writers keep it: no second planning
    return len(FILE_LISTS.get(resolved))


def structure_of(schema: Schema) -> str:
    """The ClickHouse structure literal (``'a Nullable(Int64), ...'``) of an Iceberg schema."""
    cols = [
        f"{quote_identifier(f.name)} {nullable(iceberg_to_clickhouse(f.field_type))}" for f in schema.fields
    ]
    return quote_literal(", ".join(cols))


def physical_schema(schema: Schema) -> Schema:
    """The schema with the names its Parquet files hold.

    pyiceberg writes a name that is not a valid Avro name (a space, a quote, a leading digit...) in a
    sanitized form (``Order Date`` as ``Order_x20Date``), in nested structs too; readers match by field
    id. The engine reads by name, so it is given the names in the files.
    """
    from pyiceberg.schema import sanitize_column_names

    return sanitize_column_names(schema)


def logical_columns(schema: Schema, physical: Schema) -> str:
    """The select list that turns the files' columns (``physical``) into the table's (``schema``)."""
    from .fieldmapping import stored_column

    out = []
    for logical, stored in zip(schema.fields, physical.fields, strict=True):
        # Nested names that differ: structs rebuilt field by field (the engine casts named tuples by name).
        column = stored_column(logical.field_type, stored.field_type, quote_identifier(stored.name))
        out.append(
            column
            if column == quote_identifier(logical.name)
            else f"{column} AS {quote_identifier(logical.name)}"
        )
    return ", ".join(out)


def source_sql(engine: Engine, resolved: ResolvedTable, plan: ReadPlan | None = None) -> str:
    """A parenthesized SELECT over exactly the snapshot's data, usable wherever a table goes in SQL.

    Columns are matched by Iceberg field id (:mod:`ratatouille.fieldmapping`); when no schema of the
    table ever renamed a field or reused a name, that is a plain read by name.

    Args:
        engine: The engine the SQL is for.
        resolved: The resolved reference.
        plan: The files to read (:func:`plan_read`); all the snapshot's files when omitted.
    """
    schema = resolved.schema
    if resolved.snapshot_id is None:
        return f"({empty_select(schema)})"
    files = list(plan.files if plan is not None else FILE_LISTS.get(resolved))
    if not files:
        return f"({empty_select(schema)})"
    # Row-level deletes (tables/deletes/): the read of the files, less the rows they remove.
    deletes = plan.deletes if plan is not None else _deletes_for(resolved, tuple(files))
    if deletes:
        return _source_less_deletes(engine, resolved, files, deletes, plan is not None and plan.filtered)
    return files_source(engine, resolved.table, schema, files)


def _source_less_deletes(
    engine: Engine, resolved: ResolvedTable, files: list[str], deletes: AppliedDeletes, filters: bool
) -> str:
    from .fieldmapping import FILES_ALIAS, file_kinds, file_schemas, names_are_ids
    from .tables.deletes import filtered_source

    schema = resolved.schema
    if names_are_ids(resolved.table.metadata, schema):
        stored = physical_schema(schema)
        source = filtered_source(engine, files, structure_of(stored), stored, deletes, query_filters=filters)
        return f"(SELECT {logical_columns(schema, stored)} FROM {source})"
    # Columns renamed or re-created: each kind of file (by its footer) is filtered with its own names,
    # and the equality delete files are read by theirs (field ids match them all).
    table = resolved.table
    equality = [d for group in deletes.equality for d in group.deletes]
    delete_schemas = dict(zip(equality, file_schemas(table, equality), strict=True)) if equality else None
    selects = [
        f"SELECT {columns} FROM "
        + filtered_source(engine, paths, structure, stored, deletes, delete_schemas, filters)
        + f" AS {FILES_ALIAS}"
        for (structure, columns), (stored, paths) in file_kinds(table, schema, files).items()
    ]
    return "(" + " UNION ALL ".join(selects) + ")"


def files_source(
    engine: Engine, table: Table, schema: Schema, files: Sequence[str], extra: Sequence[str] = ()
) -> str:
    """A parenthesized SELECT of ``schema``'s columns (after the ``extra`` ones) over data files."""
    from .fieldmapping import mapped_source, names_are_ids

    if not names_are_ids(table.metadata, schema):
        return mapped_source(engine, table, schema, files, extra)
    stored = physical_schema(schema)
    head = "".join(f"{c}, " for c in extra)
    return (
        f"(SELECT {head}{logical_columns(schema, stored)} "
        f"FROM {engine.file_source(list(files), structure_of(stored))})"
    )
