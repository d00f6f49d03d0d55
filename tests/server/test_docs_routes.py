"""Table documentation and last check results in the REST answers (the sample documents two tables)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ratatouille.config import Settings
from ratatouille.documenting.tabledoc import document
from ratatouille.session import Lakehouse
from ratatouille_jupyter.server.service import Explorer
from ratatouille_jupyter.server.table_docs import check_item, summary_status

pytestmark = pytest.mark.timeout(120)


async def test_detail_carries_the_documentation(api: Any) -> None:
    body = await api("tables", "bronze", "sales")
    assert body["description"] == "Orders as the shop exports them, one row per order line"
    assert body["owner"] == "sales-data@example.com"
    assert body["tags"] == ["finance", "daily"]
    assert body["pii"] == []
    assert [(c["name"], c["doc"], c["pii"]) for c in body["columns"]] == [
        ("id", "Order line id", False),
        ("region", "Sales region of the shop", False),
        ("amount", "Amount in EUR", False),
    ]
    customers = await api("tables", "bronze", "customers")
    assert customers["pii"] == ["name"]
    assert [c["name"] for c in customers["columns"] if c["pii"]] == ["name"]
    assert customers["owner"] is None and customers["tags"] == []


async def test_detail_carries_the_last_checks_failures_first(api: Any) -> None:
    body = await api("tables", "bronze", "sales")
    assert body["check_status"] == "fail"
    failed, passed = body["checks"]
    assert (failed["name"], failed["severity"], failed["passed"], failed["status"], failed["count"]) == (
        "not_null(region)",
        "error",
        False,
        "fail",
        1,
    )
    assert failed["sql"] == "SELECT * FROM {bronze.sales} WHERE `region` IS NULL"
    assert failed["sample"] == [{"id": 3, "region": None, "amount": 7.25}]
    assert failed["branch"] == "main" and failed["checked_at"].endswith("+00:00")
    assert isinstance(failed["snapshot_id"], str)
    assert (passed["name"], passed["status"], passed["count"]) == ("not_null(id)", "pass", 0)
    assert passed["sample"] == []
    # the same results whatever ref is shown: checks are filed per table
    assert [c["name"] for c in (await api("tables", "bronze", "sales", params={"ref": "dev"}))["checks"]] == [
        "not_null(region)",
        "not_null(id)",
    ]
    none = await api("tables", "silver", "daily")
    assert (none["check_status"], none["checks"], none["description"], none["columns"][0]["doc"]) == (
        None,
        [],
        None,
        None,
    )


async def test_listing_carries_description_and_check_status(api: Any) -> None:
    body = await api("tables", params={"namespace": "bronze"})
    by_id = {t["identifier"]: t for t in body["items"]}
    assert by_id["bronze.sales"]["check_status"] == "fail"
    assert by_id["bronze.sales"]["description"].startswith("Orders as the shop")
    assert by_id["bronze.customers"]["check_status"] is None
    many = await api("tables", params={"namespace": "many", "limit": "1"})
    assert many["items"][0]["description"] is None


async def test_filter_searches_descriptions(api: Any) -> None:
    body = await api("tables", params={"filter": "crm"})
    assert [t["identifier"] for t in body["items"]] == ["bronze.customers"]
    body = await api("tables", params={"filter": "ORDER LINE"})
    assert [t["identifier"] for t in body["items"]] == ["bronze.sales"]
    body = await api("tables", params={"filter": "sal"})  # the name still matches
    assert [t["identifier"] for t in body["items"]] == ["bronze.sales"]
    body = await api("tables", params={"filter": "nothing like this"})
    assert body["total"] == 0


def test_descriptions_follow_commits_and_checks_move_the_marker(writable_home: Path) -> None:
    settings = Settings.for_home(writable_home)
    explorer = Explorer(settings)
    try:
        assert explorer.tables()["items"][0]["description"] is None
        marker = explorer.changes()["marker"]
        lh = Lakehouse(settings)
        document(lh.catalog, "bronze.sales", description="Now documented")
        assert explorer.tables(filter_text="documented")["items"][0]["description"] == "Now documented"
        marker2 = explorer.changes()["marker"]
        assert marker2 != marker
        from ratatouille.checks import parse_spec, run_checks

        run_checks(lh, parse_spec("bronze.sales unique(id)"), store=True)
        lh.close()
        assert explorer.changes()["marker"] != marker2  # a stored check result refreshes the sidebar
        assert explorer.tables()["items"][0]["check_status"] == "fail"  # id 1 twice
    finally:
        explorer.close()


def test_unreadable_results_file_is_no_result(writable_home: Path) -> None:
    settings = Settings.for_home(writable_home)
    folder = writable_home / "checks"
    folder.mkdir()
    (folder / "bronze.sales.json").write_text("{not json", encoding="utf-8")
    explorer = Explorer(settings)
    try:
        assert explorer.tables()["items"][0]["check_status"] is None
        detail = explorer.detail("bronze", "sales")
        assert (detail["check_status"], detail["checks"]) == (None, [])
    finally:
        explorer.close()


def test_status_summary_and_json_safe_items() -> None:
    ok = {"passed": True, "severity": "error"}
    warn = {"passed": False, "severity": "warn"}
    fail = {"passed": False, "severity": "error"}
    assert summary_status([]) is None
    assert summary_status([ok]) == "pass"
    assert summary_status([ok, warn]) == "warn"
    assert summary_status([warn, fail, ok]) == "fail"
    sample = [{"v": float("nan")}] * 20
    item = check_item({**warn, "name": "x", "count": 2, "sample": sample, "sql": "S" * 9000})
    assert len(item["sample"]) == 10 and item["sample"][0] == {"v": "NaN"}
    assert len(item["sql"]) == 4000
    json.dumps(item, allow_nan=False)
