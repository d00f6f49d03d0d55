"""Dev mode's write paths lose nothing: all-or-nothing publishing, safe rebase, tables created on a branch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pyiceberg.exceptions import CommitFailedException, CommitStateUnknownException

from ratatouille import Rat
from ratatouille.branches import publishing
from ratatouille.branches import refs as table_refs
from ratatouille.catalog import load_table
from ratatouille.errors import Conflict, Incomplete, InvalidInput, NotFound
from ratatouille.session import Lakehouse
from ratatouille.tables import atomic

TABLES = ("bronze.sales", "gold.total", "silver.sales")


def refs(lh: Lakehouse, table: str, branch: str = "main") -> dict[str, int]:
    """Ref name -> head of a table as ``branch`` sees it ({} when it does not exist there)."""
    try:
        loaded = load_table(lh.catalog, table, branch)
    except NotFound:
        return {}
    return {name: ref.snapshot_id for name, ref in loaded.metadata.refs.items()}


def mains(lh: Lakehouse) -> dict[str, int | None]:
    return {t: refs(lh, t).get("main") for t in TABLES}


def three_tables_on(rat: Rat, branch: str) -> None:
    """A branch that changes two tables of main and creates a third."""
    rat.dev_start(branch)
    rat.ice_ingest_df(pd.DataFrame({"id": [4], "qty": [4]}), "bronze.sales")
    rat.transform("SELECT id, qty * 10 AS total FROM {bronze.sales}", "silver.sales", merge_keys=["id"])
    rat.transform("SELECT sum(total) AS t FROM {silver.sales}", "gold.total")


def fail_at(
    monkeypatch: pytest.MonkeyPatch, call: int, error: BaseException, commit_first: bool = False
) -> dict[str, Any]:
    """Make the ``call``-th ref move of a publish raise ``error`` (after its commit with ``commit_first``)."""
    real = table_refs.set_ref
    state: dict[str, Any] = {"n": 0, "failed": False, "undo_fails": False}

    def flaky(table: Any, ref_name: str, snapshot_id: int, expected: int | None) -> None:
        state["n"] += 1
        if state["failed"] and state["undo_fails"]:
            raise OSError("the catalog went away")
        if state["n"] == call:
            state["failed"] = True
            if commit_first:
                real(table, ref_name, snapshot_id, expected)
            raise error
        real(table, ref_name, snapshot_id, expected)

    monkeypatch.setattr(publishing, "set_ref", flaky)
    real_point = atomic.point

    def flaky_point(*args: Any) -> None:  # the SQL catalogs: each table's pointer in the one transaction
        state["n"] += 1
        if state["n"] == call:
            state["failed"] = True
            if commit_first:
                real_point(*args)
            raise error
        real_point(*args)

    monkeypatch.setattr(atomic, "point", flaky_point)
    return state


def table_by_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """Publish as on a catalog with no multi-table transaction (an Iceberg REST catalog): move and undo."""
    monkeypatch.setattr(atomic, "supports_atomic", lambda catalog: False)


ERRORS: list[tuple[int, Callable[[], BaseException], bool, type[BaseException], str | None]] = [
    (2, lambda: CommitFailedException("a concurrent commit"), False, Conflict, "no table was changed"),
    (3, lambda: CommitStateUnknownException("no answer"), True, Conflict, "no table was changed"),
    (2, lambda: OSError("connection reset"), False, Conflict, "OSError: connection reset"),
    (3, lambda: KeyboardInterrupt(), False, KeyboardInterrupt, None),
]


@pytest.mark.parametrize("moves", ["one transaction", "table by table"])
@pytest.mark.parametrize(("call", "error", "commit_first", "raised", "message"), ERRORS)
def test_publish_is_all_or_nothing_on_every_error(
    rat: Rat,
    monkeypatch: pytest.MonkeyPatch,
    moves: str,
    call: int,
    error: Callable[[], BaseException],
    commit_first: bool,
    raised: type[BaseException],
    message: str | None,
) -> None:
    lh = rat.session
    three_tables_on(rat, "feature/all")
    before = mains(lh)
    heads = {t: refs(lh, t, "feature/all")["feature/all"] for t in TABLES}
    if moves == "table by table":
        table_by_table(monkeypatch)
    fail_at(monkeypatch, call, error(), commit_first)
    with pytest.raises(raised, match=message):
        rat.dev_merge()
    assert mains(lh) == before  # every table, including those published before the failure
    assert {t: refs(lh, t, "feature/all")["feature/all"] for t in TABLES} == heads  # the branch is kept
    assert main_session(lh).ice_tables("gold") == []  # the table created on the branch is not main's
    monkeypatch.undo()
    assert rat.dev_merge()["published"] == heads  # and publishes once the failure is gone


def test_a_failed_undo_is_reported_honestly(rat: Rat, monkeypatch: pytest.MonkeyPatch) -> None:
    lh = rat.session
    three_tables_on(rat, "feature/undo")
    before = mains(lh)
    heads = {t: refs(lh, t, "feature/undo")["feature/undo"] for t in TABLES}
    table_by_table(monkeypatch)  # one transaction has nothing to undo
    state = fail_at(monkeypatch, 3, OSError("connection reset"))
    state["undo_fails"] = True  # moving a published table back fails too
    with pytest.raises(Incomplete) as caught:
        rat.dev_merge()
    monkeypatch.undo()
    now = mains(lh)
    stuck = {t for t in TABLES if now[t] != before[t]}
    assert stuck and caught.value.changed == {t: heads[t] for t in stuck}
    assert all(now[t] == heads[t] for t in stuck)
    assert set(caught.value.restored) == set(TABLES) - stuck
    text = str(caught.value)
    assert "no table was changed" not in text and "OSError: connection reset" in text
    for t in stuck:  # names the table, where main is and where it was, so it can be put back by hand
        assert t in text and str(heads[t]) in text and str(before[t]) in text


def test_a_pipeline_record_names_tables_a_failed_publish_left(rat: Rat) -> None:
    from ratatouille_jupyter.pipelines.records import FAILED, RunRecord

    record = RunRecord("p", "r1", status=FAILED, error="publishing failed", published={"gold.x": "12"})
    assert "no table was changed" not in record.message() and "gold.x" in record.message()
    record.published = {}
    assert "no table was changed" in record.message()


def test_a_pipeline_run_whose_publish_fails_changes_no_table(
    rat: Rat, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ratatouille_jupyter.pipelines.runner import run_pipeline
    from ratatouille_jupyter.pipelines.spec import discover
    from tests.pipelines.notebooks import write_notebook

    lh = rat.session
    for name in ("DAGSTER_HOME", "RAT_BRANCH", "RAT_CONTEXT", "RAT_NOTEBOOK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    folder = Path(lh.settings.pipelines_dir)
    write_notebook(folder / "twice.ipynb", [
        "from ratatouille import rat\nimport pandas as pd",
        'rat.ice_ingest_df(pd.DataFrame({"id": [4], "qty": [4]}), "bronze.sales")',
        'rat.transform("SELECT id, qty AS total FROM {bronze.sales}", "silver.sales", merge_keys=["id"])',
    ])  # fmt: skip
    before = mains(lh)
    fail_at(monkeypatch, 2, OSError("connection reset"))  # in this process: the publish of the run
    record = run_pipeline(discover(lh.settings).get("twice"), lh.settings)
    assert record.status == "failed" and "OSError: connection reset" in record.error
    assert record.published == {} and "no table was changed" in record.message()
    assert mains(lh) == before


def test_a_rebase_whose_replay_fails_leaves_the_branch_as_it_was(rat: Rat) -> None:
    lh = rat.session
    rat.ice_ingest_df(pd.DataFrame({"id": [1, 2, 3], "region": ["n", "s", "n"]}), "bronze.regions")
    rat.dev_start("feature/r")
    rat.transform("SELECT id, qty * 1000 AS total FROM {bronze.sales}", "silver.sales", merge_keys=["id"])
    rat.transform(
        "SELECT r.region AS region, sum(s.total) AS t FROM {silver.sales} AS s "
        "JOIN {bronze.regions} AS r ON s.id = r.id GROUP BY region",
        "gold.by_region",
    )
    tables = ("silver.sales", "gold.by_region")
    heads = {t: refs(lh, t, "feature/r")["feature/r"] for t in tables}
    data = {t: rat.df(t).sort_values(rat.df(t).columns[0]).reset_index(drop=True) for t in tables}
    other = Rat(Lakehouse(lh.settings))  # main moves: the first replay works, the second cannot
    other.ice_ingest_df(pd.DataFrame({"id": [4], "qty": [4]}), "bronze.sales")
    other.transform("SELECT id, qty * 10 AS total FROM {bronze.sales}", "silver.sales", merge_keys=["id"])
    other.ice_drop("bronze.regions")
    with pytest.raises(
        Conflict, match=r"the transform that wrote gold\.by_region fails.*branch is unchanged"
    ):
        rat.dev_merge(rebase=True)
    assert {t: refs(lh, t, "feature/r")["feature/r"] for t in tables} == heads
    for t in tables:
        now = rat.df(t).sort_values(rat.df(t).columns[0]).reset_index(drop=True)
        assert now.equals(data[t])
    for t in ("bronze.sales", "silver.sales", "gold.by_region"):  # no temporary branch is left
        assert set(refs(lh, t, "feature/r")) <= {"main", "feature/r"}


def main_session(lh: Lakehouse) -> Rat:
    return Rat(Lakehouse(lh.settings))


def data_files(lh: Lakehouse, table: str, branch: str) -> list[str]:
    loaded = load_table(lh.catalog, table, branch)
    return [task.file.file_path for task in loaded.scan().use_ref(branch).plan_files()]


def test_a_table_created_on_a_branch_exists_only_there_until_published(rat: Rat) -> None:
    from ratatouille_jupyter.server.catalog_index import all_tables

    lh = rat.session
    rat.dev_start("feature/x")
    rat.transform("SELECT id, qty FROM {bronze.sales}", "silver.only_on_branch")
    rat.ice_merge(pd.DataFrame({"id": [3, 9], "qty": [30, 90]}), "silver.only_on_branch", ["id"])
    # on the branch: a table like any other
    assert rat.ice_tables("silver") == ["only_on_branch", "sales"]
    assert sorted(rat.df("silver.only_on_branch").qty) == [1, 2, 30, 90]
    assert "silver.only_on_branch" in {t["table"] for t in rat.dev_status()["tables"]}
    assert rat.dev_diff("silver.only_on_branch").added == 4
    assert rat.dev_branches("silver.only_on_branch").table.tolist() == ["silver.only_on_branch"]
    assert rat.ice_partition("silver.only_on_branch", ["bucket(4, id)"]) == ["bucket(4, id)"]
    assert rat.ice_policy("silver.only_on_branch", retain_last=7)["retain_last"] == 7
    # on main: it does not exist, for our listings, the sidebar's, and anything listing the catalog
    main = main_session(lh)
    assert main.ice_tables("silver") == ["sales"] and "rat_branches" not in main.ice_namespaces()
    with pytest.raises(NotFound, match=(
        r"table silver\.only_on_branch does not exist on main; it exists on branch feature/x "
        r"\(publish it with rat\.dev_merge\)"
    )):  # fmt: skip
        main.query("SELECT * FROM {silver.only_on_branch}")
    assert ("silver", "only_on_branch") not in lh.catalog.list_tables("silver")
    assert ("silver", "only_on_branch") not in all_tables(lh.catalog)
    assert all(ns != "rat_branches" for ns, _ in all_tables(lh.catalog))
    hidden = lh.catalog.list_tables("rat_branches")[0]
    with pytest.raises(InvalidInput, match="rat_branches"):  # nor under its hidden name
        main.query(f"SELECT * FROM {{rat_branches.{hidden[-1]}}}")
    # published: in place on main, under its real name only
    assert "silver.only_on_branch" in rat.dev_merge()["published"]
    assert sorted(main.df("silver.only_on_branch").qty) == [1, 2, 30, 90]
    assert main.ice_tables("silver") == ["only_on_branch", "sales"]
    assert lh.catalog.list_tables("rat_branches") == []


def test_dev_drop_drops_a_table_created_on_the_branch_with_its_files(rat: Rat) -> None:
    lh = rat.session
    rat.dev_start("feature/gone")
    rat.ice_ingest_df(pd.DataFrame({"id": [1, 2]}), "gold.p_fail")
    loaded = load_table(lh.catalog, "gold.p_fail", "feature/gone")
    files = data_files(lh, "gold.p_fail", "feature/gone")
    assert files and all(loaded.io.new_input(f).exists() for f in files)
    assert rat.dev_drop() == ["gold.p_fail"]
    assert lh.catalog.list_tables("rat_branches") == []
    assert not any(loaded.io.new_input(f).exists() for f in files)
    assert "gold" not in rat.ice_namespaces()
    with pytest.raises(NotFound, match="does not exist"):
        rat.query("SELECT * FROM {gold.p_fail}")


def test_a_run_branch_that_expires_leaves_nothing_behind(rat: Rat) -> None:
    from ratatouille_jupyter.pipelines.runner import expire_branches

    lh = rat.session
    rat.dev_start("pipelines/p_fail/run-1")
    rat.ice_ingest_df(pd.DataFrame({"id": [4], "qty": [4]}), "bronze.sales")
    rat.ice_ingest_df(pd.DataFrame({"id": [1]}), "gold.p_fail")
    rat.dev(None)
    files = data_files(lh, "gold.p_fail", "pipelines/p_fail/run-1")
    removed = expire_branches(lh, "p_fail", keep_days=0)
    assert sorted(removed) == ["bronze.sales@pipelines/p_fail/run-1", "gold.p_fail@pipelines/p_fail/run-1"]
    assert lh.catalog.list_tables("rat_branches") == [] and "gold" not in rat.ice_namespaces()
    io = load_table(lh.catalog, "bronze.sales").io
    assert not any(io.new_input(f).exists() for f in files)


def test_publishing_refuses_a_name_created_on_main_meanwhile(rat: Rat) -> None:
    lh = rat.session
    rat.dev_start("feature/twice")
    rat.ice_ingest_df(pd.DataFrame({"id": [4], "qty": [4]}), "bronze.sales")
    rat.ice_ingest_df(pd.DataFrame({"id": [1]}), "gold.both")
    main = main_session(lh)
    main.ice_ingest_df(pd.DataFrame({"id": [2]}), "gold.both")
    before = {t: refs(lh, t).get("main") for t in ("bronze.sales", "gold.both")}
    with pytest.raises(Conflict, match=r"gold\.both was created on the branch and, meanwhile, on main"):
        rat.dev_merge()
    assert {t: refs(lh, t).get("main") for t in ("bronze.sales", "gold.both")} == before
    assert rat.df("gold.both").id.tolist() == [1] and main.df("gold.both").id.tolist() == [2]
