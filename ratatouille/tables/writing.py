"""Writes: append, overwrite, overwrite_partitions, merge and delete, each one Iceberg commit.

A write reads as one straight line, re-run from the top when another writer commits first:

1. **plan** (once): check the mode, keys, partitioning and data before anything is touched;
2. **align**: load the table, evolve its schema in the write's transaction (new columns, promotions);
3. **compute**: the files the snapshot removes and the rows it adds, in proportion to the change
   (a merge or delete rewrites only the files holding affected rows);
4. **commit**: one snapshot with provenance properties.

A table that does not exist is created (with its partition spec) in the same commit as its first data, so
a failed first write leaves no table behind. Created on a dev branch, it is hidden from main until the
branch is published (see :mod:`ratatouille.branches.hidden`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..branches.hidden import staged_identifier, staged_properties
from ..catalog import ensure_namespace, load_table, split_identifier
from ..errors import InvalidInput
from ..reading import MAIN, head_snapshot_id
from ..sqltext import validate_branch_name
from .commit import (
    COMMIT_MARKER,
    PROPERTY_PREFIX,
    conform,
    ensure_branch,
    retrying,
    snapshot_properties,
    sort_for_write,
    stage_files,
    transaction,
)
from .datafiles import carry
from .deleting import check_predicate, delete_change
from .evolution import align
from .merging import RowChange, check_batch, merge_change
from .outcome import commit_or_find
from .partitioning import build_spec, check_spec, normalize_partition_by

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.manifest import DataFile
    from pyiceberg.table import Table, Transaction
    from pyiceberg.table.metadata import TableMetadata

    from ..engine import Engine

MODES = ("append", "overwrite", "overwrite_partitions", "merge")
#: Table properties every table ratatouille creates gets (Iceberg's standard names).
CREATE_PROPERTIES = {
    # Files of about 64 MiB (in memory): a merge or delete rewrites few rows, and a laptop reads fast.
    "write.target-file-size-bytes": str(64 * 1024 * 1024),
    # Appends merge small manifests as they go, so planning a snapshot stays cheap after many writes.
    "commit.manifest-merge.enabled": "true",
    "commit.manifest.min-count-to-merge": "50",
    # Old metadata files are removed at commit (the catalog points at the newest).
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": "20",
}


@dataclass
class WriteResult:
    """What a write did.

    Attributes:
        target: ``namespace.table``.
        mode: ``append``, ``overwrite``, ``overwrite_partitions``, ``merge`` or ``delete``.
        branch: The branch written.
        rows: Rows written (for a merge: rows in the batch; for a delete: rows deleted).
        inserted: Rows inserted (merge), else rows written.
        updated: Rows updated (merge), else 0.
        snapshot_id: The new snapshot id (the unchanged head when nothing was written).
        columns_added: Columns the write added to the schema.
        created: True when the write created the table.
        files_added: Data files the snapshot added.
        files_removed: Data files the snapshot removed (rewritten or dropped).
    """

    target: str
    mode: str
    branch: str
    rows: int
    inserted: int
    updated: int
    snapshot_id: int | None
    columns_added: list[str] = field(default_factory=list)
    created: bool = False
    files_added: int = 0
    files_removed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The contract's dict: ``rows`` (or ``inserted``/``updated``), ``mode``, ``target``, ``branch``..."""
        out = asdict(self)
        if self.mode != "merge":
            out.pop("inserted")
            out.pop("updated")
        return out


class SourceMoved(Exception):
    """The head a write's data was computed from is not the head any more (the caller recomputes)."""


@dataclass(frozen=True)
class WritePlan:
    """A checked write, ready to be attempted (again, after a concurrent commit)."""

    target: str
    mode: str
    keys: list[str] | None
    branch: str
    props: dict[str, str]
    partition_by: list[str] | None
    after_commit: Callable[[Table], object] | None = None
    source_snapshot: int | None = None


def check_mode(mode: str, merge_keys: list[str] | str | None) -> list[str] | None:
    """Validate a write mode and its keys; return the keys as a list."""
    if mode not in MODES:
        raise InvalidInput(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    keys = [merge_keys] if isinstance(merge_keys, str) else list(merge_keys or [])
    if mode == "merge" and not keys:
        raise InvalidInput("mode 'merge' needs merge_keys, for example merge_keys=['id']")
    if mode != "merge" and keys:
        raise InvalidInput(f"merge_keys only apply to mode 'merge' (the mode is {mode!r})")
    return keys or None


def write_table(
    catalog: Catalog,
    engine: Engine,
    data: pa.Table,
    target: str,
    *,
    mode: str = "append",
    merge_keys: list[str] | None = None,
    branch: str = MAIN,
    context: Mapping[str, Any] | None = None,
    operation: str | None = None,
    partition_by: str | Sequence[str] | None = None,
    after_commit: Callable[[Table], object] | None = None,
    source_snapshot: int | None = None,
) -> WriteResult:
    """Write Arrow data to a table in one commit.

    Args:
        catalog: The catalog.
        engine: The engine (a merge finds the rows it matches there).
        data: The rows.
        target: ``namespace.table``; created (with its namespace) if missing.
        mode: ``append``, ``overwrite``, ``overwrite_partitions`` (replace only the partitions present
            in ``data``) or ``merge``.
        merge_keys: Key columns for ``merge``.
        branch: The branch to write; created from main's head when the table lacks it.
        context: Provenance stamped on the snapshot (notebook, cell, pipeline run...).
        operation: The operation name recorded (defaults to the mode).
        partition_by: Partition terms for a table this write creates (``["day(ts)", "bucket(16, id)"]``);
            for an existing table they must match its partitioning.
        after_commit: Called with the committed table (light maintenance), never for a failed write.
        source_snapshot: The snapshot of the target the data was computed from (a transform reading
            its own target): the write commits on that head only, else raises :class:`SourceMoved`.

    Returns:
        What the write did.

    Raises:
        InvalidInput: Bad mode, keys, partitioning or a type conflict; nothing is written.
        Conflict: Concurrent writers kept winning after several attempts; nothing is written.
    """
    keys = check_mode(mode, merge_keys)
    split_identifier(target)
    validate_branch_name(branch)
    if not isinstance(data, pa.Table):
        raise InvalidInput(f"expected an Arrow table, got {type(data).__name__}")
    if data.num_columns == 0:
        raise InvalidInput(f"nothing to write to {target}: the data has no columns")
    if keys:
        check_batch(data, keys, target)
    plan = WritePlan(
        target, mode, keys, branch, snapshot_properties(operation or mode, context),
        normalize_partition_by(partition_by), after_commit, source_snapshot,
    )  # fmt: skip
    return retrying(lambda: _attempt(catalog, engine, data, plan), f"commit to {target}")


def delete_rows(
    catalog: Catalog,
    engine: Engine,
    target: str,
    predicate: str,
    *,
    branch: str = MAIN,
    context: Mapping[str, Any] | None = None,
    after_commit: Callable[[Table], object] | None = None,
) -> WriteResult:
    """Delete the rows where ``predicate`` (ClickHouse SQL over the table's columns) is true; one commit.

    Returns:
        The result; ``rows`` is the number of rows deleted (no commit when it is 0).

    Raises:
        InvalidInput: The predicate does not parse or names unknown columns; nothing is written.
        NotFound: No such table.
    """
    validate_branch_name(branch)
    table = load_table(catalog, target, branch)
    columns = check_predicate(engine, table.schema(), predicate, target)
    props = snapshot_properties("delete", {**(context or {}), "predicate": predicate})

    def attempt() -> WriteResult:
        table = load_table(catalog, target, branch)
        tx = transaction(table)
        ensure_branch(tx, table, branch)
        meta = tx.table_metadata
        head = _read_head(meta, branch)
        change = delete_change(engine, table, meta, head, predicate, columns)
        if not change.delete:
            return WriteResult(target, "delete", branch, 0, 0, 0, head_snapshot_id(table, branch))
        added = stage_files(tx, table, branch, props, add=change.add, delete=change.delete, metadata=meta)
        return _commit(
            tx, table, target, "delete", branch, change.deleted, change, added, head, after_commit,
            props[COMMIT_MARKER],
        )  # fmt: skip

    return retrying(attempt, f"commit to {target}")


def _read_head(meta: TableMetadata, branch: str) -> int | None:
    """The snapshot a write on ``branch`` starts from (main's head for a branch not created yet)."""
    snap = meta.snapshot_by_name(branch) or (meta.snapshot_by_name(MAIN) if branch != MAIN else None)
    return None if snap is None else snap.snapshot_id


def _load_target(catalog: Catalog, target: str, branch: str) -> Table | None:
    """The table a write on ``branch`` goes to (on a dev branch, maybe one created there), or None."""
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    from ..branches.hidden import find_staged

    if branch != MAIN and (staged := find_staged(catalog, target, branch)) is not None:
        return staged
    try:
        return catalog.load_table(target)
    except (NoSuchTableError, NoSuchNamespaceError):
        return None


def _attempt(catalog: Catalog, engine: Engine, data: pa.Table, plan: WritePlan) -> WriteResult:
    # align
    table = _load_target(catalog, plan.target, plan.branch)
    if table is None:
        return _create_and_write(catalog, data, plan)
    check_spec(plan.partition_by, table.schema(), table.spec(), plan.target)
    if plan.mode == "overwrite_partitions" and table.spec().is_unpartitioned():
        raise InvalidInput(
            f"mode 'overwrite_partitions' needs a partitioned table; {plan.target} is not partitioned "
            "(use mode 'overwrite' to replace it all)"
        )
    aligned = align(data, table.schema(), plan.target, fill_missing=plan.mode != "merge")
    tx = transaction(table)
    if aligned.new_schema is not None:
        with tx.update_schema() as update:
            update.union_by_name(aligned.new_schema)
    ensure_branch(tx, table, plan.branch)
    # The staged metadata (schema evolved, branch created) that the change is computed against.
    meta = tx.table_metadata
    if plan.source_snapshot is not None and _read_head(meta, plan.branch) != plan.source_snapshot:
        raise SourceMoved(plan.target)  # the commit asserts this head: the data must come from it
    # compute
    change = _compute(engine, table, meta, plan, aligned.data)
    # commit
    props = plan.props
    if plan.mode == "merge":
        props = {**props, f"{PROPERTY_PREFIX}inserted": str(change.inserted),
                 f"{PROPERTY_PREFIX}updated": str(change.updated)}  # fmt: skip
    added = stage_files(tx, table, plan.branch, props, add=change.add, delete=change.delete, metadata=meta)
    result = _commit(
        tx,
        table,
        plan.target,
        plan.mode,
        plan.branch,
        aligned.data.num_rows,
        change,
        added,
        _read_head(meta, plan.branch),
        plan.after_commit,
        plan.props[COMMIT_MARKER],
    )
    result.columns_added = aligned.added
    return result


def _compute(engine: Engine, table: Table, meta: TableMetadata, plan: WritePlan, data: pa.Table) -> RowChange:
    """The files the write removes and the rows it adds."""
    from .rowlevel import plan_data_files

    head = _read_head(meta, plan.branch)
    if plan.mode == "merge":
        assert plan.keys is not None
        return merge_change(engine, table, meta, head, data, plan.keys)
    rows = sort_for_write(conform(data, meta), _sort_columns(meta))
    if plan.mode == "append" or head is None:
        return RowChange(add=rows, inserted=rows.num_rows)
    existing = plan_data_files(table, head)
    if plan.mode == "overwrite":
        return RowChange(add=rows, delete=existing, inserted=rows.num_rows)
    return RowChange(
        add=rows, delete=_in_partitions(meta, rows, existing, plan.target), inserted=rows.num_rows
    )


def _sort_columns(meta: TableMetadata) -> list[str]:
    """The columns of the table's declared sort order (ascending), if any."""
    order = meta.sort_order_by_id(meta.default_sort_order_id)
    if order is None:
        return []
    schema = meta.schema()
    names = [schema.find_column_name(f.source_id) for f in order.fields if str(f.transform) == "identity"]
    return [n for n in names if n]


def _in_partitions(meta: TableMetadata, rows: pa.Table, existing: list[Any], target: str) -> list[Any]:
    """The existing files in the partitions ``rows`` fall into (dynamic partition overwrite)."""
    from pyiceberg.io.pyarrow import _determine_partitions

    spec = meta.spec()
    if any(f.spec_id != spec.spec_id for f in existing):
        raise InvalidInput(
            f"{target} has files written under an earlier partitioning; compact it "
            f"(rat.ice_compact({target!r})) before replacing partitions"
        )
    if rows.num_rows == 0:
        return []  # no partition to replace (pyiceberg cannot partition an empty table)
    touched = {p.partition_key.partition for p in _determine_partitions(spec, meta.schema(), rows)}
    return [f for f in existing if f.partition in touched]


def _commit(
    tx: Transaction,
    table: Table,
    target: str,
    mode: str,
    branch: str,
    rows: int,
    change: RowChange,
    added: list[DataFile],
    parent: int | None,
    after_commit: Callable[[Table], object] | None,
    marker: str,
) -> WriteResult:
    table = commit_or_find(tx, table.catalog, ".".join(table.name()[-2:]), marker)
    snapshot_id = head_snapshot_id(table, branch)  # the table object holds the metadata just committed
    # The commit asserted the head it was planned on: the new snapshot's files are known exactly.
    carry(table, parent, snapshot_id, change.delete, added)
    if after_commit is not None:
        after_commit(table)
    inserted = change.deleted if mode == "delete" else change.inserted
    return WriteResult(
        target, mode, branch, rows, inserted, change.updated, snapshot_id,
        files_added=len(added), files_removed=len(change.delete),
    )  # fmt: skip


def _create_and_write(catalog: Catalog, data: pa.Table, plan: WritePlan) -> WriteResult:
    from pyiceberg.catalog import Catalog as BaseCatalog
    from pyiceberg.partitioning import UNPARTITIONED_PARTITION_SPEC
    from pyiceberg.schema import Schema, assign_fresh_schema_ids

    if plan.mode == "overwrite_partitions" and not plan.partition_by:
        raise InvalidInput(
            f"mode 'overwrite_partitions' needs a partitioned table; {plan.target} does not exist yet: "
            "give partition_by to create it partitioned"
        )
    prepared = align(data, Schema(), plan.target).data
    arrow_schema = pa.schema([pa.field(f.name, f.type, nullable=True) for f in prepared.schema])
    schema = assign_fresh_schema_ids(BaseCatalog._convert_schema_if_needed(arrow_schema))
    spec = (
        build_spec(plan.partition_by, schema, plan.target)
        if plan.partition_by
        else UNPARTITIONED_PARTITION_SPEC
    )
    # Created on a dev branch, the table stays hidden from main until the branch is published.
    identifier, properties = plan.target, CREATE_PROPERTIES
    if plan.branch != MAIN:
        identifier = staged_identifier(plan.target, plan.branch)
        properties = {**CREATE_PROPERTIES, **staged_properties(plan.target, plan.branch)}
    ensure_namespace(catalog, identifier.split(".")[0])
    tx = catalog.create_table_transaction(
        identifier, schema=schema, partition_spec=spec, properties=properties
    )
    if plan.branch != MAIN:
        ensure_branch(tx, None, plan.branch)
    meta = tx.table_metadata
    rows = conform(prepared, meta)
    if plan.keys:
        rows = sort_for_write(rows, plan.keys)
    tx.append(rows, snapshot_properties=plan.props, branch=plan.branch)
    commit_or_find(tx, catalog, identifier, plan.props[COMMIT_MARKER])
    table = catalog.load_table(identifier)
    if plan.after_commit is not None:
        plan.after_commit(table)
    snap = table.metadata.snapshot_by_name(plan.branch)
    files = int(snap.summary.additional_properties.get("added-data-files", 0)) if snap and snap.summary else 0
    return WriteResult(
        plan.target, plan.mode, plan.branch, prepared.num_rows, prepared.num_rows, 0,
        head_snapshot_id(table, plan.branch), columns_added=list(prepared.column_names), created=True,
        files_added=files,
    )  # fmt: skip
