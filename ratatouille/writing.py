"""Writes: append, overwrite and merge, each one Iceberg commit, retried on concurrent commits.

Every write aligns the data with the table (schema evolution in the same transaction), stamps snapshot
properties (provenance), and commits once. A table that does not exist is created in the same commit as
its first data, so a failed first write leaves no table behind. On a commit conflict the write is planned
again on the new head (a merge is recomputed), so concurrent writers lose nothing.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ._version import __version__
from .catalog import ensure_namespace, split_identifier
from .errors import Conflict, InvalidInput, RatError
from .evolution import align
from .merging import check_batch, compute_merge
from .reading import MAIN, ResolvedTable, head_snapshot_id, source_sql
from .sqltext import TableRef, validate_branch_name

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table, Transaction

    from .engine import Engine

MODES = ("append", "overwrite", "merge")
MAX_ATTEMPTS = 8
PROPERTY_PREFIX = "ratatouille."


@dataclass
class WriteResult:
    """What a write did.

    Attributes:
        target: ``namespace.table``.
        mode: ``append``, ``overwrite`` or ``merge``.
        branch: The branch written.
        rows: Rows written (for a merge: rows in the batch).
        inserted: Rows inserted (merge), else rows written.
        updated: Rows updated (merge), else 0.
        snapshot_id: The new snapshot id.
        columns_added: Columns the write added to the schema.
        created: True when the write created the table.
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

    def to_dict(self) -> dict[str, Any]:
        """The contract's dict: ``rows`` (or ``inserted``/``updated``), ``mode``, ``target``, ``branch``..."""
        out = asdict(self)
        if self.mode != "merge":
            out.pop("inserted")
            out.pop("updated")
        return out


def check_mode(mode: str, merge_keys: list[str] | None) -> list[str] | None:
    """Validate a write mode and its keys; return the keys as a list."""
    if mode not in MODES:
        raise InvalidInput(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    keys = [merge_keys] if isinstance(merge_keys, str) else list(merge_keys or [])
    if mode == "merge" and not keys:
        raise InvalidInput("mode 'merge' needs merge_keys, for example merge_keys=['id']")
    if mode != "merge" and keys:
        raise InvalidInput(f"merge_keys only apply to mode 'merge' (the mode is {mode!r})")
    return keys or None


def snapshot_properties(operation: str, context: Mapping[str, Any] | None) -> dict[str, str]:
    """The provenance stamped on a snapshot: version, operation, and the caller's context."""
    props = {f"{PROPERTY_PREFIX}version": __version__, f"{PROPERTY_PREFIX}operation": operation}
    for key, value in (context or {}).items():
        if value is not None and value != "":
            props[f"{PROPERTY_PREFIX}{key}"] = str(value)[:100_000]
    return props


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
) -> WriteResult:
    """Write Arrow data to a table in one commit.

    Args:
        catalog: The catalog.
        engine: The engine (merges are computed there).
        data: The rows.
        target: ``namespace.table``; created (with its namespace) if missing.
        mode: ``append``, ``overwrite`` or ``merge``.
        merge_keys: Key columns for ``merge``.
        branch: The branch to write; created from main's head when the table lacks it.
        context: Provenance stamped on the snapshot (notebook, cell, pipeline run...).
        operation: The operation name recorded (defaults to the mode).

    Returns:
        What the write did.

    Raises:
        InvalidInput: Bad mode, keys, or a type conflict; nothing is written.
        Conflict: Concurrent writers kept winning after several attempts; nothing is written.
    """
    from pyiceberg.exceptions import CommitFailedException, TableAlreadyExistsError

    keys = check_mode(mode, merge_keys)
    namespace, _ = split_identifier(target)
    validate_branch_name(branch)
    if not isinstance(data, pa.Table):
        raise InvalidInput(f"expected an Arrow table, got {type(data).__name__}")
    if data.num_columns == 0:
        raise InvalidInput(f"nothing to write to {target}: the data has no columns")
    if keys:
        check_batch(data, keys, target)
    props = snapshot_properties(operation or mode, context)
    ensure_namespace(catalog, namespace)
    last_error: Exception | None = None
    for attempt in range(MAX_ATTEMPTS):
        try:
            return _attempt(catalog, engine, data, target, mode, keys, branch, props)
        except (CommitFailedException, TableAlreadyExistsError, ValueError) as e:
            if isinstance(e, ValueError) and not lost_race(e):
                raise
            last_error = e
            time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
    raise Conflict(
        f"could not commit to {target}: other writers kept committing first ({MAX_ATTEMPTS} attempts); "
        "nothing was written, try again"
    ) from last_error


def lost_race(error: BaseException) -> bool:
    """True when a commit failed because another commit won (worth planning again).

    Same-branch writers get ``CommitFailedException``; a commit racing one on another branch of the same
    table gets pyiceberg's ``ValueError`` about the sequence number (the branch's ref check passes, the
    table-wide sequence check fails), and an expiry racing another expiry one about a vanished snapshot.
    """
    from pyiceberg.exceptions import CommitFailedException

    if isinstance(error, CommitFailedException):
        return True
    if not isinstance(error, ValueError) or isinstance(error, RatError):
        return False
    text = str(error)
    return "Cannot add snapshot with sequence number" in text or (
        "Snapshot with snapshot id" in text and "does not exist" in text
    )


def _attempt(
    catalog: Catalog,
    engine: Engine,
    data: pa.Table,
    target: str,
    mode: str,
    keys: list[str] | None,
    branch: str,
    props: dict[str, str],
) -> WriteResult:
    from pyiceberg.exceptions import NoSuchTableError

    try:
        table: Table | None = catalog.load_table(target)
    except NoSuchTableError:
        table = None
    if table is None:
        return _create_and_write(catalog, data, target, mode, branch, props)
    aligned = align(data, table.schema(), target, fill_missing=mode != "merge")
    tx = table.transaction()
    if aligned.new_schema is not None:
        with tx.update_schema() as update:
            update.union_by_name(aligned.new_schema)
    ensure_branch(tx, table, branch)
    inserted, updated, rows = aligned.data.num_rows, 0, aligned.data.num_rows
    if mode == "append":
        tx.append(conform(aligned.data, tx), snapshot_properties=props, branch=branch)
    elif mode == "overwrite":
        _replace_all(tx, table, conform(aligned.data, tx), props, branch)
    else:
        assert keys is not None
        head = head_snapshot_id(table, branch)
        if head is None and branch != MAIN:
            head = head_snapshot_id(table, MAIN)
        target_sql, existing = None, None
        if head is not None:
            resolved = ResolvedTable(TableRef(*split_identifier(target)), table, head, branch)
            target_sql = source_sql(engine, resolved)
            existing = [f.name for f in resolved.schema.fields]
        columns = [f.name for f in tx.table_metadata.schema().fields]
        outcome = compute_merge(engine, target_sql, columns, aligned.data, keys, existing)
        merged = align(outcome.data, tx.table_metadata.schema(), target).data
        props = {**props, f"{PROPERTY_PREFIX}inserted": str(outcome.inserted),
                 f"{PROPERTY_PREFIX}updated": str(outcome.updated)}  # fmt: skip
        _replace_all(tx, table, conform(merged, tx), props, branch)
        inserted, updated = outcome.inserted, outcome.updated
    tx.commit_transaction()
    snapshot_id = head_snapshot_id(table, branch)
    return WriteResult(
        target, mode, branch, rows, inserted, updated, snapshot_id, columns_added=aligned.added
    )


def _create_and_write(
    catalog: Catalog, data: pa.Table, target: str, mode: str, branch: str, props: dict[str, str]
) -> WriteResult:
    from pyiceberg.schema import Schema

    prepared = align(data, Schema(), target).data
    schema = pa.schema([pa.field(f.name, f.type, nullable=True) for f in prepared.schema])
    tx = catalog.create_table_transaction(target, schema=schema)
    if branch != MAIN:
        ensure_branch(tx, None, branch)
    tx.append(conform(prepared, tx), snapshot_properties=props, branch=branch)
    tx.commit_transaction()
    table = catalog.load_table(target)
    return WriteResult(
        target,
        mode,
        branch,
        prepared.num_rows,
        prepared.num_rows,
        0,
        head_snapshot_id(table, branch),
        columns_added=list(prepared.column_names),
        created=True,
    )


def _replace_all(tx: Transaction, table: Table, data: pa.Table, props: dict[str, str], branch: str) -> None:
    """Replace a branch's content with ``data`` in ONE overwrite snapshot.

    pyiceberg's ``Transaction.overwrite`` commits a delete snapshot and then an append snapshot; time
    travel to the first would show an empty table, so the files are swapped in a single snapshot here.
    """
    from pyiceberg.io.pyarrow import _dataframe_to_data_files

    head = tx.table_metadata.snapshot_by_name(branch)
    old_files = [task.file for task in table.scan(snapshot_id=head.snapshot_id).plan_files()] if head else []
    with tx.update_snapshot(snapshot_properties=props, branch=branch).overwrite() as overwrite:
        for data_file in old_files:
            overwrite.delete_data_file(data_file)
        if data.num_rows:
            for data_file in _dataframe_to_data_files(
                table_metadata=tx.table_metadata, write_uuid=overwrite.commit_uuid, df=data, io=table.io
            ):
                overwrite.append_data_file(data_file)


def ensure_branch(tx: Transaction, table: Table | None, branch: str) -> None:
    """Branch a table from main's head at its first write on a branch (staged in the write's transaction).

    A table with no data on main gets an empty main snapshot first: Iceberg branches start from a
    snapshot, and main stays empty (the branch's data reaches main only when it is published).
    """
    from pyiceberg.table.update.snapshot import ManageSnapshots

    if branch == MAIN or branch in tx.table_metadata.refs:
        return
    main = tx.table_metadata.snapshot_by_name(MAIN)
    if main is None:
        empty = tx.table_metadata.schema().as_arrow().empty_table()
        tx.append(empty, snapshot_properties={f"{PROPERTY_PREFIX}operation": "create"}, branch=MAIN)
        main = tx.table_metadata.snapshot_by_name(MAIN)
        assert main is not None
    ManageSnapshots(transaction=tx).create_branch(main.snapshot_id, branch).commit()


def conform(data: pa.Table, tx: Transaction) -> pa.Table:
    """Cast to the exact Arrow types of the (possibly evolved) table schema, in its column order."""
    schema = tx.table_metadata.schema().as_arrow()
    try:
        ordered = data.select([f.name for f in schema])
        return ordered.cast(pa.schema([pa.field(f.name, f.type, nullable=True) for f in schema]))
    except (KeyError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        raise RatError(f"internal error aligning data with the table schema: {e}") from e
