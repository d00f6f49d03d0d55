"""The sidebar's pipelines routes on a Jupyter server with the extension (listing, run now, errors)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from ratatouille.config import Settings
from ratatouille_jupyter.pipelines import records
from ratatouille_jupyter.server import routes
from ratatouille_jupyter.server.pipelines_handlers import PipelineRunsHandler, PipelinesHandler
from tests.pipelines.notebooks import write_notebook

pytestmark = pytest.mark.timeout(180)

ROUTES = [
    ("/ratatouille/pipelines", PipelinesHandler),
    ("/ratatouille/pipelines/{name}/runs", PipelineRunsHandler),
]


@pytest.fixture(autouse=True)
def pipeline_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pipelines routes, registered like the extension's (added when routes.py does not list them)."""
    known = {template for template, _ in routes.ROUTES}
    monkeypatch.setattr(routes, "ROUTES", [*routes.ROUTES, *(r for r in ROUTES if r[0] not in known)])


@pytest.fixture
def read_only() -> bool:
    return False


@pytest.fixture
def server_home(settings: Settings) -> str:
    """The lakehouse home the server is configured with."""
    return str(settings.home)


@pytest.fixture
def jp_server_config(server_home: str, read_only: bool) -> dict[str, Any]:  # type: ignore[no-redef]
    return {
        "ServerApp": {"jpserver_extensions": {"ratatouille_jupyter.server": True}},
        "RatatouilleApp": {"home": server_home, "read_only": read_only},
    }


async def _call(jp_fetch: Any, *parts: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body) if body is not None else ("{}" if method == "POST" else None)
    try:
        response = await jp_fetch("ratatouille", *parts, method=method, body=data)
    except HTTPClientError as e:
        assert e.response is not None
        return e.code, json.loads(e.response.body)
    return response.code, json.loads(response.body)


async def test_listing_and_run_now(jp_fetch: Any, settings: Settings, pipelines: Path) -> None:
    write_notebook(pipelines / "nightly.ipynb", [
        ("n = 1", ["parameters"]),
        "from ratatouille import rat\nimport pandas as pd",
        'rat.ice_ingest_df(pd.DataFrame({"i": range(n)}), "bronze.nightly", mode="overwrite")',
    ], pipeline={"schedule": "0 2 * * *"})  # fmt: skip
    (pipelines / "broken.ipynb").write_text("not a notebook")
    status, listing = await _call(jp_fetch, "pipelines")
    assert status == 200
    assert listing["dagster"]["running"] is False and listing["pipelines_dir"] == str(pipelines)
    (item,) = listing["items"]
    assert (item["name"], item["schedule"], item["writes"], item["last_run"]) == (
        "nightly", "0 2 * * *", ["bronze.nightly"], None)  # fmt: skip
    assert [e["name"] for e in listing["errors"]] == ["broken"]

    status, error = await _call(jp_fetch, "pipelines", "nightly", "runs", method="POST",
                                body={"parameters": {"nn": 2}})  # fmt: skip
    assert (status, error["error"]) == (400, "InvalidInput") and "did you mean n?" in error["message"]
    status, error = await _call(jp_fetch, "pipelines", "nope", "runs", method="POST")
    assert (status, error["error"]) == (404, "NotFound")

    status, launched = await _call(jp_fetch, "pipelines", "nightly", "runs", method="POST",
                                   body={"parameters": {"n": "3"}})  # fmt: skip
    assert status == 202 and launched["via"] == "process"  # no rat pipelines serve: a detached process
    deadline = time.monotonic() + 120
    record = None
    while time.monotonic() < deadline:
        record = records.last_run(settings, "nightly")
        if record is not None and record.status != records.RUNNING:
            break
        time.sleep(1)
    assert record is not None and record.status == "success", record
    assert record.parameters == {"n": 3}
    status, runs = await _call(jp_fetch, "pipelines", "nightly", "runs")
    assert status == 200 and [r["run_id"] for r in runs["items"]] == [record.run_id]
    status, listing = await _call(jp_fetch, "pipelines")
    assert listing["items"][0]["last_run"]["status"] == "success"


async def test_a_runs_limit_out_of_range_is_refused(jp_fetch: Any, pipelines: Path) -> None:
    """``limit`` is 1..200: anything else is a 400 naming the range, not a silently clamped answer."""
    write_notebook(pipelines / "p.ipynb", ["x = 1"], pipeline={"schedule": ""})
    for bad in ("0", "-1", "201", "100000", "ten"):
        try:
            await jp_fetch("ratatouille", "pipelines", "p", "runs", params={"limit": bad})
        except HTTPClientError as e:
            assert e.response is not None
            error = json.loads(e.response.body)
            assert (e.code, error["error"]) == (400, "InvalidInput"), bad
            assert "limit must be" in error["message"], bad
        else:
            raise AssertionError(f"limit={bad} was accepted")
    for good in ("1", "200"):
        response = await jp_fetch("ratatouille", "pipelines", "p", "runs", params={"limit": good})
        assert response.code == 200 and json.loads(response.body) == {"pipeline": "p", "items": []}


@pytest.mark.parametrize("read_only", [True])
async def test_authentication_and_read_only(jp_fetch: Any, pipelines: Path) -> None:
    write_notebook(pipelines / "p.ipynb", ["x = 1"])
    status, error = await _call(jp_fetch, "pipelines", "p", "runs", method="POST")
    assert (status, error["error"]) == (403, "ReadOnly")
    for method, parts in [("GET", ["pipelines"]), ("GET", ["pipelines", "p", "runs"]),
                          ("POST", ["pipelines", "p", "runs"])]:  # fmt: skip
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("ratatouille", *parts, method=method, body="{}" if method == "POST" else None,
                           headers={"Authorization": ""})  # fmt: skip
        assert info.value.code == 403


async def test_parameter_defaults_that_json_cannot_hold_are_shown_as_text(
    jp_fetch: Any, settings: Settings, pipelines: Path
) -> None:
    write_notebook(pipelines / "odd.ipynb", [
        ("import datetime\nstart = datetime.date(2024, 1, 1)\nregions = {'eu'}\nraw = b'ab'\n"
         "ceiling = 1e999\npair = (1, 2)\nkeyed = {(1, 2): 'a'}\nn = 3", ["parameters"]),
        "print(start, regions, raw, ceiling, pair, keyed, n)",
    ], pipeline={"parameters": {"n": 4}})  # fmt: skip
    status, listing = await _call(jp_fetch, "pipelines")
    assert status == 200, listing
    (item,) = listing["items"]
    assert item["parameter_defaults"] == {
        "start": "datetime.date(2024, 1, 1)", "regions": "{'eu'}", "raw": "b'ab'", "ceiling": "inf",
        "pair": [1, 2], "keyed": "{(1, 2): 'a'}", "n": 3}  # fmt: skip
    assert item["parameter_types"] == {
        "start": "expression", "regions": "set", "raw": "bytes", "ceiling": "float", "pair": "tuple",
        "keyed": "dict", "n": "int"}  # fmt: skip
    assert item["parameters"] == {"n": 4}

    record = records.RunRecord("odd", "r1", status="failed", parameters={"ceiling": float("inf"), "n": 4})
    record.save(settings)
    status, runs = await _call(jp_fetch, "pipelines", "odd", "runs")
    assert status == 200, runs
    assert runs["items"][0]["parameters"] == {"ceiling": "inf", "n": 4}


class TestSettingsMissing:
    @pytest.fixture
    def server_home(self, tmp_path: Path) -> str:
        home = tmp_path / "broken"
        home.mkdir()
        (home / "ratatouille.toml").write_text("bogus_key = 1\n")
        return str(home)

    async def test_every_route_says_the_lakehouse_is_not_configured(self, jp_fetch: Any) -> None:
        for method, parts in [("GET", ["pipelines"]), ("GET", ["pipelines", "p", "runs"]),
                              ("POST", ["pipelines", "p", "runs"])]:  # fmt: skip
            status, error = await _call(jp_fetch, *parts, method=method)
            assert (status, error["error"]) == (503, "ConfigError"), (parts, error)
            assert "bogus_key" in error["message"]


class TestHomeIsNotAFolder:
    @pytest.fixture
    def server_home(self, tmp_path: Path) -> str:
        home = tmp_path / "a-file"
        home.write_text("not a folder")
        return str(home)

    async def test_every_route_names_the_home(self, jp_fetch: Any, server_home: str) -> None:
        for method, parts in [("GET", ["pipelines"]), ("GET", ["pipelines", "p", "runs"]),
                              ("POST", ["pipelines", "p", "runs"])]:  # fmt: skip
            status, error = await _call(jp_fetch, *parts, method=method)
            assert (status, error["error"]) == (503, "ConfigError"), (parts, error)
            assert server_home in error["message"] and "not a folder" in error["message"]
