"""Registry claim ids: never handed out twice, and an old commit's claims never pass for a new claim's."""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
import sqlalchemy as sa

from ratatouille.ingest.lineage import CLAIMS_PROPERTY
from ratatouille.ingest.registry import FileRecord, Registry
from ratatouille.sdk import Rat

from .conftest import Landing


def _registry(rat: Rat) -> Registry:
    return Registry(rat.session.settings, rat.session.catalog)


def test_claim_ids_are_never_reused(rat: Rat) -> None:
    registry = _registry(rat)
    files = [FileRecord(f"landing/f{i}.csv", f"f{i}.csv", f"{i:064x}", 1) for i in range(3)]
    seen: set[int] = set()
    for forget in ("release", "reset", "release"):
        ids = set(registry.claim("bronze.ids", None, "main", files).values())
        assert len(ids) == 3 and not ids & seen, (ids, seen)
        seen |= ids
        if forget == "release":
            registry.release(sorted(ids))
        else:
            registry.succeeded(dict.fromkeys(ids, 1), None, None)
            assert registry.reset("bronze.ids") == 3


def test_an_old_commit_is_never_taken_for_a_new_claim(rat: Rat, landing: Landing) -> None:
    landing.put("a.csv", "id\n1\n")
    assert rat.ice_ingest_batch("landing/a.csv", "bronze.re")[1]["rows"] == 1
    table = rat.session.catalog.load_table("bronze.re")
    snap = table.current_snapshot()
    assert snap is not None and snap.summary is not None
    old_claim = int(str(snap.summary[CLAIMS_PROPERTY]).split(":")[0])
    # The registry is made anew (a lost ingestion.db, a dropped table): its ids start over.
    registry = _registry(rat)
    registry.t.drop(registry.engine)
    registry = _registry(rat)
    # A process claimed b.csv and died before committing; its claim has the id a.csv's commit carries.
    data = "id\n2\n"
    landing.put("b.csv", data)
    record = FileRecord("landing/b.csv", "b.csv", hashlib.sha256(data.encode()).hexdigest(), len(data))
    assert registry.claim("bronze.re", table, "main", [record]) == {record.content_hash: old_claim}
    with registry.engine.begin() as conn:
        stale = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        conn.execute(sa.update(registry.t).values(worker="elsewhere:1", started_at=stale))
    # Neither expiring a.csv's commit nor the next ingestion takes that commit for b.csv's.
    rat.ice_ingest_df(pd.DataFrame({"id": [99]}), "bronze.re")
    rat.ice_expire("bronze.re", older_than="0s", retain_last=1)
    _, stats = rat.ice_ingest_batch("landing/b.csv", "bronze.re", skip_existing=True)
    assert stats["rows"] == 1 and stats["already_ingested"] == 0
    assert sorted(rat.query("SELECT id FROM {bronze.re}")["id"]) == [1, 2, 99]
    history = rat.ingestion_history("bronze.re")
    assert sorted(history["status"]) == ["failed", "ok"]


def test_claims_of_commits_before_content_tokens_match_only_older_claims() -> None:
    from pyiceberg.table.snapshots import Operation, Snapshot, Summary

    from ratatouille.ingest.lineage import carried_claims, carries

    committed = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    snap = Snapshot.model_validate(
        {
            "snapshot-id": 1,
            "timestamp-ms": int(committed.timestamp() * 1000),
            "manifest-list": "m.avro",
            "summary": Summary(Operation.APPEND, **{CLAIMS_PROPERTY: "5,6:abcd"}),
        }
    )
    assert carried_claims(snap) == [(5, None), (6, "abcd")]
    before, after = committed - dt.timedelta(minutes=1), committed + dt.timedelta(minutes=1)
    assert carries(snap, 5, "ff", before) and carries(snap, 5, "ff", before.replace(tzinfo=None))
    assert not carries(snap, 5, "ff", after)
    assert carries(snap, 6, "abcdef", after) and not carries(snap, 6, "abce", before)
    assert not carries(snap, 7, "abcd", before)
