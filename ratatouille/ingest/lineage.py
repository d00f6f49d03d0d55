"""What snapshot expiry would cut from the ingestion registry: which snapshots hold an ingestion's rows.

The registry counts a file as ingested on a branch when its ingestion snapshot is the branch head or an
ancestor. Expiry removes snapshots (and pyiceberg clears the parent links to them), so before it does,
:func:`keep` records, per expired ingestion snapshot, the retained snapshots that descend from it
(table ``rat_expired_lineage``, next to the registry's), or :data:`NOWHERE` when none does (a dropped
branch, a rolled-back commit). :func:`holder` then counts a recorded snapshot as in a branch when one of
those descendants is. Records anchored at a snapshot that expires in turn are carried forward to its own
descendants, then dropped (:func:`forget`).

An ingestion snapshot that is gone with no record at all was expired by something that did not tell the
registry (pyiceberg's own ``expire_snapshots``, another tool). Its ancestry is lost; it then counts as in
the branch it was ingested on, and only there: announcing "already ingested" for a file that a rollback
had also removed is recoverable (``reset_ingestion``), silently ingesting every old file again is not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlalchemy as sa
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot

LINEAGE_TABLE_NAME = "rat_expired_lineage"
CLAIMS_PROPERTY = "ratatouille.ingest.claims"
#: A random id of each ingestion commit: how a commit whose outcome was unknown is found in the table.
COMMIT_PROPERTY = "ratatouille.ingest.commit"
#: Claim states a commit that landed can leave: its process died, or its outcome was unknown.
UNSETTLED = ("running", "failed")
#: The anchor recorded for an expired ingestion snapshot that no retained snapshot descends from.
NOWHERE = 0


def claim_token(claim_id: int, content_hash: str) -> str:
    """How an ingestion commit names a claim it carries (in ``CLAIMS_PROPERTY``, comma-separated).

    The id with the start of the file's content hash, not the id alone: a claim id is unique only within
    one registry's life. SQLite hands out the highest ids again once their rows are deleted (a reset, a
    released claim) unless the table was made with AUTOINCREMENT, which registries made before it was
    not; a registry made anew (a lost ``ingestion.db``, a dropped table) starts over at 1. Snapshot
    summaries outlive both, so an id alone could make an old commit pass for a new claim's. Rebuilding
    old SQLite tables would need every process stopped; matching on content needs nothing: a token
    matches only a claim of the very content that commit wrote.
    """
    return f"{claim_id}:{content_hash[:16]}"


def carried_claims(snapshot: Snapshot | None) -> list[tuple[int, str | None]]:
    """The claims a commit carries: ``(id, content hash prefix)``; no prefix for commits of old versions."""
    props = snapshot.summary.additional_properties if snapshot is not None and snapshot.summary else {}
    out: list[tuple[int, str | None]] = []
    for token in props.get(CLAIMS_PROPERTY, "").split(","):
        claim_id, _, prefix = token.partition(":")
        if claim_id.isdigit():
            out.append((int(claim_id), prefix or None))
    return out


def carries(snapshot: Snapshot, claim_id: int, content_hash: str, started: dt.datetime) -> bool:
    """Whether ``snapshot``'s commit carries this claim (its id, content hash and start time)."""
    for cid, prefix in carried_claims(snapshot):
        if cid != claim_id:
            continue
        if prefix is not None:
            return content_hash.startswith(prefix)
        # A bare id (written before tokens had the hash): a commit can only carry a claim made before it.
        if started.tzinfo is None:
            started = started.replace(tzinfo=dt.UTC)
        return started.timestamp() * 1000 <= snapshot.timestamp_ms
    return False


def recognize(
    engine: sa.engine.Engine, files: sa.Table, claim_id: int, snapshot_id: int, table_uuid: str
) -> None:
    """Turn a claim whose commit is in the table into a success (a running or failed one).

    Not when the same file was recorded again since (it was ingested twice): that record stands.
    """
    import sqlalchemy as sa

    t = files
    try:
        with engine.begin() as conn:
            row = (
                conn.execute(sa.select(t).where(t.c.id == claim_id, t.c.status.in_(UNSETTLED)))
                .mappings()
                .first()
            )
            if row is None:
                return
            again = conn.execute(
                sa.select(t.c.id).where(
                    t.c.catalog_name == row["catalog_name"],
                    t.c.table_name == row["table_name"],
                    t.c.table_uuid == table_uuid,
                    t.c.branch == row["branch"],
                    t.c.content_hash == row["content_hash"],
                    t.c.status.in_(["running", "ok"]),
                    t.c.id != claim_id,
                )
            ).first()
            if again is None:
                conn.execute(
                    sa.update(t)
                    .where(t.c.id == claim_id)
                    .values(status="ok", snapshot_id=snapshot_id, table_uuid=table_uuid, error=None,
                            finished_at=dt.datetime.now(dt.UTC))
                )  # fmt: skip
    except sa.exc.IntegrityError:
        return  # a claim of the same file was made meanwhile: the same case, lost the race to say so


def lineage_table(meta: sa.MetaData) -> sa.Table:
    """The lineage table: expired snapshot -> a retained snapshot that descends from it."""
    import sqlalchemy as sa

    return sa.Table(
        LINEAGE_TABLE_NAME,
        meta,
        sa.Column("catalog_name", sa.String(255), primary_key=True),
        sa.Column("table_uuid", sa.String(64), primary_key=True),
        sa.Column("snapshot_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("anchor_id", sa.BigInteger, primary_key=True, autoincrement=False),
    )


def ancestry(table: Table, branch: str) -> set[int]:
    """Snapshot ids of the branch head (main when the table lacks the branch) and its ancestors."""
    refs = table.metadata.refs
    ref = refs.get(branch) or refs.get("main")
    out: set[int] = set()
    snap = table.metadata.snapshot_by_id(ref.snapshot_id) if ref is not None else None
    while snap is not None and snap.snapshot_id not in out:
        out.add(snap.snapshot_id)
        parent = snap.parent_snapshot_id
        snap = table.metadata.snapshot_by_id(parent) if parent is not None else None
    return out


def holder(
    conn: Any, lineage: sa.Table, catalog_name: str, table: Table, branch: str
) -> Callable[[int | None, str], bool]:
    """Whether ``branch`` holds the rows of an ingestion: ``(snapshot id, branch ingested on) -> bool``.

    True for the branch's ancestry, for expired snapshots anchored in it, and (see the module docstring)
    for a snapshot expired without a record when it was ingested on ``branch`` itself.
    """
    import sqlalchemy as sa

    seen = ancestry(table, branch)
    rows = conn.execute(
        sa.select(lineage.c.snapshot_id, lineage.c.anchor_id).where(
            lineage.c.catalog_name == catalog_name,
            lineage.c.table_uuid == str(table.metadata.table_uuid),
        )
    )
    recorded: set[int] = set()
    for sid, anchor in rows:
        recorded.add(int(sid))
        if anchor in seen:
            seen.add(int(sid))
    present = {s.snapshot_id for s in table.metadata.snapshots}

    def holds(snapshot_id: int | None, ingested_on: str) -> bool:
        if snapshot_id is None:
            return False
        if snapshot_id in seen:
            return True
        return snapshot_id not in present and snapshot_id not in recorded and ingested_on == branch

    return holds


def keep(
    engine: sa.engine.Engine,
    lineage: sa.Table,
    files: sa.Table,
    catalog_name: str,
    table: Table,
    anchors: Mapping[int, set[int]],
) -> None:
    """Before snapshots expire: record which retained snapshots descend from each (``anchors``).

    ``anchors`` has every expiring snapshot, with an empty set when no retained snapshot descends from
    it (then :data:`NOWHERE` is recorded: the expiry is known, the rows are in no branch). Recorded for
    the expiring snapshots that ingested files (they carry their claims, or registry rows name them),
    and carried forward for records anchored at a snapshot that expires now; claims an expiring commit
    carried but the registry still shows running become successes. Every record is a fact about
    immutable parent links, so recording before the expiry commit is safe.
    """
    import sqlalchemy as sa

    uuid = str(table.metadata.table_uuid)
    wanted: dict[int, set[int]] = {}
    base = (lineage.c.catalog_name == catalog_name, lineage.c.table_uuid == uuid)
    for sid in anchors:
        snap = table.metadata.snapshot_by_id(sid)
        tokens = carried_claims(snap)
        if not tokens or snap is None:
            continue
        wanted[sid] = set(anchors.get(sid, ()))
        claimed = [cid for cid, _ in tokens]
        for start in range(0, len(claimed), 500):
            with engine.connect() as conn:
                found = conn.execute(
                    sa.select(files.c.id, files.c.content_hash, files.c.started_at).where(
                        files.c.id.in_(claimed[start : start + 500]), files.c.status.in_(UNSETTLED)
                    )
                ).all()
            for cid, digest, started in found:
                if carries(snap, cid, digest, started):
                    recognize(engine, files, cid, sid, uuid)
    with engine.begin() as conn:
        ids = list(anchors)
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            carried = sa.select(lineage.c.snapshot_id, lineage.c.anchor_id)
            for sid, anchor in conn.execute(carried.where(*base, lineage.c.anchor_id.in_(part))):
                wanted.setdefault(int(sid), set()).update(anchors.get(int(anchor), ()))
            recorded = sa.select(files.c.snapshot_id).where(
                files.c.catalog_name == catalog_name,
                files.c.table_uuid == uuid,
                files.c.snapshot_id.in_(part),
            )
            for (sid,) in conn.execute(recorded):
                wanted.setdefault(int(sid), set()).update(anchors.get(int(sid), ()))
        for sid, targets in wanted.items():
            for anchor in targets or {NOWHERE}:
                same = (lineage.c.snapshot_id == sid, lineage.c.anchor_id == anchor)
                if conn.execute(sa.select(lineage.c.anchor_id).where(*base, *same)).first() is None:
                    row = {"catalog_name": catalog_name, "table_uuid": uuid}
                    conn.execute(sa.insert(lineage).values(snapshot_id=sid, anchor_id=anchor, **row))


def forget(
    engine: sa.engine.Engine, lineage: sa.Table, catalog_name: str, table: Table, expired: set[int]
) -> None:
    """After snapshots expired: drop records anchored at them (their descendants carry them now)."""
    import sqlalchemy as sa

    ids = sorted(expired)
    with engine.begin() as conn:
        for start in range(0, len(ids), 500):
            conn.execute(
                sa.delete(lineage).where(
                    lineage.c.catalog_name == catalog_name,
                    lineage.c.table_uuid == str(table.metadata.table_uuid),
                    lineage.c.anchor_id.in_(ids[start : start + 500]),
                )
            )
