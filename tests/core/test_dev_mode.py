"""Dev mode: isolation, publishing by fast-forward, refusal when main moved, rebase, all-or-nothing."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from ratatouille import Rat
from ratatouille.branches import publishing
from ratatouille.config import Settings
from ratatouille.errors import Conflict, InvalidInput, NotFound
from ratatouille.session import Lakehouse
from ratatouille.tables import atomic
from tests.helpers import head


def main_bytes(lh: Lakehouse, table: str) -> tuple[int | None, pa.Table]:
    """Main's head and its content read through pyiceberg (not through our engine)."""
    t = lh.catalog.load_table(table)
    return head(lh, table), t.scan().use_ref("main").to_arrow().sort_by("id")


def test_branch_isolates_reads_and_writes(rat: Rat) -> None:
    lh = rat.session
    before = {t: main_bytes(lh, t) for t in ("bronze.sales", "silver.sales")}
    rat.dev_start("feature/kpis")
    rat.ice_ingest_df(pd.DataFrame({"id": [4], "qty": [4]}), "bronze.sales")
    rat.transform("SELECT id, qty * 100 AS total, 'x' AS note FROM {bronze.sales}", "silver.sales",
                  merge_keys=["id"])  # fmt: skip
    rat.ice_merge(pd.DataFrame({"id": [9], "total": [9]}), "silver.sales", ["id"])
    rat.transform("SELECT count() AS n FROM {silver.sales}", "gold.count")  # new table: branch only
    assert len(rat.df("bronze.sales")) == 4 and len(rat.df("silver.sales")) == 5
    assert rat.df("gold.count").n.tolist() == [5]
    # main, through pyiceberg and through SQL: unchanged to the byte
    for table, (snap, data) in before.items():
        now_snap, now_data = main_bytes(lh, table)
        assert now_snap == snap and now_data.equals(data)
        assert (
            rat.df(f"{table}@main")
            .sort_values("id")
            .reset_index(drop=True)
            .equals(data.to_pandas().reset_index(drop=True))
        )
    assert rat.df("gold.count@main").empty  # created on the branch only
    status = rat.dev_status()
    assert status["branch"] == "feature/kpis"
    assert {t["table"] for t in status["tables"]} == {"bronze.sales", "silver.sales", "gold.count"}
    rat.dev(None)
    assert len(rat.df("silver.sales")) == 3


def test_two_sessions_on_two_branches(lakehouse: Lakehouse) -> None:
    a = Rat(lakehouse)
    a.ice_ingest_df(pd.DataFrame({"id": [1], "v": ["base"]}), "bronze.t")
    b = Rat(Lakehouse(lakehouse.settings))
    a.dev_start("a")
    b.dev_start("b")
    a.ice_merge(pd.DataFrame({"id": [1], "v": ["from a"]}), "bronze.t", ["id"])
    b.ice_merge(pd.DataFrame({"id": [1], "v": ["from b"]}), "bronze.t", ["id"])
    assert a.df("bronze.t").v.tolist() == ["from a"]
    assert b.df("bronze.t").v.tolist() == ["from b"]
    assert Rat(Lakehouse(lakehouse.settings)).df("bronze.t").v.tolist() == ["base"]


def test_publish_fast_forwards_every_table(rat: Rat) -> None:
    rat.dev_start("work")
    rat.ice_ingest_df(pd.DataFrame({"id": [4], "qty": [4]}), "bronze.sales")
    rat.transform("SELECT id, qty * 10 AS total FROM {bronze.sales}", "silver.sales", merge_keys=["id"])
    rat.transform("SELECT sum(total) AS t FROM {silver.sales}", "gold.total")
    heads = {t: head(rat.session, t, "work") for t in ("bronze.sales", "silver.sales", "gold.total")}
    result = rat.dev_merge()
    assert result["published"] == heads
    rat.dev(None)
    assert rat.df("gold.total").t.tolist() == [100]
    assert all(head(rat.session, t) == s for t, s in heads.items())


def test_publish_refused_when_main_moved_and_nothing_changes(rat: Rat) -> None:
    lh = rat.session
    rat.dev_start("late")
    rat.ice_ingest_df(pd.DataFrame({"id": [4], "qty": [4]}), "bronze.sales")  # not replayable
    rat.transform("SELECT id, qty AS total FROM {bronze.sales}", "silver.sales", merge_keys=["id"])
    other = Rat(Lakehouse(lh.settings))
    other.ice_ingest_df(pd.DataFrame({"id": [7], "qty": [7]}), "bronze.sales")  # main moves
    mains = {t: head(lh, t) for t in ("bronze.sales", "silver.sales")}
    with pytest.raises(Conflict, match=r"main moved since the branch was made on bronze\.sales"):
        rat.dev_merge()
    with pytest.raises(Conflict, match="cannot be replayed"):
        rat.dev_merge(rebase=True)
    assert {t: head(lh, t) for t in mains} == mains  # all or nothing: silver was not published either
    assert head(lh, "bronze.sales", "late") is not None  # the branch is kept


def test_rebase_replays_sql_transforms(rat: Rat) -> None:
    lh = rat.session
    rat.dev_start("replay", tables=["bronze.sales"])
    rat.transform("SELECT id, qty * 1000 AS total FROM {bronze.sales}", "silver.sales", merge_keys=["id"])
    rat.transform("SELECT sum(total) AS t FROM {silver.sales}", "gold.total")
    other = Rat(Lakehouse(lh.settings))
    other.ice_ingest_df(pd.DataFrame({"id": [4], "qty": [4]}), "bronze.sales")
    other.transform("SELECT id, qty * 10 AS total FROM {bronze.sales}", "silver.sales", merge_keys=["id"])
    result = rat.dev_merge(rebase=True)
    assert set(result["rebased"]) == {"silver.sales", "gold.total"}
    main = Rat(Lakehouse(lh.settings))
    assert main.df("gold.total").t.tolist() == [10_000]  # (1+2+3+4) * 1000: replayed on the new main
    assert sorted(main.df("silver.sales").total) == [1000, 2000, 3000, 4000]


def test_publish_is_all_or_nothing_on_a_failed_commit(rat: Rat, monkeypatch: pytest.MonkeyPatch) -> None:
    from pyiceberg.exceptions import CommitFailedException

    lh = rat.session
    rat.dev_start("flaky")
    rat.ice_ingest_df(pd.DataFrame({"id": [5], "qty": [5]}), "bronze.sales")
    rat.transform("SELECT id, qty AS total FROM {bronze.sales}", "silver.sales", merge_keys=["id"])
    mains = {t: head(lh, t) for t in ("bronze.sales", "silver.sales")}
    real = publishing.set_ref
    calls = {"n": 0}

    def second_fails(table, ref_name, snapshot_id, expected):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise CommitFailedException("a concurrent commit")
        real(table, ref_name, snapshot_id, expected)

    monkeypatch.setattr(publishing, "set_ref", second_fails)
    # table by table, as on a REST catalog (the SQL catalogs publish in one transaction: test_atomic.py)
    monkeypatch.setattr(atomic, "supports_atomic", lambda catalog: False)
    with pytest.raises(Conflict, match="no table was changed"):
        rat.dev_merge()
    monkeypatch.setattr(publishing, "set_ref", real)
    assert {t: head(lh, t) for t in mains} == mains


def test_time_travel_on_a_branch(rat: Rat) -> None:
    rat.dev_start("tt")
    rat.ice_ingest_df(pd.DataFrame({"id": [4], "qty": [4]}), "bronze.sales")
    first = head(rat.session, "bronze.sales", "tt")
    rat.ice_ingest_df(pd.DataFrame({"id": [5], "qty": [5]}), "bronze.sales")
    assert len(rat.df(f"bronze.sales@{first}")) == 4
    assert len(rat.df("bronze.sales@tt")) == 5
    assert len(rat.df("bronze.sales@main")) == 3


def test_diff(rat: Rat) -> None:
    rat.dev_start("d")
    rat.ice_merge(pd.DataFrame({"id": [1, 4], "total": [-1, 40]}), "silver.sales", ["id"])
    d = rat.dev_diff("silver.sales")
    assert (d.added, d.removed, d.changed, d.key) == (1, 0, 1, ["id"])
    assert sorted(d.sample.change) == ["added", "changed"]
    whole = rat.dev_diff("silver.sales", key=None)
    assert whole.key == ["id"]  # recorded merge keys are used by default
    rat.transform("SELECT id, qty FROM {bronze.sales} WHERE id > 1", "bronze.sales")
    rows = rat.dev_diff("bronze.sales")
    assert (rows.added, rows.removed, rows.changed) == (0, 1, None)
    assert rows.sample.id.tolist() == [1]


def test_drop_names_and_context(rat: Rat) -> None:
    with pytest.raises(InvalidInput, match="main"):
        rat.dev_start("main")
    with pytest.raises(InvalidInput):
        rat.dev_start("bad name")
    with pytest.raises(InvalidInput, match="no dev branch is active"):
        rat.dev_merge()
    with rat.dev_context("ctx"):
        rat.ice_ingest_df(pd.DataFrame({"id": [8], "qty": [8]}), "bronze.sales")
        assert rat.session.branch == "ctx"
    assert rat.session.branch == "main"
    listing = rat.dev_branches()
    assert listing[["branch", "table", "ahead"]].to_dict("records") == [
        {"branch": "ctx", "table": "bronze.sales", "ahead": 1}
    ]
    assert rat.dev_drop("ctx") == ["bronze.sales"]
    assert rat.dev_branches().empty
    with pytest.raises(NotFound):
        rat.dev_drop("ctx")


def test_expire_keeps_heads(rat: Rat) -> None:
    import datetime as dt

    counts = rat.expire(older_than=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5))
    assert counts["bronze.sales"] == 0  # one snapshot: the head, kept
    assert len(rat.df("silver.sales")) == 3


def test_drop_in_dev_mode_is_refused_unless_forced(local_settings: Settings) -> None:
    rat = Rat(Lakehouse(local_settings))
    rat.ice_ingest_df(pd.DataFrame({"id": [1, 2]}), "silver.keep")
    rat.dev_start("feature/x")
    rat.ice_ingest_df(pd.DataFrame({"id": [3]}), "silver.keep")
    with pytest.raises(Conflict, match="dev_drop"):
        rat.ice_drop("silver.keep")
    rat.dev(None)
    assert rat.query("SELECT count() AS n FROM {silver.keep}")["n"][0] == 2
    rat.dev("feature/x")
    rat.ice_drop("silver.keep", force=True)
    rat.dev(None)
    assert "keep" not in rat.ice_tables("silver")
