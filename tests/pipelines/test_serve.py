"""``rat pipelines serve``: the webserver answers GraphQL, the daemon runs a launched run, Ctrl-C/SIGTERM
stop everything."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ratatouille.config import Settings
from ratatouille.session import Lakehouse
from ratatouille_jupyter.pipelines.layout import settings_env
from ratatouille_jupyter.pipelines.serve import STATE_FILE, read_state, wait_until_up
from ratatouille_jupyter.pipelines.service import graphql, list_pipelines, run_now

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

_LISTING = """{
  assetNodes { assetKey { path } dependencyKeys { path } }
  repositoriesOrError { ... on RepositoryConnection { nodes {
    jobs { name } schedules { name cronSchedule scheduleState { status } } } } }
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie has exited
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.fixture
def served(settings: Settings, examples: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = _free_port()
    env = settings_env(settings)
    env.pop("DAGSTER_HOME", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "ratatouille.cli", "pipelines", "serve", "--port", str(port)],
        env=env, cwd=settings.home.parent, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        yield process, url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        state = settings.home / "dagster" / STATE_FILE
        if state.exists():
            for pid in json.loads(state.read_text()).get("children", {}).values():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)


def test_serve_lists_assets_jobs_schedules_runs_with_the_daemon_and_stops_cleanly(
    settings: Settings, served: tuple[subprocess.Popen[bytes], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    process, url = served
    assert wait_until_up(url, 120, lambda: process.poll() is None), "the webserver did not answer"
    state = read_state(settings)
    assert state is not None and state.url == url
    children = json.loads((settings.home / "dagster" / STATE_FILE).read_text())["children"]
    assert set(children) == {"webserver", "daemon"}

    data = graphql(url, _LISTING)
    nodes = data["assetNodes"]
    deps = {tuple(a["assetKey"]["path"]): [tuple(d["path"]) for d in a["dependencyKeys"]] for a in nodes}
    assert deps[("silver", "sales")] == [("bronze", "sales")]
    assert deps[("silver", "sales_daily")] == [("bronze", "sales")]
    assert set(deps) == {("bronze", "sales"), ("silver", "sales"), ("gold", "revenue_by_region"),
                         ("silver", "sales_daily")}  # fmt: skip
    (repo,) = data["repositoriesOrError"]["nodes"]
    assert {"ingest_sales", "transform_sales"} <= {j["name"] for j in repo["jobs"]}
    schedules = {s["name"]: (s["cronSchedule"], s["scheduleState"]["status"]) for s in repo["schedules"]}
    assert schedules == {"ingest_sales_schedule": ("0 6 * * *", "RUNNING"),
                         "transform_sales_schedule": ("30 6 * * *", "RUNNING"),
                         "quality_sales_schedule": ("45 6 * * *", "RUNNING"),
                         "rat_maintenance_schedule": ("0 3 * * *", "RUNNING")}  # fmt: skip

    listing = list_pipelines(settings)
    assert listing["dagster"] == {"running": True, "url": url, "home": str(settings.home / "dagster")}
    launched = run_now(settings, "ingest_sales")
    assert launched["via"] == "dagster" and launched["status"] in ("queued", "not_started", "starting")
    query = '{ runOrError(runId: "RUN") { ... on Run { status } } }'.replace("RUN", launched["run_id"])
    deadline = time.monotonic() + 150
    status = ""
    while time.monotonic() < deadline:
        status = graphql(url, query)["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(1)
    assert status == "SUCCESS"
    lh = Lakehouse(settings)
    assert len(lh.query_arrow("SELECT * FROM {bronze.sales}")) == 40
    lh.close()
    last = list_pipelines(settings)["items"][0]["last_run"]
    assert last["run_id"] == launched["run_id"] and last["status"] == "success"
    assert last["dagster_url"] == f"{url}/runs/{launched['run_id']}"
    # A webserver run elsewhere (the container stack): RAT_DAGSTER_URL, links for the browser apart.
    monkeypatch.setenv("RAT_DAGSTER_URL", url)
    monkeypatch.setenv("RAT_DAGSTER_PUBLIC_URL", "http://dagster.example:3030")
    elsewhere = list_pipelines(settings)
    assert elsewhere["dagster"]["url"] == "http://dagster.example:3030"
    assert elsewhere["items"][0]["dagster_url"].startswith("http://dagster.example:3030/locations/")

    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert time.monotonic() - started < 40
    assert not (settings.home / "dagster" / STATE_FILE).exists()
    assert not [name for name, pid in children.items() if _alive(pid)]
    assert read_state(settings) is None
