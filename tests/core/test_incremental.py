"""Incremental runs: ``{ns.t@new}`` reads only the rows the target has not consumed, exactly once."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from ratatouille import Rat
from ratatouille.errors import Conflict, InvalidInput, RatError
from ratatouille.incremental import CONSUMED, Incremental
from ratatouille.session import Lakehouse

SQL = "SELECT id, amount * 2 AS doubled FROM {bronze.events@new}"


@pytest.fixture
def rat(lakehouse: Lakehouse) -> Rat:
    """``bronze.events`` with ids 1-3 on main."""
    r = Rat(lakehouse)
    r.ice_ingest_df(events(1, 2, 3), "bronze.events")
    return r


def events(*ids: int) -> pd.DataFrame:
    return pd.DataFrame({"id": list(ids), "amount": [i * 10 for i in ids]})


def ids(rat: Rat, table: str = "silver.events") -> list[int]:
    return sorted(int(i) for i in rat.query(f"SELECT id FROM {{{table}}}")["id"])


def head(rat: Rat, table: str = "silver.events", branch: str = "main") -> tuple[str, int | None]:
    t = rat.session.catalog.load_table(table)
    ref = t.metadata.refs.get(branch)
    return t.metadata_location, None if ref is None else ref.snapshot_id


def consumed(rat: Rat, table: str = "silver.events", branch: str = "main") -> dict[str, Any]:
    t = rat.session.catalog.load_table(table)
    snap = t.metadata.snapshot_by_name(branch)
    assert snap is not None and snap.summary is not None
    return dict(json.loads(snap.summary.additional_properties[CONSUMED]))


def test_first_run_reads_all_then_only_new_rows(rat: Rat) -> None:
    first = rat.transform(SQL, "silver.events", mode="append")
    assert first["rows"] == 3
    assert ids(rat) == [1, 2, 3]
    source_head = head(rat, "bronze.events")[1]
    assert consumed(rat) == {"bronze.events": source_head}

    rat.ice_ingest_df(events(4, 5), "bronze.events")
    second = rat.transform(SQL, "silver.events", mode="append")
    assert second["rows"] == 2
    assert ids(rat) == [1, 2, 3, 4, 5]
    assert rat.query("SELECT doubled FROM {silver.events} WHERE id = 5")["doubled"].tolist() == [100]


def test_ibis_table_at_new(rat: Rat) -> None:
    events_new = rat.t("bronze.events@new")
    expr = events_new.filter(events_new.amount > 0)
    assert "{bronze.events@new}" in expr.sql()
    assert expr.to_iceberg("silver.events", mode="append")["rows"] == 3
    rat.ice_ingest_df(events(4), "bronze.events")
    assert expr.to_iceberg("silver.events", mode="append")["rows"] == 1
    assert ids(rat) == [1, 2, 3, 4]
    with pytest.raises(InvalidInput, match="not consumed yet"):
        expr.execute()


def test_rerun_with_nothing_new_writes_nothing(rat: Rat) -> None:
    rat.transform(SQL, "silver.events", mode="append")
    before = head(rat)
    again = rat.transform(SQL, "silver.events", mode="append")
    assert again["rows"] == 0
    assert head(rat) == before  # no snapshot at all
    assert ids(rat) == [1, 2, 3]


def test_failed_runs_consume_nothing(rat: Rat, monkeypatch: pytest.MonkeyPatch) -> None:
    rat.transform(SQL, "silver.events", mode="append")
    rat.ice_ingest_df(events(4), "bronze.events")
    before = head(rat)
    # The SQL fails after the expansion.
    with pytest.raises(RatError):
        rat.transform("SELECT id, no_such_column FROM {bronze.events@new}", "silver.events", mode="append")
    # The write itself fails.
    import ratatouille.session as session_module

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(session_module, "write_table", broken)
        with pytest.raises(RuntimeError):
            rat.transform(SQL, "silver.events", mode="append")
    assert head(rat) == before
    assert rat.transform(SQL, "silver.events", mode="append")["rows"] == 1
    assert ids(rat) == [1, 2, 3, 4]


def test_compaction_of_the_source_redelivers_nothing(rat: Rat) -> None:
    rat.transform(SQL, "silver.events", mode="append")
    rat.ice_ingest_df(events(4), "bronze.events")
    rat.ice_ingest_df(events(5), "bronze.events")
    assert rat.ice_compact("bronze.events")["snapshot_id"] is not None  # 4 files -> 1, one replace
    assert rat.transform(SQL, "silver.events", mode="append")["rows"] == 2
    assert ids(rat) == [1, 2, 3, 4, 5]
    rat.ice_compact("bronze.events")
    assert rat.transform(SQL, "silver.events", mode="append")["rows"] == 0
    assert ids(rat) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("change", ["delete", "merge", "overwrite"])
def test_rewritten_source_is_a_clear_error_and_full_recovers(rat: Rat, change: str) -> None:
    rat.transform(SQL, "silver.events", mode="append")
    if change == "delete":
        rat.ice_delete("bronze.events", "id = 1")
        expected = [2, 3]
    elif change == "merge":
        rat.ice_merge(events(1, 6), "bronze.events", merge_keys="id")
        expected = [1, 2, 3, 6]
    else:
        rat.ice_ingest_df(events(7, 8), "bronze.events", mode="overwrite")
        expected = [7, 8]
    before = head(rat)
    with pytest.raises(Conflict, match=r"snapshot \d+ .*on_rewrite='full'"):
        rat.transform(SQL, "silver.events", mode="append")
    assert head(rat) == before
    result = rat.transform(SQL, "silver.events", mode="append", on_rewrite="full")
    assert result["mode"] == "overwrite"  # an append fed by a full read replaces the target
    assert ids(rat) == expected
    rat.ice_ingest_df(events(9), "bronze.events")
    assert rat.transform(SQL, "silver.events", mode="append")["rows"] == 1
    assert ids(rat) == [*expected, 9]


def test_merge_keys_upsert(rat: Rat) -> None:
    sql = "SELECT id, amount FROM {bronze.events@new}"
    assert rat.transform(sql, "silver.events", merge_keys="id")["inserted"] == 3
    rat.ice_ingest_df(pd.DataFrame({"id": [3, 4], "amount": [99, 40]}), "bronze.events")
    result = rat.transform(sql, "silver.events", merge_keys="id")
    assert (result["inserted"], result["updated"]) == (1, 1)
    rows = rat.query("SELECT id, amount FROM {silver.events} ORDER BY id")
    assert rows["amount"].tolist() == [10, 20, 99, 40]
    assert rat.transform(sql, "silver.events", merge_keys="id")["inserted"] == 0


def test_dev_branch_consumes_on_the_branch_only(rat: Rat) -> None:
    rat.transform(SQL, "silver.events", mode="append")
    rat.ice_ingest_df(events(4), "bronze.events")
    on_main = head(rat)
    rat.dev_start("feature")
    assert rat.transform(SQL, "silver.events", mode="append")["rows"] == 1
    assert rat.transform(SQL, "silver.events", mode="append")["rows"] == 0
    assert ids(rat) == [1, 2, 3, 4]
    assert head(rat)[1] == on_main[1]  # main's target did not move
    rat.dev()  # back to main: the row is still new there
    assert rat.transform(SQL, "silver.events", mode="append")["rows"] == 1
    assert ids(rat) == [1, 2, 3, 4]


def test_several_sources_keep_their_positions(rat: Rat) -> None:
    rat.ice_ingest_df(events(100), "bronze.other")
    both = "SELECT id, amount FROM {bronze.events@new} UNION ALL SELECT id, amount FROM {bronze.other@new}"
    assert rat.transform(both, "silver.events", mode="append")["rows"] == 4
    rat.ice_ingest_df(events(101), "bronze.other")
    one = "SELECT id, amount FROM {bronze.other@new}"
    assert rat.transform(one, "silver.events", mode="append")["rows"] == 1
    assert set(consumed(rat)) == {"bronze.events", "bronze.other"}  # the other position carried over
    assert rat.transform(both, "silver.events", mode="append")["rows"] == 0


def test_bad_input_writes_nothing(rat: Rat) -> None:
    rat.transform(SQL, "silver.events", mode="append")
    rat.ice_ingest_df(events(4), "bronze.events")
    before = head(rat)
    with pytest.raises(InvalidInput, match="plain query"):
        rat.query("SELECT * FROM {bronze.events@new}")
    with pytest.raises(InvalidInput, match="table this write goes to"):
        rat.transform("SELECT * FROM {silver.events@new}", "silver.events", mode="append")
    for suffix in ("@new@main", "@main@new", "@new@12345"):
        with pytest.raises(InvalidInput, match="takes no branch"):
            rat.transform(f"SELECT * FROM {{bronze.events{suffix}}}", "silver.events", mode="append")
    with pytest.raises(InvalidInput, match="on_rewrite"):
        rat.transform(SQL, "silver.events", mode="append", on_rewrite="sometimes")
    with pytest.raises(InvalidInput):
        rat.ice_ingest_df(events(9), "silver.events@new")
    assert head(rat) == before
    assert rat.transform(SQL, "silver.events", mode="append")["rows"] == 1


def test_preview_and_cache(rat: Rat) -> None:
    rat.transform(SQL, "silver.events", mode="append")
    rat.ice_ingest_df(events(4), "bronze.events")
    shown = rat.transform_preview(SQL, target="silver.events")
    assert shown.count(".parquet") == 1  # the one new file
    with pytest.raises(InvalidInput, match="plain query"):
        rat.session.expand(SQL, cached=True)  # no target
    # A read of new files is not a whole snapshot: the snapshot cache never serves it.
    rat.query("SELECT count() FROM {bronze.events}")  # fills the cache with the head, if it is on
    inc = Incremental.load(rat.session.catalog, "silver.events", "main")
    expanded = rat.session.expand(SQL, cached=True, incremental=inc)
    assert expanded.cached == [""]
    assert expanded.reads[0].planned_files == 1


def test_new_is_not_a_branch_name(rat: Rat) -> None:
    with pytest.raises(InvalidInput, match="cannot name a branch"):
        rat.dev_start("new")


def test_a_position_not_in_the_source_history_is_a_clear_error(rat: Rat) -> None:
    inc = Incremental("silver.events", "main", previous={"bronze.events": 1})
    with pytest.raises(Conflict, match=r"consumed \(1\) is not in the history"):
        rat.session.expand(SQL, incremental=inc)


def test_a_position_expired_by_the_source_writes_is_a_clear_error_and_full_recovers(rat: Rat) -> None:
    rat.ice_policy("bronze.events", max_snapshots=3)
    rat.transform(SQL, "silver.events", mode="append")
    for i in range(4, 10):  # past the cap: the writes expire the snapshot silver.events consumed
        rat.ice_ingest_df(events(i), "bronze.events")
    before = head(rat)
    with pytest.raises(Conflict, match=r"max_snapshots=\.\.\.\)\) and ice_expire"):
        rat.transform(SQL, "silver.events", mode="append")
    assert head(rat) == before
    rat.transform(SQL, "silver.events", mode="append", on_rewrite="full")
    assert ids(rat) == list(range(1, 10))
