"""One Iceberg commit for data written batch by batch: bounded memory, all or nothing.

Each batch is aligned with the table's (pending) schema and written as data files right away; the
snapshot that adds them all is committed once at the end. Until then nothing is visible, and
:meth:`StreamWriter.abort` deletes the files. Once the commit was tried they are never deleted, unless
the catalog refused it (another writer won): a commit whose outcome is unknown is looked for in the table.
The schema evolves inside the same transaction, so a column first seen half-way through is added with
the data (earlier files simply lack it: Iceberg reads NULL).
"""

from __future__ import annotations

import contextlib
import itertools
import random
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..catalog import ensure_namespace, split_identifier
from ..errors import Conflict, InvalidInput
from ..reading import MAIN, head_snapshot_id
from ..tables.commit import (
    MAX_ATTEMPTS,
    append_producer,
    check_writable,
    conform,
    ensure_branch,
    lost_race,
    snapshot_properties,
    transaction,
)
from ..tables.evolution import align
from ..tables.outcome import find_commit
from ..tables.partitioning import build_spec, check_spec
from ..tables.rowlevel import plan_data_files
from ..tables.writing import CREATE_PROPERTIES, WriteResult
from .lineage import COMMIT_PROPERTY

#: What a user can do while a commit's outcome cannot be told.
RETRY_HINT = (
    "; ingesting the same files again with skip_existing=True is safe: files this commit wrote are "
    "recognized as ingested if it landed"
)

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.manifest import DataFile
    from pyiceberg.table import Table, Transaction

STREAM_MODES = ("append", "overwrite", "overwrite_partitions")


class StreamWriter:
    """Writes batches to a table's storage and commits them as one snapshot.

    Args:
        catalog: The catalog.
        target: ``namespace.table``; created (with its namespace) at the first batch if missing.
        branch: The branch to commit to.
        mode: ``append``, ``overwrite`` (the commit replaces the branch's content) or
            ``overwrite_partitions`` (it replaces the partitions the files fall into).
        operation: The operation recorded on the snapshot.
        context: Provenance stamped on the snapshot.
        partition_by: Partition terms for a table created here; must match an existing table's.
        after_commit: Called with the committed table (light maintenance).
    """

    def __init__(
        self,
        catalog: Catalog,
        target: str,
        *,
        branch: str = MAIN,
        mode: str = "append",
        operation: str = "ingest",
        context: Mapping[str, Any] | None = None,
        partition_by: list[str] | None = None,
        after_commit: Callable[[Table], object] | None = None,
    ) -> None:
        if mode not in STREAM_MODES:
            raise InvalidInput(f"unknown mode {mode!r} for ingestion: use one of {', '.join(STREAM_MODES)}")
        namespace, _ = split_identifier(target)
        self.catalog = catalog
        self.target = target
        self.branch = branch
        self.mode = mode
        self.operation = operation
        self.context = dict(context or {})
        self.rows = 0
        self.created = False
        self.columns_added: list[str] = []
        self._namespace = namespace
        #: The catalog name written to: on a dev branch, a table created there has a hidden name until the
        #: branch is published (see ratatouille/branches/hidden.py).
        self.identifier = target
        self._tx: Transaction | None = None
        self._files: list[DataFile] = []
        self._uuid = uuid.uuid4()
        self._counter = itertools.count()
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[list[DataFile]] | None = None
        self.partition_by = partition_by
        self.after_commit = after_commit
        #: None until a commit was tried; then "landed", "failed" (it surely did not land, after an
        #: unknown outcome) or "unknown" (it could not be told).
        self.outcome: str | None = None
        #: What the commit did, once it landed; and the table as committed.
        self.result: WriteResult | None = None
        self.committed_table: Table | None = None
        self._table: Table | None = self._load()
        if self._table is not None:
            check_writable(self._table)  # now: later, each source file would fail on its own
            check_spec(partition_by, self._table.schema(), self._table.spec(), target)
            if mode == "overwrite_partitions" and self._table.spec().is_unpartitioned():
                raise InvalidInput(
                    f"mode 'overwrite_partitions' needs a partitioned table; {target} is not partitioned"
                )
        elif mode == "overwrite_partitions" and not partition_by:
            raise InvalidInput(
                f"mode 'overwrite_partitions' needs a partitioned table; {target} does not exist yet: "
                "give partition_by to create it partitioned"
            )

    def _load(self) -> Table | None:
        from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

        from ..branches.hidden import find_staged, staged_identifier

        if self.branch != MAIN and (staged := find_staged(self.catalog, self.target, self.branch)):
            self.identifier = staged_identifier(self.target, self.branch)
            return staged
        try:
            return self.catalog.load_table(self.target)
        except (NoSuchTableError, NoSuchNamespaceError):
            return None

    @property
    def table_types(self) -> dict[str, pa.DataType]:
        """The committed table's column types (empty for a new table)."""
        if self._table is None:
            return {}
        from ..arrowtypes import storable_type

        # pyiceberg reports large_string/large_binary: the readers produce (and compare) plain ones.
        return {f.name: storable_type(f.type) for f in self._table.schema().as_arrow()}

    @property
    def snapshot_id(self) -> int | None:
        """The branch head when the writer started (to tell whether anything changed)."""
        return None if self._table is None else head_snapshot_id(self._table, self.branch)

    # -- writing ----------------------------------------------------------------------------------------

    def _begin(self, first: pa.Table) -> Transaction:
        from pyiceberg.catalog import Catalog as BaseCatalog
        from pyiceberg.partitioning import UNPARTITIONED_PARTITION_SPEC
        from pyiceberg.schema import Schema, assign_fresh_schema_ids

        if self._table is not None:
            tx = transaction(self._table)
            ensure_branch(tx, self._table, self.branch)
            return tx
        from ..branches.hidden import staged_identifier, staged_properties

        properties = CREATE_PROPERTIES
        if self.branch != MAIN:  # hidden from main until the branch is published
            self.identifier = staged_identifier(self.target, self.branch)
            properties = {**CREATE_PROPERTIES, **staged_properties(self.target, self.branch)}
        ensure_namespace(self.catalog, self.identifier.split(".")[0])
        prepared = align(first.slice(0, 0), Schema(), self.target).data
        arrow = pa.schema([pa.field(f.name, f.type, nullable=True) for f in prepared.schema])
        schema = assign_fresh_schema_ids(BaseCatalog._convert_schema_if_needed(arrow))
        spec = UNPARTITIONED_PARTITION_SPEC
        if self.partition_by:
            spec = build_spec(self.partition_by, schema, self.target)
        self.created = True
        self.columns_added = list(arrow.names)
        if self.branch == MAIN:
            return self.catalog.create_table_transaction(
                self.target, schema=schema, partition_spec=spec, properties=properties
            )
        # Created with no snapshot under its hidden name: the branch ref is made by the first commit.
        self._table = self.catalog.create_table(
            self.identifier, schema=schema, partition_spec=spec, properties=properties
        )
        return transaction(self._table)

    def _io(self, tx: Transaction) -> Any:
        return tx._table.io

    def write(self, batch: pa.Table) -> None:
        """Write one batch's data files (not committed yet).

        Raises:
            InvalidInput: A column's type conflicts with the table's.
        """
        from pyiceberg.io.pyarrow import _dataframe_to_data_files

        if batch.num_rows == 0:
            return
        if self._tx is None:
            self._tx = self._begin(batch)
        tx = self._tx
        aligned = align(batch, tx.table_metadata.schema(), self.target)
        if aligned.new_schema is not None:
            with tx.update_schema() as update:
                update.union_by_name(aligned.new_schema)
            self.columns_added += [c for c in aligned.added if c not in self.columns_added]
        data = conform(aligned.data, tx.table_metadata)
        metadata, io = tx.table_metadata, self._io(tx)
        self.flush()  # at most one batch is being written while the next one is read: bounded memory

        def job() -> list[DataFile]:
            return list(_dataframe_to_data_files(
                table_metadata=metadata, df=data, io=io, write_uuid=self._uuid, counter=self._counter
            ))  # fmt: skip

        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rat-ingest-writer")
        # Parquet encoding releases the GIL: writing batch N overlaps reading and typing batch N+1.
        self._pending = self._pool.submit(job)
        self.rows += data.num_rows

    def flush(self) -> None:
        """Wait for the batch being written; raise its error, if any."""
        pending, self._pending = self._pending, None
        if pending is not None:
            self._files.extend(pending.result())

    def savepoint(self) -> tuple[int, int]:
        """A point to roll back to (files and rows written so far)."""
        self.flush()
        return len(self._files), self.rows

    def rollback(self, point: tuple[int, int]) -> None:
        """Delete the files written since ``point`` (one input failed; the others stay for the commit)."""
        with contextlib.suppress(Exception):  # the failed input's own pending write may have failed too
            self.flush()
        files, rows = point
        dropped = self._files[files:]
        del self._files[files:]
        self.rows = rows
        self._delete(dropped)

    def _delete(self, files: list[DataFile]) -> None:
        if self._tx is None:
            return
        io = self._io(self._tx)
        for f in files:
            with contextlib.suppress(Exception):  # best effort: an uncommitted file is never read
                io.delete(f.file_path)

    def add_columns(self, fields: list[pa.Field]) -> None:
        """Add columns that hold no data (all NULL) to the pending schema."""
        if self._tx is None or not fields:
            return
        have = set(self._tx.table_metadata.schema().as_arrow().names)
        new = [f for f in fields if f.name not in have]
        if new:
            with self._tx.update_schema() as update:
                update.union_by_name(pa.schema(new))
            self.columns_added += [f.name for f in new]

    # -- committing -------------------------------------------------------------------------------------

    def commit(self, properties: Mapping[str, str] | None = None) -> WriteResult:
        """Commit every file written as one snapshot; retried on concurrent commits.

        When the commit fails in a way that leaves its outcome unknown (the catalog answered 5xx or lost
        the connection, an interrupt arrived while it ran), the files are never deleted: the table is
        read again to see whether the commit landed (:meth:`_settle`). If it did, this is a success (an
        interrupt is raised again after :attr:`result` is set, so the caller records the success first).

        Raises:
            Conflict: Other writers changed the schema underneath, or kept committing first; nothing
                is committed and the files are deleted.
            CommitOutcomeUnknown: The commit failed and the catalog could not be asked whether it
                landed; the files are kept.
        """
        if self._tx is None:
            raise InvalidInput(f"nothing to write to {self.target}: no rows")
        try:
            self.flush()
        except BaseException:
            self.abort()
            raise
        marker = uuid.uuid4().hex
        props = {**snapshot_properties(self.operation, self.context), **(properties or {})}
        props[COMMIT_PROPERTY] = marker
        tx = self._tx
        last: Exception | None = None
        for attempt in range(MAX_ATTEMPTS):
            try:
                self._stage_snapshot(tx, props)
            except Exception as e:
                if not lost_race(e):
                    raise
                last = e
                time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
                tx = self._rebase(tx)
                continue
            try:
                committed = tx.commit_transaction()
            except BaseException as e:
                if isinstance(e, Exception) and lost_race(e):  # refused by the catalog: surely not committed
                    last = e
                    time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
                    tx = self._rebase(tx)
                    continue
                found = self._settle(e, marker)
                if not isinstance(e, Exception):
                    raise  # an interrupt: the commit landed (self.result is set); still stop
                return found
            return self._landed(committed, head_snapshot_id(committed, self.branch))
        self.abort()
        raise Conflict(
            f"could not commit to {self.target}: other writers kept committing first; nothing was written"
        ) from last

    def _landed(self, table: Table, snapshot_id: int | None) -> WriteResult:
        """The commit is in the table: nothing may be deleted any more; run the light maintenance."""
        self._tx = None
        self._files = []
        self._close_pool()
        self.outcome = "landed"
        self.committed_table = table
        self.result = WriteResult(
            self.target,
            self.mode,
            self.branch,
            self.rows,
            self.rows,
            0,
            snapshot_id,
            columns_added=list(self.columns_added),
            created=self.created,
        )
        if self.after_commit is not None:
            try:
                self.after_commit(table)
            except Exception as e:  # maintenance after a commit must not turn it into a failure
                warnings.warn(f"maintenance after the commit to {self.target} failed: {e}", stacklevel=3)
        return self.result

    def _settle(self, error: BaseException, marker: str) -> WriteResult:
        """After a commit failed with an unknown outcome: read the table again to see if it landed.

        The files are kept whatever the answer: a catalog that answered 5xx may still apply the commit
        (a gateway timing out while the catalog works on), and a file the table points at must exist.
        Files of a commit that never lands are removed by the orphan sweep.

        Returns:
            The result, when the commit landed.

        Raises:
            CommitOutcomeUnknown: The table could not be read.
            BaseException: ``error`` again (with a note) when the commit did not land.
        """
        self._tx = None
        self._files = []  # kept: abort() must not delete them
        self._close_pool()
        self.outcome = "unknown"
        found = find_commit(
            self.catalog, self.identifier, marker, error, prop=COMMIT_PROPERTY, hint=RETRY_HINT
        )
        if found is not None:
            return self._landed(*found)
        self.outcome = "failed"
        error.add_note(
            f"ratatouille: the table shows this commit to {self.target} did not land: nothing was written "
            "(its files are left for the orphan sweep)"
        )
        raise error

    def _stage_snapshot(self, tx: Transaction, props: dict[str, str]) -> None:
        update = tx.update_snapshot(snapshot_properties=props, branch=self.branch)
        if self.mode == "append":
            with append_producer(update, tx.table_metadata) as append:
                for f in self._files:
                    append.append_data_file(f)
            return
        head = tx.table_metadata.snapshot_by_name(self.branch)
        old = []
        if head is not None and self._table is not None:
            old = plan_data_files(self._table, head.snapshot_id)
        if self.mode == "overwrite_partitions":
            touched = {f.partition for f in self._files if f.spec_id == tx.table_metadata.spec().spec_id}
            old = [f for f in old if f.spec_id == tx.table_metadata.spec().spec_id and f.partition in touched]
        with update.overwrite() as overwrite:
            for f in old:
                overwrite.delete_data_file(f)
            for f in self._files:
                overwrite.append_data_file(f)

    def _rebase(self, stale: Transaction) -> Transaction:
        """A fresh transaction on the new head, with the same schema (same field ids) as the files."""
        ours = stale.table_metadata.schema()
        table = self.catalog.load_table(self.identifier)
        self._table = table
        self.created = False  # a failed create means another writer created the table first
        tx = transaction(table)
        missing = [f for f in ours.as_arrow() if f.name not in table.schema().as_arrow().names]
        if missing:
            with tx.update_schema() as update:
                update.union_by_name(pa.schema(missing))
        theirs = tx.table_metadata.schema()
        for field in ours.fields:
            other = theirs.find_field(field.name) if field.name in theirs.column_names else None
            if other is None or other.field_id != field.field_id or other.field_type != field.field_type:
                self.abort()
                raise Conflict(
                    f"{self.target} changed schema while this ingestion was writing; "
                    "nothing was written, try again"
                )
        ensure_branch(tx, table, self.branch)
        return tx

    def abort(self) -> None:
        """Delete the files written so far when nothing was committed (kept once a commit was tried)."""
        with contextlib.suppress(Exception):  # its error is the reason for aborting, or moot now
            self.flush()
        self._close_pool()
        files, self._files = self._files, []
        self._delete(files)
        self._tx = None
        if self.outcome is None:
            self.rows, self.created, self.columns_added = 0, False, []

    def _close_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
