"""Read routes of the REST API, through a Jupyter server with authentication on."""

from __future__ import annotations

from typing import Any

import pytest

from ratatouille import __version__
from ratatouille_jupyter.server.service import API_VERSION

pytestmark = pytest.mark.timeout(120)


async def test_version_handshake(api: Any) -> None:
    body = await api("version")
    assert body["name"] == "ratatouille"
    assert body["version"] == __version__
    assert body["api_version"] == API_VERSION
    assert body["preview_max_rows"] == 500
    assert body["read_only"] is False


async def test_namespaces(api: Any) -> None:
    body = await api("namespaces")
    assert [n["name"] for n in body["items"]] == ["bronze", "many", "silver"]


async def test_tables_all_filter_namespace_and_pages(api: Any) -> None:
    body = await api("tables")
    assert body["total"] == 15
    assert body["items"][0] == {
        "namespace": "bronze",
        "name": "customers",
        "identifier": "bronze.customers",
        "description": "Customer master data from the CRM",
        "check_status": None,
    }

    body = await api("tables", params={"filter": "SAL"})
    assert [t["identifier"] for t in body["items"]] == ["bronze.sales"]

    body = await api("tables", params={"namespace": "many", "offset": "10", "limit": "5"})
    assert body["total"] == 12
    assert [t["name"] for t in body["items"]] == ["t10", "t11"]
    assert (body["offset"], body["limit"]) == (10, 5)

    body = await api("tables", params={"namespace": "nothing_here"})
    assert body == {"items": [], "total": 0, "offset": 0, "limit": 100}


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"limit": "0"}, "limit must be between 1 and 1000"),
        ({"limit": "5000"}, "limit must be between 1 and 1000"),
        ({"limit": "ten"}, "limit must be an integer"),
        ({"offset": "-1"}, "offset must be 0 or more"),
        ({"namespace": "bad-name"}, "invalid namespace"),
        ({"namespace": "x; DROP TABLE y"}, "invalid namespace"),
        ({"filter": "x" * 300}, "longer than 200"),
    ],
)
async def test_tables_bad_input_is_400(api_error: Any, params: dict[str, str], needle: str) -> None:
    status, body = await api_error("tables", params=params)
    assert status == 400
    assert body["error"] == "InvalidInput"
    assert needle in body["message"]


async def test_table_detail(api: Any) -> None:
    body = await api("tables", "bronze", "sales")
    assert body["identifier"] == "bronze.sales"
    assert body["ref"] == "main"
    assert body["row_count"] == 4
    assert body["file_count"] == 2
    assert body["size_bytes"] > 0
    assert [(f["name"], f["type"], f["nullable"]) for f in body["schema"]["fields"]] == [
        ("id", "long", True),
        ("region", "string", True),
        ("amount", "double", True),
    ]
    assert body["partitioning"] == []
    assert (body["files_branch"], body["files"], body["small_files"]) == ("main", 2, 2)
    assert body["file_bytes"] == body["size_bytes"]
    assert isinstance(body["properties"], dict)
    assert body["snapshot_count"] == 3
    assert [(r["name"], r["type"]) for r in body["refs"]] == [
        ("main", "branch"),
        ("dev", "branch"),
        ("v1", "tag"),
    ]
    assert isinstance(body["snapshot_id"], str)  # 64-bit ids travel as strings

    dev = await api("tables", "bronze", "sales", params={"ref": "dev"})
    assert (dev["ref"], dev["row_count"]) == ("dev", 5)
    assert (dev["files_branch"], dev["files"]) == ("dev", 3)
    tag = await api("tables", "bronze", "sales", params={"ref": "v1"})
    assert (tag["files_branch"], tag["files"]) == ("main", 2)
    old = await api("tables", "bronze", "sales", params={"snapshot_id": body["refs"][0]["snapshot_id"]})
    assert old["ref"] is None and old["row_count"] == 4 and old["files_branch"] == "main"


async def test_unknown_table_is_404_with_a_hint(api_error: Any) -> None:
    status, body = await api_error("tables", "bronze", "sale")
    assert status == 404
    assert body["error"] == "NotFound"
    assert "bronze.sale does not exist" in body["message"] and "bronze.sales" in body["message"]


@pytest.mark.parametrize(
    ("parts", "params", "status"),
    [
        (("tables", "bronze", "bad-name"), {}, 400),
        (("tables", "bronze", "sales%2F..%2Fx"), {}, 400),
        (("tables", "bronze", "sales"), {"ref": "no_such_ref"}, 404),
        (("tables", "bronze", "sales"), {"ref": "../etc"}, 400),
        (("tables", "bronze", "sales"), {"snapshot_id": "123"}, 404),
        (("tables", "bronze", "sales"), {"snapshot_id": "1e9"}, 400),
        (("tables", "bronze", "sales"), {"ref": "dev", "snapshot_id": "1"}, 400),
        (("tables", "bronze", "sales", "snapshots"), {"ref": "nope"}, 404),
        (("tables", "bronze", "sales", "snapshots"), {"limit": "100000"}, 400),
        (("tables", "nope", "sales", "refs"), {}, 404),
    ],
)
async def test_detail_bad_input(
    api_error: Any, parts: tuple[str, ...], params: dict[str, str], status: int
) -> None:
    code, body = await api_error(*parts, params=params)
    assert code == status
    assert body["message"]


async def test_snapshots_newest_first_with_provenance(api: Any) -> None:
    body = await api("tables", "bronze", "sales", "snapshots")
    assert body["total"] == 3
    newest = body["items"][0]
    assert newest["notebook"] == "dev_work.ipynb"
    assert newest["refs"] == ["dev"]
    assert newest["rows_added"] == 1
    assert newest["operation"] == "append"
    assert body["items"][-1]["parent_id"] is None
    assert body["items"][-1]["notebook"] == "ingest.ipynb"

    main = await api("tables", "bronze", "sales", "snapshots", params={"ref": "main", "limit": "1"})
    assert main["total"] == 2
    assert len(main["items"]) == 1
    assert main["items"][0]["refs"] == ["main", "v1"]
    page2 = await api(
        "tables", "bronze", "sales", "snapshots", params={"ref": "main", "offset": "1", "limit": "1"}
    )
    assert page2["items"][0]["snapshot_id"] == main["items"][0]["parent_id"]


async def test_refs(api: Any) -> None:
    body = await api("tables", "bronze", "sales", "refs")
    assert [r["name"] for r in body["items"]] == ["main", "dev", "v1"]
    assert all(isinstance(r["snapshot_id"], str) and r["timestamp"] for r in body["items"])


def _cache_fills() -> int:
    from ratatouille.engine.client import _ENGINES

    return sum(engine.cache.info().fills for engine in list(_ENGINES.values()))


async def test_preview_rows_bounded(api: Any) -> None:
    fills = _cache_fills()
    body = await api("tables", "bronze", "sales", "preview", params={"limit": "2"})
    assert _cache_fills() == fills  # a preview reads a few rows: it never copies the snapshot
    assert body["sql"] == "SELECT * FROM {bronze.sales} LIMIT 2"
    assert [c["name"] for c in body["columns"]] == ["id", "region", "amount"]
    assert len(body["rows"]) == 2
    assert body["truncated"] is True

    dev = await api("tables", "bronze", "sales", "preview", params={"ref": "dev", "limit": "100"})
    assert len(dev["rows"]) == 5 and dev["truncated"] is False
    assert sorted(r[0] for r in dev["rows"]) == [1, 1, 2, 2, 3]
    assert {r[1] for r in dev["rows"]} == {"north", "south", None}


async def test_preview_time_travel(api: Any) -> None:
    snaps = await api("tables", "bronze", "sales", "snapshots", params={"ref": "main"})
    first = snaps["items"][-1]["snapshot_id"]
    body = await api("tables", "bronze", "sales", "preview", params={"snapshot_id": first})
    assert body["sql"] == f"SELECT * FROM {{bronze.sales@{first}}} LIMIT 50"
    assert sorted(r[0] for r in body["rows"]) == [1, 2, 3]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"limit": "0"}, 400),
        ({"limit": "501"}, 400),
        ({"ref": "main LIMIT 1; SELECT 1"}, 400),
        ({"ref": "12345"}, 400),
        ({"ref": "missing"}, 404),
        ({"snapshot_id": "99"}, 404),
    ],
)
async def test_preview_bad_input(api_error: Any, params: dict[str, str], status: int) -> None:
    code, body = await api_error("tables", "bronze", "sales", "preview", params=params)
    assert code == status, body


async def test_changes_marker_is_stable_without_writes(api: Any) -> None:
    first = await api("changes")
    second = await api("changes")
    assert first == second
    assert first["tables"] == 15
    assert len(first["marker"]) == 32


async def test_snapshot_pages_are_stable_when_cached(api: Any) -> None:
    first = await api("tables", "bronze", "sales", "snapshots")
    second = await api("tables", "bronze", "sales", "snapshots")
    assert first == second
    assert first["items"][0]["timestamp"] >= first["items"][-1]["timestamp"]


async def test_a_server_bug_is_500_without_details(
    api_error: Any, jp_serverapp: Any, monkeypatch: Any
) -> None:
    from ratatouille_jupyter.server.base import EXPLORER_SETTING

    explorer = jp_serverapp.web_app.settings[EXPLORER_SETTING]

    def broken() -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(explorer, "namespaces", broken)
    status, body = await api_error("namespaces")
    assert status == 500
    assert body == {"error": "ServerError", "message": "internal error: see the Jupyter server log"}


class TestBadSettings:
    @pytest.fixture
    def rat_home(self, tmp_path: Any) -> Any:
        home = tmp_path / "broken"
        home.mkdir()
        (home / "ratatouille.toml").write_text("bogus_key = 1\n")
        return home

    async def test_routes_stay_up_and_say_why(self, api: Any, api_error: Any) -> None:
        assert (await api("version"))["name"] == "ratatouille"
        status, body = await api_error("namespaces")
        assert status == 503
        assert body["error"] == "ConfigError"
        assert "bogus_key" in body["message"]
