"""Branch actions and the change marker, on a fresh lakehouse per test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from ratatouille.config import Settings
from ratatouille.session import Lakehouse

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def rat_home(writable_home: Path) -> Path:
    return writable_home


def _write_on(home: Path, branch: str, rows: int = 1) -> None:
    lh = Lakehouse(Settings.for_home(home))
    lh.use_branch(branch)
    lh.write(
        pa.table({"id": list(range(rows)), "region": ["x"] * rows, "amount": [1.0] * rows}), "bronze.sales"
    )
    lh.close()


async def test_create_fast_forward_drop(api: Any, raw_api: Any, rat_home: Path) -> None:
    created = await api("tables", "bronze", "sales", "branches", method="POST", body={"name": "feature/x"})
    refs = await api("tables", "bronze", "sales", "refs")
    main_head = refs["items"][0]["snapshot_id"]
    assert created == {"name": "feature/x", "type": "branch", "snapshot_id": main_head}
    assert [r["name"] for r in refs["items"]] == ["main", "feature/x"]

    _write_on(rat_home, "feature/x")
    moved = await raw_api("tables/bronze/sales/branches/feature%2Fx/fast-forward", method="POST")
    assert moved["changed"] is True and moved["previous_snapshot_id"] == main_head
    detail = await api("tables", "bronze", "sales")
    assert (detail["snapshot_id"], detail["row_count"]) == (moved["snapshot_id"], 5)

    again = await raw_api("tables/bronze/sales/branches/feature%2Fx/fast-forward", method="POST")
    assert again["changed"] is False

    dropped = await raw_api("tables/bronze/sales/branches/feature%2Fx", method="DELETE")
    assert dropped["name"] == "feature/x"
    refs = await api("tables", "bronze", "sales", "refs")
    assert [r["name"] for r in refs["items"]] == ["main"]


async def test_create_at_snapshot_and_from_ref(api: Any) -> None:
    snaps = await api("tables", "bronze", "sales", "snapshots")
    first = snaps["items"][-1]["snapshot_id"]
    old = await api(
        "tables", "bronze", "sales", "branches", method="POST", body={"name": "old", "snapshot_id": first}
    )
    assert old["snapshot_id"] == first
    copy = await api(
        "tables", "bronze", "sales", "branches", method="POST", body={"name": "copy", "from": "old"}
    )
    assert copy["snapshot_id"] == first
    preview = await api("tables", "bronze", "sales", "preview", params={"ref": "old"})
    assert len(preview["rows"]) == 3


async def test_fast_forward_refuses_diverged_branches(api: Any, api_error: Any, rat_home: Path) -> None:
    await api("tables", "bronze", "sales", "branches", method="POST", body={"name": "dev"})
    _write_on(rat_home, "dev")
    _write_on(rat_home, "main")
    status, body = await api_error(
        "tables", "bronze", "sales", "branches", "dev", "fast-forward", method="POST"
    )
    assert status == 409
    assert body["error"] == "Conflict" and "main has snapshots that dev does not have" in body["message"]


@pytest.mark.parametrize(
    ("method", "parts", "body", "status", "error"),
    [
        ("POST", ("branches",), {"name": "main"}, 409, "AlreadyExists"),
        ("POST", ("branches",), {"name": "bad name"}, 400, "InvalidInput"),
        ("POST", ("branches",), {"name": "../x"}, 400, "InvalidInput"),
        ("POST", ("branches",), {}, 400, "InvalidInput"),
        ("POST", ("branches",), {"name": 5}, 400, "InvalidInput"),
        ("POST", ("branches",), {"name": "b", "from": "nope"}, 404, "NotFound"),
        ("POST", ("branches",), {"name": "b", "snapshot_id": "12"}, 404, "NotFound"),
        ("POST", ("branches",), {"name": "b", "snapshot_id": [1]}, 400, "InvalidInput"),
        ("POST", ("branches",), ["not", "an", "object"], 400, "InvalidInput"),
        ("DELETE", ("branches", "main"), None, 400, "InvalidInput"),
        ("DELETE", ("branches", "nope"), None, 404, "NotFound"),
        ("POST", ("branches", "nope", "fast-forward"), {}, 404, "NotFound"),
        ("POST", ("branches", "main", "fast-forward"), {}, 400, "InvalidInput"),
        ("POST", ("branches", "main", "fast-forward"), {"target": 3}, 400, "InvalidInput"),
    ],
)
async def test_branch_bad_input(
    api_error: Any, method: str, parts: tuple[str, ...], body: Any, status: int, error: str
) -> None:
    code, answer = await api_error("tables", "bronze", "sales", *parts, method=method, body=body)
    assert (code, answer["error"]) == (status, error), answer


async def test_not_json_body_is_400(jp_fetch: Any) -> None:
    from tornado.httpclient import HTTPClientError

    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("ratatouille", "tables", "bronze", "sales", "branches", method="POST", body="{nope")
    assert info.value.code == 400


async def test_unknown_table_branch_is_404(api_error: Any) -> None:
    code, body = await api_error("tables", "bronze", "nope", "branches", method="POST", body={"name": "b"})
    assert (code, body["error"]) == (404, "NotFound")


async def test_changes_marker_moves_after_a_write(api: Any, rat_home: Path) -> None:
    before = await api("changes")
    _write_on(rat_home, "main")
    after = await api("changes")
    assert after["marker"] != before["marker"]
    assert after["tables"] == before["tables"] == 1
    # the cached table is replaced once its metadata moved
    detail = await api("tables", "bronze", "sales")
    assert detail["row_count"] == 5


class TestReadOnly:
    @pytest.fixture
    def rat_read_only(self) -> bool:
        return True

    async def test_branch_actions_are_403(self, api: Any, api_error: Any) -> None:
        assert (await api("version"))["read_only"] is True
        code, body = await api_error(
            "tables", "bronze", "sales", "branches", method="POST", body={"name": "b"}
        )
        assert (code, body["error"]) == (403, "ReadOnly")
        code, _ = await api_error("tables", "bronze", "sales", "branches", "main", method="DELETE")
        assert code == 403
        assert (await api("tables", "bronze", "sales"))["row_count"] == 4
