"""Batches and the registry: one commit per batch, content hashes, failures, branches, reset."""

from __future__ import annotations

import pytest

from ratatouille.ingest import BadFile
from ratatouille.sdk import Rat
from tests.helpers import head

from .conftest import Landing


def test_batch_is_one_commit_with_stats(rat: Rat, landing: Landing) -> None:
    for i in range(3):
        landing.put(f"pos/day_{i}.csv", f"id,amount\n{i},{i}.5\n{i + 10},1\n")
    landing.put("pos/readme.txt", "not data")
    df, stats = rat.ice_ingest_batch("landing/pos/", "bronze.pos", file_filter=r".*\.csv$")
    assert stats["files"] == 3 and stats["rows"] == 6 and stats["errors"] == []
    assert stats["already_ingested"] == 0 and stats["skipped"] == 1
    assert len(df) == 6 and len(rat.ice_history("bronze.pos")) == 1
    # Again, skipping what is there: a no-op that says so.
    landing.put("pos/day_3.csv", "id,amount\n3,3\n")
    _, stats = rat.ice_ingest_batch("landing/pos/*.csv", "bronze.pos", skip_existing=True)
    assert stats["files"] == 1 and stats["already_ingested"] == 3 and stats["rows"] == 1
    assert len(rat.ice_history("bronze.pos")) == 2


def test_batch_all_or_nothing_then_skip(rat: Rat, landing: Landing) -> None:
    landing.put("b/ok1.csv", "id,v\n1,a\n")
    landing.put("b/bad.csv", "id,v\n2,b,extra\n")
    landing.put("b/ok2.csv", "id,v\n3,c\n")
    landing.put("b/empty.csv", "")
    rat.ice_ingest(landing.put("seed.csv", "id,v\n0,z\n"), "bronze.b")
    before = head(rat.session, "bronze.b")
    with pytest.raises(BadFile, match=r"2 of 4 files failed, nothing was written.*bad\.csv.*empty\.csv"):
        rat.ice_ingest_batch("landing/b/", "bronze.b")
    assert head(rat.session, "bronze.b") == before
    _, stats = rat.ice_ingest_batch("landing/b/", "bronze.b", on_error="skip")
    assert stats["files"] == 2 and stats["rows"] == 2
    assert sorted(e["file"] for e in stats["errors"]) == ["landing/b/bad.csv", "landing/b/empty.csv"]
    history = rat.ingestion_history("bronze.b")
    assert set(history["status"]) >= {"ok", "failed"}
    failed = history[history["status"] == "failed"]
    assert failed["error"].str.contains("fields").any()


def test_single_file_tracking_and_reset(
    rat: Rat, landing: Landing, capsys: pytest.CaptureFixture[str]
) -> None:
    path = landing.put("once.csv", "id\n1\n2\n")
    _, rows = rat.ice_ingest(path, "bronze.once", track=True)
    assert rows == 2
    df, rows = rat.ice_ingest(path, "bronze.once", track=True)
    assert rows == 0 and df.attrs["status"] == "already_ingested"
    assert "already ingested" in capsys.readouterr().out
    # Same content under another name is the same file; new content is not.
    landing.put("copy.csv", "id\n1\n2\n")
    assert rat.ice_ingest("landing/copy.csv", "bronze.once", track=True)[1] == 0
    assert rat.ice_ingest(landing.put("once.csv", "id\n3\n"), "bronze.once", track=True)[1] == 1
    hist = rat.ingestion_history("bronze.once")
    assert list(hist["status"]) == ["ok", "ok"] and hist["content_hash"].str.len().eq(64).all()
    assert rat.reset_ingestion("bronze.once") == 2
    assert rat.ice_ingest("landing/copy.csv", "bronze.once", track=True)[1] == 2


def test_registry_is_branch_aware(local_rat: Rat, local_landing: Landing) -> None:
    session = local_rat.session
    path = local_landing.put("f1.csv", "id\n1\n")
    local_rat.ice_ingest(path, "bronze.br", track=True)
    session.use_branch("dev")
    # Ingested on main before dev existed: dev contains it.
    assert local_rat.ice_ingest(path, "bronze.br", track=True)[1] == 0
    f2 = local_landing.put("f2.csv", "id\n2\n")
    assert local_rat.ice_ingest(f2, "bronze.br", track=True)[1] == 1
    assert set(local_rat.ingestion_history("bronze.br")["branch"]) == {"main", "dev"}
    session.use_branch(None)
    # Main does not contain what dev ingested.
    assert local_rat.ice_ingest(f2, "bronze.br", track=True)[1] == 1
    assert len(local_rat.query("SELECT * FROM {bronze.br}")) == 2
