"""Row-level delete files (merge-on-read tables written by other engines): planned, applied, compacted.

ratatouille itself writes no delete files (its deletes and merges rewrite data files), but other writers
do: a snapshot may list *position delete* files (``file_path``, ``pos``: the 0-based rows of a data file
that are gone) and *equality delete* files (rows of some columns: every row with those values is gone).

Planning follows the Iceberg spec's scan planning. Every manifest of the snapshot is read once, keeping
each entry's data sequence number. A position delete file applies to a data file of the same partition
(spec and values) whose data sequence number is lower or equal, and which its path bounds allow. An
equality delete file applies to a data file whose data sequence number is strictly lower, in the same
partition unless the delete file's spec is unpartitioned.

The engine applies them while it reads: the data files' read is wrapped in a filter (see
:func:`filtered_source`). Position deletes are an anti-join on the ``_row_number`` virtual column (checked
to match Iceberg's 0-based position), per data file or, over many files, on one integer key made of the
file's number (from ``_path``) and the row number; equality deletes an anti-join on the equality columns,
per group of data files they apply to, where a NULL in a delete row matches a NULL.

What this reader cannot apply is one clear error naming the feature, never a silently wrong answer:
deletion vectors (format v3 Puffin files), delete or data files in a format other than Parquet, equality
deletes on a nested field.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput
from ..sqltext import quote_identifier, quote_literal

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.manifest import DataFile
    from pyiceberg.schema import Schema
    from pyiceberg.table import FileScanTask, Table

    from ..engine import Engine

_POSITION_STRUCTURE = quote_literal("file_path String, pos UInt64")  # the type of _row_number


@dataclass(frozen=True)
class EqualityGroup:
    """Equality delete files on one set of columns, and the data files they all apply to.

    Attributes:
        field_ids: The equality field ids (top-level columns of the table).
        deletes: The delete files' paths.
        files: The data files' paths (as in the manifests).
    """

    field_ids: tuple[int, ...]
    deletes: tuple[str, ...]
    files: tuple[str, ...]


@dataclass(frozen=True)
class AppliedDeletes:
    """The delete files that apply to a read's data files.

    Attributes:
        position: Position delete files' paths.
        position_files: The data files (paths as in the manifests) some position delete applies to.
        equality: Equality delete files, grouped by the data files they apply to.
    """

    position: tuple[str, ...] = ()
    position_files: tuple[str, ...] = ()
    equality: tuple[EqualityGroup, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.position or self.equality)

    @property
    def delete_files(self) -> tuple[str, ...]:
        """Every delete file read."""
        return self.position + tuple(d for g in self.equality for d in g.deletes)


@dataclass(frozen=True)
class _Delete:
    file: DataFile
    seq: int
    unpartitioned: bool = False


@dataclass
class SnapshotDeletes:
    """The delete files of a snapshot, and the data sequence number of each of its data files.

    A data file absent from ``data_seq`` (added by a later append of this process, see
    :func:`ratatouille.tables.datafiles.carry`) is newer than every delete file here.
    """

    data_seq: dict[str, int]
    position: list[_Delete] = field(default_factory=list)
    equality: list[_Delete] = field(default_factory=list)

    def applying_to(self, files: Sequence[DataFile]) -> AppliedDeletes:
        """The delete files that apply to ``files`` (see the module docstring for the rules)."""
        never = 1 << 62
        by_partition: dict[tuple[int, Any], list[DataFile]] = defaultdict(list)
        for f in files:
            by_partition[(f.spec_id or 0, _partition_key(f))].append(f)
        position: list[str] = []
        position_files: set[str] = set()
        for d in self.position:
            hits = [
                f
                for f in by_partition.get((d.file.spec_id or 0, _partition_key(d.file)), [])
                if self.data_seq.get(f.file_path, never) <= d.seq and _may_reference(d.file, f)
            ]
            if hits:
                position.append(d.file.file_path)
                position_files.update(f.file_path for f in hits)
        groups: dict[tuple[int, ...], list[str]] = defaultdict(list)
        if self.equality:
            for f in files:
                seq = self.data_seq.get(f.file_path, never)
                applying = tuple(
                    i
                    for i, d in enumerate(self.equality)
                    if seq < d.seq and (d.unpartitioned or _same_partition(d.file, f))
                )
                if applying:
                    groups[applying].append(f.file_path)
        equality: list[EqualityGroup] = []
        for applying, data_paths in groups.items():
            by_ids: dict[tuple[int, ...], list[str]] = defaultdict(list)
            for i in applying:
                d = self.equality[i]
                by_ids[tuple(d.file.equality_ids or ())].append(d.file.file_path)
            for ids, deletes in by_ids.items():
                equality.append(EqualityGroup(ids, tuple(deletes), tuple(data_paths)))
        ordered = tuple(f.file_path for f in files if f.file_path in position_files)
        return AppliedDeletes(tuple(position), ordered, tuple(equality))

    def for_file(self, f: DataFile) -> tuple[list[DataFile], list[DataFile]]:
        """The position and the equality delete files that apply to the data file ``f``."""
        seq = self.data_seq.get(f.file_path, 1 << 62)
        key = (f.spec_id or 0, _partition_key(f))
        position = [
            d.file
            for d in self.position
            if (d.file.spec_id or 0, _partition_key(d.file)) == key
            and seq <= d.seq
            and _may_reference(d.file, f)
        ]
        equality = [
            d.file for d in self.equality if seq < d.seq and (d.unpartitioned or _same_partition(d.file, f))
        ]
        return position, equality

    @property
    def delete_files(self) -> list[DataFile]:
        """Every delete file of the snapshot."""
        return [d.file for d in self.position + self.equality]


def _partition_key(f: DataFile) -> Any:
    from pyiceberg.typedef import Record

    return f.partition if f.partition else Record()


def _same_partition(delete: DataFile, data: DataFile) -> bool:
    return (delete.spec_id or 0) == (data.spec_id or 0) and _partition_key(delete) == _partition_key(data)


def _may_reference(delete: DataFile, data: DataFile) -> bool:
    from pyiceberg.table.delete_file_index import _applies_to_data_file

    referenced = getattr(delete, "referenced_data_file", None)
    return referenced in (None, data.file_path) and _applies_to_data_file(delete, data)


# -- planning ------------------------------------------------------------------------------------------


def plan_snapshot(table: Table, snapshot_id: int) -> tuple[tuple[DataFile, ...], SnapshotDeletes | None]:
    """Every data file of a snapshot, and its delete files (None when it has none).

    Raises:
        InvalidInput: The snapshot has files this reader cannot apply (deletion vectors, files in a
            format other than Parquet, equality deletes on a nested field).
    """
    from pyiceberg.manifest import INITIAL_SEQUENCE_NUMBER, DataFileContent, FileFormat
    from pyiceberg.utils.concurrent import ExecutorFactory

    name = ".".join(table.name())
    snapshot = table.metadata.snapshot_by_id(snapshot_id)
    if snapshot is None:
        return (), None
    io = table.io
    manifests = snapshot.manifests(io)
    _check_transforms(name, table, {m.partition_spec_id for m in manifests})
    entries = ExecutorFactory.get_or_create().map(
        lambda m: m.fetch_manifest_entry(io, discard_deleted=True), manifests
    )
    files: list[DataFile] = []
    seqs: dict[str, int] = {}
    position: list[_Delete] = []
    equality: list[_Delete] = []
    specs = table.metadata.specs()
    for manifest_entries in entries:
        for entry in manifest_entries:
            f = entry.data_file
            seq = entry.sequence_number if entry.sequence_number is not None else INITIAL_SEQUENCE_NUMBER
            if f.file_format != FileFormat.PARQUET:
                what = (
                    "deletion vectors (Puffin files, format v3)"
                    if f.file_format == FileFormat.PUFFIN
                    else (f"{f.file_format.value} files")
                )
                raise InvalidInput(
                    f"table {name} has {what}, which this reader does not support (only Parquet data and "
                    f"delete files are read): {f.file_path}"
                )
            if f.content == DataFileContent.DATA:
                if f.record_count == 0:
                    continue  # as pyiceberg's planning: an empty file holds no row
                files.append(f)
                seqs[f.file_path] = seq
            elif f.content == DataFileContent.POSITION_DELETES:
                position.append(_Delete(f, seq))
            elif f.content == DataFileContent.EQUALITY_DELETES:
                _check_equality(name, table.schema(), f)
                spec = specs.get(f.spec_id or 0)
                equality.append(_Delete(f, seq, spec is None or spec.is_unpartitioned()))
            else:
                raise InvalidInput(f"table {name} has a file of unknown content {f.content}: {f.file_path}")
    if not position and not equality:
        return tuple(files), None
    return tuple(files), SnapshotDeletes(seqs, position, equality)


def _check_transforms(name: str, table: Table, spec_ids: set[int]) -> None:
    """Refuse partition transforms this reader does not know (their partition values cannot be read)."""
    from pyiceberg.transforms import UnknownTransform

    for spec_id in sorted(spec_ids):
        spec = table.metadata.specs().get(spec_id)
        for f in spec.fields if spec is not None else ():
            if isinstance(f.transform, UnknownTransform):
                raise InvalidInput(
                    f"table {name} is partitioned with the transform "
                    f"{getattr(f.transform, '_transform', f.transform)}, which this reader does "
                    f"not support (partition field {f.name!r})"
                )


def _check_equality(name: str, schema: Schema, delete: DataFile) -> None:
    ids = list(delete.equality_ids or [])
    top = {f.field_id for f in schema.fields}
    if not ids or any(i not in top for i in ids):
        raise InvalidInput(
            f"table {name} has equality deletes on field ids {ids}, which are not all top-level columns "
            f"of its schema: such deletes are not supported here ({delete.file_path})"
        )


def deletes_for(table: Table, snapshot_id: int, paths: Sequence[str]) -> AppliedDeletes | None:
    """The delete files of a snapshot that apply to its data files ``paths`` (None: none)."""
    from .datafiles import planned_snapshot

    files, deletes = planned_snapshot(table, snapshot_id)
    if deletes is None:
        return None
    wanted = set(paths)
    applied = deletes.applying_to([f for f in files if f.file_path in wanted])
    return applied or None


# -- applying in the engine ---------------------------------------------------------------------------


#: Up to this many data files with position deletes, each is read on its own, filtered on its row number
#: alone (each such read scans the delete files again); beyond, one read filters on a key made of the
#: file's number and the row number (:func:`_positions`), and the delete files are read once.
PER_FILE_POSITIONS = 16

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
    reads: list[str] = []
    if deletes.position and len(positioned) <= PER_FILE_POSITIONS:
        plain = [f for f in files if f not in positioned]
        if plain:
            reads += _reads(engine, plain, structure, [_equality(engine, deletes, stored, plain)])
        source = engine.file_source(list(deletes.position), _POSITION_STRUCTURE)
        for f in (f for f in files if f in positioned):
            rows = f"_row_number NOT IN (SELECT pos FROM {source} WHERE file_path = {quote_literal(f)})"
            reads += _reads(engine, [f], structure, [rows, _equality(engine, deletes, stored, [f])])
    else:
        position = _positions(engine, deletes) if deletes.position else ""
        reads += _reads(engine, files, structure, [position, _equality(engine, deletes, stored, files)])
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
    from .rowlevel import engine_path

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
    from ..arrowtypes import iceberg_to_clickhouse, nullable
    from .rowlevel import engine_path

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


def scan_tasks(table: Table, snapshot_id: int) -> tuple[list[FileScanTask], SnapshotDeletes | None]:
    """One scan task per data file of a snapshot, with its position delete files, and the deletes.

    pyiceberg's reader applies a task's position delete files; equality deletes are applied by the
    caller (:func:`drop_equality_deleted`, with :meth:`SnapshotDeletes.for_file`).
    """
    from pyiceberg.table import FileScanTask

    from .datafiles import planned_snapshot

    files, deletes = planned_snapshot(table, snapshot_id)
    if deletes is None:
        return [FileScanTask(f) for f in files], None
    return [FileScanTask(f, set(deletes.for_file(f)[0])) for f in files], deletes


# -- applying in Arrow (compaction) --------------------------------------------------------------------


def without_equality_deleted(table: Table, rows: pa.Table, deletes: Sequence[DataFile]) -> pa.Table:
    """The rows of one data file (read with the current schema) less those its equality deletes remove."""
    schema = table.schema()
    for d in deletes:
        names = [schema.find_column_name(i) or "" for i in d.equality_ids or ()]
        rows = drop_equality_deleted(rows, read_equality_deletes(table, [d.file_path], names))
    return rows


def read_equality_deletes(table: Table, paths: Iterable[str], names: Sequence[str]) -> pa.Table:
    """The rows of equality delete files, the columns ``names`` (the table's current names)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = []
    for path in paths:
        with table.io.new_input(path).open() as stream:
            rows = pq.read_table(stream)
        by_id = _columns_by_field_id(rows)
        schema = table.schema()
        picked = {}
        for n in names:
            fid = schema.find_field(n).field_id
            picked[n] = rows.column(by_id[fid]) if fid in by_id else rows.column(n)
        parts.append(pa.table(picked))
    return pa.concat_tables(parts, promote_options="permissive") if parts else pa.table({})


def _columns_by_field_id(rows: pa.Table) -> dict[int, str]:
    out: dict[int, str] = {}
    for f in rows.schema:
        raw = (f.metadata or {}).get(b"PARQUET:field_id")
        if raw is not None and raw.decode().lstrip("-").isdigit():
            out[int(raw)] = f.name
    return out


def drop_equality_deleted(rows: pa.Table, deleted: pa.Table) -> pa.Table:
    """``rows`` without those whose values in ``deleted``'s columns are a row of ``deleted``.

    A NULL in a delete row matches a NULL.
    """
    import pyarrow.compute as pc

    names = deleted.column_names
    if deleted.num_rows == 0 or rows.num_rows == 0:
        return rows
    if len(names) == 1:
        values = deleted.column(0).combine_chunks().cast(rows.schema.field(names[0]).type)
        hit = pc.is_in(rows.column(names[0]), value_set=values, skip_nulls=False)
        return rows.filter(pc.invert(hit))
    gone = set(zip(*(deleted.column(n).to_pylist() for n in names), strict=True))
    keys = zip(*(rows.column(n).to_pylist() for n in names), strict=True)
    import pyarrow as pa

    return rows.filter(pa.array([k not in gone for k in keys], pa.bool_()))


def applying_by_file(deletes: AppliedDeletes) -> Mapping[str, list[EqualityGroup]]:
    """The equality groups applying to each data file (path as in the manifests)."""
    out: dict[str, list[EqualityGroup]] = defaultdict(list)
    for group in deletes.equality:
        for f in group.files:
            out[f].append(group)
    return out
