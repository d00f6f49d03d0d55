"""Planning row-level deletes: which delete files of a snapshot apply to which of its data files.

Planning follows the Iceberg spec's scan planning. Every manifest of the snapshot is read once, keeping
each entry's data sequence number. A position delete file applies to a data file of the same partition
(spec and values) whose data sequence number is lower or equal, and which its path bounds allow. An
equality delete file applies to a data file whose data sequence number is strictly lower, in the same
partition unless the delete file's spec is unpartitioned, and whose column stats its values can meet.

What this reader cannot apply is one clear error naming the feature, never a silently wrong answer:
deletion vectors (format v3 Puffin files), delete or data files in a format other than Parquet, equality
deletes on a nested field.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...errors import InvalidInput

if TYPE_CHECKING:
    from pyiceberg.manifest import DataFile
    from pyiceberg.schema import Schema
    from pyiceberg.table import FileScanTask, Table
    from pyiceberg.types import IcebergType


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
    #: The current type of each equality field (to read the files' value bounds).
    types: dict[int, IcebergType] = field(default_factory=dict)
    #: Decoded value bounds by (file path, field id): each file's are decoded once, not once per pair.
    _decoded: dict[tuple[str, int], tuple[Any, Any] | None] = field(
        default_factory=dict, init=False, repr=False
    )

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
                    if seq < d.seq
                    and (d.unpartitioned or _same_partition(d.file, f))
                    and self._may_match(d.file, f)
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
            d.file
            for d in self.equality
            if seq < d.seq and (d.unpartitioned or _same_partition(d.file, f)) and self._may_match(d.file, f)
        ]
        return position, equality

    def _may_match(self, delete: DataFile, data: DataFile) -> bool:
        """Whether an equality delete file may delete a row of ``data``, by the two files' column stats.

        As Iceberg's own planning does: a row is deleted only when each equality column matches, so one
        column whose values cannot meet rules the file out: no NULL on one side (a NULL matches only a
        NULL) and value ranges that do not overlap (or no value on one side). Missing stats, floats (NaN
        has no bounds) and bounds written before a type promotion never rule a file out.
        """
        for field_id in delete.equality_ids or ():
            field_type = self.types.get(field_id)
            if field_type is None:
                return True
            d_null, d_value = _has(delete, field_id)
            f_null, f_value = _has(data, field_id)
            if d_null and f_null:
                continue
            if d_value and f_value:
                d_range = self._bounds_of(delete, field_id, field_type)
                f_range = self._bounds_of(data, field_id, field_type)
                if d_range is None or f_range is None:
                    continue
                if not (d_range[1] < f_range[0] or f_range[1] < d_range[0]):  # the ranges overlap
                    continue
            return False
        return True

    def _bounds_of(self, f: DataFile, field_id: int, field_type: IcebergType) -> tuple[Any, Any] | None:
        key = (f.file_path, field_id)
        if key not in self._decoded:
            self._decoded[key] = _bounds(f, field_id, field_type)
        return self._decoded[key]

    @property
    def delete_files(self) -> list[DataFile]:
        """Every delete file of the snapshot."""
        return [d.file for d in self.position + self.equality]


def _partition_key(f: DataFile) -> Any:
    from pyiceberg.typedef import Record

    return f.partition if f.partition else Record()


def _same_partition(delete: DataFile, data: DataFile) -> bool:
    return (delete.spec_id or 0) == (data.spec_id or 0) and _partition_key(delete) == _partition_key(data)


def _has(f: DataFile, field_id: int) -> tuple[bool, bool]:
    """Whether the file may hold a NULL, and a value other than NULL, in a column (True when unknown)."""
    nulls, values = _count(f.null_value_counts, field_id), _count(f.value_counts, field_id)
    has_null = nulls is None or nulls > 0
    has_value = nulls is None or values is None or values > nulls
    return has_null, has_value


def _count(counts: Mapping[int, int] | None, field_id: int) -> int | None:
    return None if not counts or field_id not in counts else int(counts[field_id])


def _bounds(f: DataFile, field_id: int, field_type: IcebergType) -> tuple[Any, Any] | None:
    from pyiceberg.conversions import from_bytes
    from pyiceberg.types import (
        DateType,
        DecimalType,
        IntegerType,
        LongType,
        StringType,
        TimestampType,
        TimestamptzType,
        TimeType,
    )

    comparable = (IntegerType, LongType, DateType, TimeType, TimestampType, TimestamptzType, DecimalType,
                  StringType)  # fmt: skip
    if not isinstance(field_type, comparable):
        return None
    lower, upper = (f.lower_bounds or {}).get(field_id), (f.upper_bounds or {}).get(field_id)
    if lower is None or upper is None:
        return None
    try:
        return from_bytes(field_type, lower), from_bytes(field_type, upper)
    except Exception:  # bounds written before a type promotion (4 bytes for a long): unknown
        return None


def _may_reference(delete: DataFile, data: DataFile) -> bool:
    from pyiceberg.table.delete_file_index import _applies_to_data_file

    referenced = getattr(delete, "referenced_data_file", None)
    return referenced in (None, data.file_path) and _applies_to_data_file(delete, data)


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
    types: dict[int, IcebergType] = {}
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
                for field_id in f.equality_ids or ():
                    types[field_id] = table.schema().find_field(field_id).field_type
                spec = specs.get(f.spec_id or 0)
                equality.append(_Delete(f, seq, spec is None or spec.is_unpartitioned()))
            else:
                raise InvalidInput(f"table {name} has a file of unknown content {f.content}: {f.file_path}")
    if not position and not equality:
        return tuple(files), None
    return tuple(files), SnapshotDeletes(seqs, position, equality, types)


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
    from ..datafiles import planned_snapshot

    files, deletes = planned_snapshot(table, snapshot_id)
    if deletes is None:
        return None
    wanted = set(paths)
    applied = deletes.applying_to([f for f in files if f.file_path in wanted])
    return applied or None


def scan_tasks(table: Table, snapshot_id: int) -> tuple[list[FileScanTask], SnapshotDeletes | None]:
    """One scan task per data file of a snapshot, with its position delete files, and the deletes.

    pyiceberg's reader applies a task's position delete files; equality deletes are applied by the
    caller (:func:`drop_equality_deleted`, with :meth:`SnapshotDeletes.for_file`).
    """
    from pyiceberg.table import FileScanTask

    from ..datafiles import planned_snapshot

    files, deletes = planned_snapshot(table, snapshot_id)
    if deletes is None:
        return [FileScanTask(f) for f in files], None
    return [FileScanTask(f, set(deletes.for_file(f)[0])) for f in files], deletes


def applying_by_file(deletes: AppliedDeletes) -> Mapping[str, list[EqualityGroup]]:
    """The equality groups applying to each data file (path as in the manifests)."""
    out: dict[str, list[EqualityGroup]] = defaultdict(list)
    for group in deletes.equality:
        for f in group.files:
            out[f].append(group)
    return out
