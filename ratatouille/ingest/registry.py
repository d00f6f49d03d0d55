"""The registry of ingested files, keyed by content hash, in a SQL table of the catalog's database.

Why there: the SQLite and Postgres catalogs are SQL databases every process of the lakehouse already
shares, with transactions and unique indexes that make two processes racing for one file safe (the
second sees the first's claim). A REST catalog has no such database: the registry then lives in
``<home>/ingestion.db`` (SQLite), shared by the processes of that machine.

A file counts as ingested on a branch when a successful row's snapshot is the branch head or one of its
ancestors: a file ingested on main before ``dev`` was made counts on ``dev``; one ingested on ``dev``
counts on main once ``dev`` is merged. The commit itself carries the claim ids in its snapshot summary
(``ratatouille.ingest.claims``), so a process that died between the commit and the registry update is
recognized later and its claim turned into a success.

Snapshot expiry cuts ancestry: an expired ingestion snapshot is in no branch's history any more. Before
it expires, :meth:`Registry.keep_lineage` records which retained snapshots descend from it (table
``rat_expired_lineage``), and turns claims its commit carried into successes; a recorded snapshot then
counts as in a branch when one of its retained descendants is. Lineage pointing at snapshots that
expire in turn is carried forward to their own descendants. A snapshot expired by another tool, which
recorded nothing, counts as in the branch it was ingested on (see :mod:`.lineage`).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import Conflict
from .lineage import CLAIMS_PROPERTY as CLAIMS_PROPERTY  # the ingest commit's claims; re-exported
from .lineage import UNSETTLED, carries, forget, holder, keep, lineage_table, recognize

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table
    from sqlalchemy.engine import Engine

    from ..config import Settings

TABLE_NAME = "rat_ingested_files"
STALE_AFTER = dt.timedelta(hours=12)
_COLUMNS = [
    "id",
    "table_name",
    "branch",
    "source",
    "file_name",
    "content_hash",
    "size_bytes",
    "rows",
    "status",
    "error",
    "snapshot_id",
    "started_at",
    "finished_at",
    "worker",
]
_engines: dict[str, Engine] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class FileRecord:
    """A file about to be ingested.

    Attributes:
        source: Where it is (``landing/...`` or a URI).
        file_name: Its name.
        content_hash: SHA-256 of its bytes.
        size: Its size in bytes.
    """

    source: str
    file_name: str
    content_hash: str
    size: int


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Registry:
    """The ingested-files registry of one lakehouse."""

    def __init__(self, settings: Settings, catalog: Catalog) -> None:
        import sqlalchemy as sa

        self.catalog_name = settings.catalog_name
        engine = getattr(catalog, "engine", None)
        if not isinstance(engine, sa.engine.Engine):
            path = settings.home / "ingestion.db"
            key = str(path)
            with _lock:
                if key not in _engines:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    _engines[key] = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})
                engine = _engines[key]
        self.engine: Engine = engine
        meta = sa.MetaData()
        self.t = sa.Table(
            TABLE_NAME,
            meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("catalog_name", sa.String(255), nullable=False),
            sa.Column("table_name", sa.String(255), nullable=False),
            sa.Column("table_uuid", sa.String(64), nullable=False),
            sa.Column("branch", sa.String(255), nullable=False),
            sa.Column("source", sa.String(2048), nullable=False),
            sa.Column("file_name", sa.String(1024), nullable=False),
            sa.Column("content_hash", sa.String(64), nullable=False),
            sa.Column("size_bytes", sa.BigInteger, nullable=False),
            sa.Column("rows", sa.BigInteger),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("error", sa.Text),
            sa.Column("snapshot_id", sa.BigInteger),
            sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("finished_at", sa.DateTime(timezone=True)),
            sa.Column("worker", sa.String(255), nullable=False),
            sa.Index("ix_rat_ingested_lookup", "catalog_name", "table_name", "content_hash"),
            # One live claim or success per table, branch and content: the lock between processes.
            sa.Index(
                "ux_rat_ingested_claim",
                "catalog_name",
                "table_name",
                "table_uuid",
                "branch",
                "content_hash",
                unique=True,
                sqlite_where=sa.text("status IN ('running', 'ok')"),
                postgresql_where=sa.text("status IN ('running', 'ok')"),
            ),
            # Ids never handed out twice (SQLite reuses the highest rowids otherwise). Tables made before
            # lack it: commits name claims by id and content (lineage.claim_token), which stays safe.
            sqlite_autoincrement=True,
        )
        self.lineage = lineage_table(meta)
        meta.create_all(self.engine, checkfirst=True)

    # -- lookups ----------------------------------------------------------------------------------------

    def ingested(
        self, table_name: str, table: Table | None, branch: str, hashes: list[str]
    ) -> dict[str, dict[str, Any]]:
        """Files (by hash) already ingested and visible on ``branch`` of ``table``.

        A claim still running or failed whose commit the table holds all the same (its process died
        before recording the success, or the commit's outcome was unknown and it landed) is turned into
        a success here, so that file is never ingested twice.
        """
        if table is None or not hashes:
            return {}
        import sqlalchemy as sa

        uuid = str(table.metadata.table_uuid)
        t = self.t
        found: dict[str, dict[str, Any]] = {}
        landed: dict[int, int] = {}
        with self.engine.connect() as conn:
            holds = self._holder(conn, table, branch)
            for start in range(0, len(hashes), 500):
                part = hashes[start : start + 500]
                rows = conn.execute(
                    sa.select(t).where(
                        t.c.catalog_name == self.catalog_name,
                        t.c.table_name == table_name,
                        # A claim made when the table did not exist yet has no uuid until it succeeds.
                        t.c.table_uuid.in_([uuid, ""]),
                        t.c.status.in_(["ok", *UNSETTLED]),
                        t.c.content_hash.in_(part),
                    )
                ).mappings()
                for mapping in rows:
                    row = dict(mapping)
                    if row["status"] != "ok":
                        snapshot_id = _committed_claim(table, row)
                        if snapshot_id is None:
                            continue
                        landed[int(row["id"])] = snapshot_id
                        row.update(status="ok", snapshot_id=snapshot_id, table_uuid=uuid)
                    elif row["table_uuid"] != uuid:
                        continue
                    if holds(row["snapshot_id"], row["branch"]):
                        found.setdefault(row["content_hash"], row)
        for claim_id, snapshot_id in landed.items():
            self._recognize(claim_id, snapshot_id, uuid)
        return found

    def _recognize(self, claim_id: int, snapshot_id: int, table_uuid: str) -> None:
        """Turn a claim whose commit is in the table into a success."""
        recognize(self.engine, self.t, claim_id, snapshot_id, table_uuid)

    # -- claims -----------------------------------------------------------------------------------------

    def claim(
        self, table_name: str, table: Table | None, branch: str, files: list[FileRecord]
    ) -> dict[str, int]:
        """Claim files for this process; returns ``{hash: claim id}``.

        Raises:
            Conflict: Another live process is ingesting one of these files into this table now.
        """
        import sqlalchemy as sa

        table_uuid = "" if table is None else str(table.metadata.table_uuid)
        ids: dict[str, int] = {}
        for f in files:
            if f.content_hash in ids:
                continue
            values = {
                "catalog_name": self.catalog_name,
                "table_name": table_name,
                "table_uuid": table_uuid,
                "branch": branch,
                "source": f.source,
                "file_name": f.file_name,
                "content_hash": f.content_hash,
                "size_bytes": f.size,
                "status": "running",
                "started_at": _now(),
                "worker": _worker(),
            }
            for _ in range(2):
                try:
                    with self.engine.begin() as conn:
                        key = conn.execute(sa.insert(self.t).values(**values)).inserted_primary_key
                        assert key is not None
                        ids[f.content_hash] = int(key[0])
                    break
                except sa.exc.IntegrityError:
                    self._clear_stale(table_name, table_uuid, branch, f, table)
            else:
                self.release(list(ids.values()))
                raise Conflict(f"{f.source} is being ingested into {table_name} by another process right now")
        return ids

    def _clear_stale(
        self, table_name: str, table_uuid: str, branch: str, f: FileRecord, table: Table | None
    ) -> None:
        import sqlalchemy as sa

        t = self.t
        with self.engine.begin() as conn:
            row = (
                conn.execute(
                    sa.select(t).where(
                        t.c.catalog_name == self.catalog_name,
                        t.c.table_name == table_name,
                        t.c.table_uuid == table_uuid,
                        t.c.branch == branch,
                        t.c.content_hash == f.content_hash,
                        t.c.status.in_(["running", "ok"]),
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                return
            if row["status"] == "ok":
                # A success that the branch no longer contains (the branch was rolled back): superseded.
                if table is not None and not self._holder(conn, table, branch)(row["snapshot_id"], branch):
                    conn.execute(sa.update(t).where(t.c.id == row["id"]).values(status="reverted"))
                return
            committed = _committed_claim(table, dict(row))
            if committed is not None:
                conn.execute(
                    sa.update(t)
                    .where(t.c.id == row["id"])
                    .values(status="ok", snapshot_id=committed, finished_at=_now())
                )
            elif _is_dead(str(row["worker"]), row["started_at"]):
                conn.execute(
                    sa.update(t)
                    .where(t.c.id == row["id"])
                    .values(
                        status="failed",
                        error="the ingesting process stopped before committing",
                        finished_at=_now(),
                    )
                )

    def succeeded(self, ids: dict[int, int], snapshot_id: int | None, table: Table | None) -> None:
        """Mark claims committed: ``ids`` maps claim id to rows written."""
        import sqlalchemy as sa

        uuid = None if table is None else str(table.metadata.table_uuid)
        with self.engine.begin() as conn:
            for claim_id, rows in ids.items():
                values: dict[str, Any] = {
                    "status": "ok",
                    "rows": rows,
                    "snapshot_id": snapshot_id,
                    "finished_at": _now(),
                }
                if uuid:
                    values["table_uuid"] = uuid
                conn.execute(sa.update(self.t).where(self.t.c.id == claim_id).values(**values))

    def failed(self, claim_id: int, error: str) -> None:
        """Mark a claim failed, with the error."""
        import sqlalchemy as sa

        with self.engine.begin() as conn:
            conn.execute(
                sa.update(self.t)
                .where(self.t.c.id == claim_id)
                .values(status="failed", error=error[:4000], finished_at=_now())
            )

    def release(self, claim_ids: list[int]) -> None:
        """Forget claims of files that were not committed (another file failed the batch)."""
        import sqlalchemy as sa

        if not claim_ids:
            return
        with self.engine.begin() as conn:
            conn.execute(sa.delete(self.t).where(self.t.c.id.in_(claim_ids), self.t.c.status == "running"))

    # -- snapshot expiry --------------------------------------------------------------------------------

    def _holder(self, conn: Any, table: Table, branch: str) -> Callable[[int | None, str], bool]:
        """Whether ``branch`` holds an ingestion's rows: ``(snapshot id, branch ingested on) -> bool``."""
        return holder(conn, self.lineage, self.catalog_name, table, branch)

    def keep_lineage(self, table: Table, anchors: Mapping[int, set[int]]) -> None:
        """Before snapshots expire: record which retained snapshots descend from each (``anchors``)."""
        keep(self.engine, self.lineage, self.t, self.catalog_name, table, anchors)

    def forget_expired(self, table: Table, expired: set[int]) -> None:
        """After snapshots expired: drop records anchored at them (their descendants carry them now)."""
        forget(self.engine, self.lineage, self.catalog_name, table, expired)

    # -- history and reset ------------------------------------------------------------------------------

    def history(self, table_name: str | None = None) -> pd.DataFrame:
        """Every recorded attempt, newest first."""
        import sqlalchemy as sa

        query = sa.select(*[self.t.c[c] for c in _COLUMNS]).where(self.t.c.catalog_name == self.catalog_name)
        if table_name is not None:
            query = query.where(self.t.c.table_name == table_name)
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query.order_by(self.t.c.id.desc())).mappings()]
        return pd.DataFrame(rows, columns=_COLUMNS)

    def reset(self, table_name: str | None = None) -> int:
        """Forget the records of one table (every branch), or of all tables; return how many."""
        import sqlalchemy as sa

        query = sa.delete(self.t).where(self.t.c.catalog_name == self.catalog_name)
        if table_name is not None:
            query = query.where(self.t.c.table_name == table_name)
        with self.engine.begin() as conn:
            return int(conn.execute(query).rowcount or 0)


def _committed_claim(table: Table | None, row: Mapping[str, Any]) -> int | None:
    """The snapshot whose commit carries this registry row's claim, if any."""
    if table is None:
        return None
    for snap in table.metadata.snapshots:
        if carries(snap, int(row["id"]), str(row["content_hash"]), row["started_at"]):
            return snap.snapshot_id
    return None


def _is_dead(worker: str, started: dt.datetime) -> bool:
    host, _, pid = worker.rpartition(":")
    if started.tzinfo is None:
        started = started.replace(tzinfo=dt.UTC)
    if _now() - started > STALE_AFTER:
        return True
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
