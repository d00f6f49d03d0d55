"""The data files of a snapshot: planned once, kept, and carried across this process's own commits.

A snapshot never changes, so its data files (read from its manifests, which costs one read per manifest)
are kept per (table uuid, snapshot id). Pruning evaluates a row filter on the kept files with the same
partition and metrics evaluators pyiceberg's scan uses. And a write knows exactly what its snapshot
changed (the files it removed and added, on the head it asserted at commit), so the new snapshot's list
is derived without reading a manifest: the next merge, delete or first query of that snapshot plans for
free.

A snapshot with row-level delete files (written by another engine) keeps them next to its data files
(:mod:`.deletes`): reads apply them, writes that rewrite data files refuse such a table until
compaction has rewritten it into plain files.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput

if TYPE_CHECKING:
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.manifest import DataFile
    from pyiceberg.table import Table

    from .deletes import SnapshotDeletes

#: Snapshots whose file lists are kept (least recently used go first).
CAPACITY = 128


Planned = tuple["tuple[DataFile, ...]", "SnapshotDeletes | None"]


class _SnapshotFiles:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._items: OrderedDict[tuple[str, int], Planned] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int]) -> Planned | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, int], files: Planned) -> None:
        with self._lock:
            self._items[key] = files
            self._items.move_to_end(key)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


SNAPSHOT_FILES = _SnapshotFiles()


def _key(table: Table, snapshot_id: int) -> tuple[str, int]:
    return str(table.metadata.table_uuid), snapshot_id


def planned_snapshot(table: Table, snapshot_id: int) -> Planned:
    """Every data file of a snapshot, and its row-level delete files (None when it has none).

    Raises:
        InvalidInput: The snapshot has files this reader cannot apply (see :mod:`.deletes`).
    """
    from .deletes import plan_snapshot

    key = _key(table, snapshot_id)
    found = SNAPSHOT_FILES.get(key)
    if found is None:
        found = plan_snapshot(table, snapshot_id)
        SNAPSHOT_FILES.put(key, found)
    return found


def snapshot_files(table: Table, snapshot_id: int, *, with_deletes: bool = False) -> tuple[DataFile, ...]:
    """Every data file of a snapshot.

    Args:
        table: The table.
        snapshot_id: The snapshot.
        with_deletes: True when the caller applies the snapshot's delete files (a read); a write that
            rewrites data files refuses a snapshot with delete files.

    Raises:
        InvalidInput: The snapshot has row-level delete files (written by another engine) and
            ``with_deletes`` is False.
    """
    files, deletes = planned_snapshot(table, snapshot_id)
    if deletes is not None and not with_deletes:
        name = ".".join(table.name())
        raise InvalidInput(
            f"table {name} has row-level delete files (written by another engine), which this write does "
            f"not rewrite: compact it first (rat.ice_compact({name!r}) rewrites it into plain data files)"
        )
    return files


def matching_files(
    table: Table, snapshot_id: int, row_filter: BooleanExpression | None = None, *, with_deletes: bool = False
) -> list[DataFile]:
    """The data files of a snapshot that may hold rows matching ``row_filter`` (all without one).

    Partition values and column statistics prune, exactly as in pyiceberg's own planning.
    ``with_deletes``: see :func:`snapshot_files`.
    """
    from pyiceberg.expressions import AlwaysTrue
    from pyiceberg.expressions.visitors import _InclusiveMetricsEvaluator, expression_evaluator
    from pyiceberg.schema import Schema

    files = snapshot_files(table, snapshot_id, with_deletes=with_deletes)
    if row_filter is None or row_filter == AlwaysTrue():
        return list(files)
    # pyiceberg's scan builds (and binds the filter for) an evaluator per file, which costs as much as
    # the filter is long (an IN list of a merge's keys): here each is built once, in this one thread.
    scan = table.scan(snapshot_id=snapshot_id, row_filter=row_filter)
    meta = table.metadata
    metrics = _InclusiveMetricsEvaluator(meta.schema(), row_filter, True, False)
    by_spec: dict[int, Any] = {}

    def in_partition(f: DataFile) -> bool:
        if f.spec_id not in by_spec:
            spec = meta.specs()[f.spec_id]
            partition_schema = Schema(*spec.partition_type(meta.schema()).fields)
            projected = scan.partition_filters[f.spec_id]
            by_spec[f.spec_id] = expression_evaluator(partition_schema, projected, True)
        return bool(by_spec[f.spec_id](f.partition))

    return [f for f in files if in_partition(f) and metrics.eval(f)]


def carry(
    table: Table,
    parent_id: int | None,
    snapshot_id: int | None,
    removed: Sequence[DataFile],
    added: Iterable[DataFile],
) -> None:
    """Record the files of a snapshot a write just committed on ``parent_id``.

    They are the parent's, less ``removed``, plus ``added``; nothing is recorded when the parent's list
    is not kept.
    """
    if snapshot_id is None:
        return
    new = tuple(added)
    for f in new:
        if not hasattr(f, "_spec_id"):  # set when pyiceberg reads a manifest; a new file is in the default
            f.spec_id = table.metadata.default_spec_id
    if parent_id is None:
        SNAPSHOT_FILES.put(_key(table, snapshot_id), (new, None))
        return
    before = SNAPSHOT_FILES.get(_key(table, parent_id))
    if before is None:
        return
    gone = {f.file_path for f in removed}
    # The parent's delete files stay (an append keeps them); the new files are newer than all of them.
    files, deletes = before
    SNAPSHOT_FILES.put(
        _key(table, snapshot_id), (tuple(f for f in files if f.file_path not in gone) + new, deletes)
    )
