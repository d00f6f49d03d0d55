"""Committing a write: retries on concurrent commits, branches on first write, files swapped in one snapshot.

Every write path (SDK writes, deletes, ingestion, maintenance) commits through here, so they share one
notion of "another writer committed first": pyiceberg's ``CommitFailedException`` for a writer on the same
branch, and the ``ValueError`` it raises when a writer on *another branch* of the same table committed a
snapshot with the same sequence number (its requirements on the branch ref pass; the sequence check fails).

Every commit, data or metadata only, opens its transaction with :func:`transaction` (or
:func:`manage_snapshots`), which refuses a table whose Iceberg format version this writer cannot write
(:func:`check_writable`) before the write has written anything.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import pyarrow as pa

from .._version import __version__
from ..errors import Conflict, InvalidInput, RatError
from ..reading import MAIN

if TYPE_CHECKING:
    from pyiceberg.manifest import DataFile
    from pyiceberg.table import Table, Transaction
    from pyiceberg.table.metadata import TableMetadata
    from pyiceberg.table.update.snapshot import ManageSnapshots, UpdateSnapshot, _FastAppendFiles

T = TypeVar("T")
MAX_ATTEMPTS = 10
#: Lost races are retried for at least this long (and at least MAX_ATTEMPTS times).
RETRY_SECONDS = 120.0
PROPERTY_PREFIX = "ratatouille."
_SEQUENCE_RACE = "Cannot add snapshot with sequence number"
#: The snapshot summary property holding a write's random id.
COMMIT_MARKER = f"{PROPERTY_PREFIX}commit"


def lost_race(error: BaseException) -> bool:
    """True when a commit failed because another commit won (worth planning again).

    Same-branch writers get ``CommitFailedException`` (and a table created twice,
    ``TableAlreadyExistsError``); a commit racing one on another branch of the same table gets pyiceberg's
    ``ValueError`` about the sequence number (the branch's ref check passes, the table-wide sequence check
    fails), and an expiry racing another expiry one about a vanished snapshot.
    """
    from pyiceberg.exceptions import CommitFailedException, TableAlreadyExistsError

    if isinstance(error, CommitFailedException | TableAlreadyExistsError):
        return True
    if not isinstance(error, ValueError) or isinstance(error, RatError):
        return False
    text = str(error)
    return _SEQUENCE_RACE in text or ("Snapshot with snapshot id" in text and "does not exist" in text)


def retrying(
    attempt: Callable[[], T], what: str, attempts: int = MAX_ATTEMPTS, budget: float = RETRY_SECONDS
) -> T:
    """Run ``attempt`` until it commits, planning again after each lost race (jittered backoff).

    It gives up after ``attempts`` lost races only once ``budget`` seconds have passed too: with many
    writers on one table, a slow attempt (a merge re-plans against the engine) can lose ten races in a
    row to quick ones, and a time budget keeps it in the race for as long as the others take.

    Args:
        attempt: Plans on the current head and commits once.
        what: What is being done, for the message (``"commit to silver.sales"``).
        attempts: The fewest attempts before giving up.
        budget: The fewest seconds before giving up.

    Raises:
        Conflict: Other writers kept committing first; nothing was changed.
    """
    last: BaseException | None = None
    start = time.monotonic()
    n = 0
    while True:
        try:
            return attempt()
        except Exception as e:
            if not lost_race(e):
                raise
            last = e
        n += 1
        if n >= attempts and time.monotonic() - start >= budget:
            break
        time.sleep(min(2.0, 0.05 * 2 ** min(n - 1, 6)) * (0.5 + random.random()))
    raise Conflict(
        f"could not {what}: other writers kept committing first ({n} attempts); nothing was changed, "
        "try again"
    ) from last


def check_writable(table: Table) -> None:
    """Refuse a table whose Iceberg format version this writer cannot write.

    pyiceberg writes format versions 1 and 2 only: on a v3 table (another engine's, registered) a data
    write would fail once its files are written (``Cannot write manifest for table version: 3``), and
    any commit, even a metadata-only one, when the new metadata file is serialized.

    Raises:
        InvalidInput: The table's format version is newer than pyiceberg writes; nothing was written.
    """
    from pyiceberg.table.metadata import SUPPORTED_TABLE_FORMAT_VERSION

    version = table.metadata.format_version
    if version <= SUPPORTED_TABLE_FORMAT_VERSION:
        return
    name = ".".join(table.name()[-2:])
    writable = " and ".join(str(v) for v in range(1, SUPPORTED_TABLE_FORMAT_VERSION + 1))
    raise InvalidInput(
        f"table {name} is Iceberg format version {version}, which this writer cannot write (pyiceberg "
        f"writes versions {writable}); nothing was written"
    )


_TRANSACTION_CLASS: type[Transaction] | None = None


def transaction(table: Table, *, autocommit: bool = False) -> Transaction:
    """A pyiceberg transaction whose ``table_metadata`` costs O(1) per read, not O(history).

    Every commit of ratatouille opens its transaction here: a table this writer cannot write is refused
    first (:func:`check_writable`), before the caller has written anything.

    pyiceberg re-applies every staged update and then deep-copies the whole metadata (every snapshot)
    each time ``Transaction.table_metadata`` is read, and one write reads it about twenty times: a write
    cost grew with the table's history. Metadata models are frozen and each update builds new containers
    (``model_copy(update=...)``), so the staged state can be kept and advanced by the updates staged since,
    with no copy. pyiceberg's own ``update_table_metadata`` still builds what the catalog commits.
    """
    global _TRANSACTION_CLASS
    check_writable(table)
    if _TRANSACTION_CLASS is None:
        from pyiceberg.table import Transaction
        from pyiceberg.table.update import _apply_table_update, _TableMetadataUpdateContext

        class IncrementalTransaction(Transaction):
            _state: tuple[int, TableMetadata, _TableMetadataUpdateContext] | None = None

            @property
            def table_metadata(self) -> TableMetadata:
                if not self._updates:
                    return self._table.metadata
                done, metadata, context = self._state or (
                    0,
                    self._table.metadata,
                    _TableMetadataUpdateContext(),
                )
                for update in self._updates[done:]:
                    metadata = _apply_table_update(update, metadata, context)
                self._state = (len(self._updates), metadata, context)
                return metadata

        _TRANSACTION_CLASS = IncrementalTransaction
    return _TRANSACTION_CLASS(table, autocommit=autocommit)


def manage_snapshots(table: Table) -> ManageSnapshots:
    """``table.manage_snapshots()`` through :func:`transaction`: each ``commit()`` of it commits."""
    from pyiceberg.table.update.snapshot import ManageSnapshots

    return ManageSnapshots(transaction=transaction(table, autocommit=True))


def snapshot_properties(operation: str, context: Mapping[str, Any] | None) -> dict[str, str]:
    """The provenance stamped on a snapshot: version, operation, the caller's context, and a random id.

    The id (:data:`COMMIT_MARKER`) tells whether a commit whose outcome was unknown landed
    (:mod:`.outcome`).
    """
    props = {
        f"{PROPERTY_PREFIX}version": __version__,
        f"{PROPERTY_PREFIX}operation": operation,
        COMMIT_MARKER: uuid.uuid4().hex,
    }
    for key, value in (context or {}).items():
        if value is not None and value != "":
            props[f"{PROPERTY_PREFIX}{key}"] = str(value)[:100_000]
    return props


def parameter_properties(parameters: Mapping[str, Any] | None, record_values: bool) -> dict[str, str]:
    """What a transform's snapshot keeps of its query parameters (context for :func:`snapshot_properties`).

    Names and types always (``param-types``); the values (``params``) only when ``record_values``: they may
    be personal data or secrets, and a snapshot summary lives as long as the snapshot.
    """
    if not parameters:
        return {}
    props = {"param-types": json.dumps({name: type(value).__name__ for name, value in parameters.items()})}
    if record_values:
        props["params"] = json.dumps(dict(parameters), default=str)
    return props


def unrecorded_parameters(summary: Mapping[str, str]) -> list[str]:
    """The parameters of a transform whose values its snapshot summary does not hold (a replay needs them)."""
    if f"{PROPERTY_PREFIX}params" in summary:
        return []
    try:
        types = json.loads(summary.get(f"{PROPERTY_PREFIX}param-types") or "{}")
    except ValueError:  # cut by the property size limit: the names are unknown, the values missing
        return ["(unreadable)"]
    return sorted(types) if isinstance(types, dict) else []


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


def conform(data: pa.Table, metadata: TableMetadata) -> pa.Table:
    """Cast to the exact Arrow types of the (possibly evolved) table schema, in its column order."""
    schema = metadata.schema().as_arrow()
    try:
        ordered = data.select([f.name for f in schema])
        return ordered.cast(pa.schema([pa.field(f.name, f.type, nullable=True) for f in schema]))
    except (KeyError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        raise RatError(f"internal error aligning data with the table schema: {e}") from e


def sort_for_write(data: pa.Table, columns: list[str]) -> pa.Table:
    """Rows sorted by ``columns`` (NULLs last), so each file covers a narrow key range."""
    usable = [c for c in columns if c in data.column_names]
    if not usable or data.num_rows < 2:
        return data
    try:
        return data.sort_by([(c, "ascending") for c in usable])
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        return data  # a type Arrow cannot sort (nested): order is only an optimization


def data_files(metadata: TableMetadata, table: Table, data: pa.Table, write_uuid: Any) -> list[DataFile]:
    """Write ``data`` as Parquet data files of the table (split by partition and target file size)."""
    from pyiceberg.io.pyarrow import _dataframe_to_data_files

    if data.num_rows == 0:
        return []
    return list(
        _dataframe_to_data_files(table_metadata=metadata, write_uuid=write_uuid, df=data, io=table.io)
    )


def append_producer(update: UpdateSnapshot, metadata: TableMetadata) -> _FastAppendFiles:
    """A merge append when the table asks for manifest merging (ours do), else a fast append.

    A fast append adds one manifest per commit, and every later commit and scan reads them all: merging
    keeps a table's manifest count, and so a write's cost, bounded as its history grows.
    """
    merge = metadata.properties.get("commit.manifest-merge.enabled", "false").lower() == "true"
    return update.merge_append() if merge else update.fast_append()


def stage_files(
    tx: Transaction,
    table: Table,
    branch: str,
    props: dict[str, str],
    *,
    add: pa.Table | None = None,
    delete: Iterable[DataFile] = (),
    metadata: TableMetadata | None = None,
) -> list[DataFile]:
    """Stage ONE snapshot on ``branch`` that removes ``delete`` and adds ``add``'s rows; return files added.

    Without deletions the snapshot is a fast append; otherwise an overwrite (pyiceberg's own
    ``Transaction.overwrite`` commits a delete snapshot and then an append, and time travel to the first
    would show rows missing).
    """
    removed = list(delete)
    meta = metadata if metadata is not None else tx.table_metadata
    update = tx.update_snapshot(snapshot_properties=props, branch=branch)
    producer = update.overwrite() if removed else append_producer(update, meta)
    with producer as snapshot:
        for f in removed:
            snapshot.delete_data_file(f)
        written = data_files(meta, table, add, snapshot.commit_uuid) if add is not None else []
        for f in written:
            snapshot.append_data_file(f)
    return written
