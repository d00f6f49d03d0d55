"""``rat doctor`` against good and broken configurations."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ratatouille import Rat
from ratatouille.cli import run
from ratatouille.config import Settings
from ratatouille.doctor import FAIL, OK, SKIP, Check, check_engine_reads_s3, exit_status, render, run_checks
from ratatouille.session import Lakehouse
from tests.services import free_port
from tests.stack.conftest import ServerEngine, server_lakehouse

NO_DAGSTER: dict[str, str] = {}


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


@pytest.fixture
def dagster_url() -> Iterator[str]:
    """A stand-in for dagster-webserver's /server_info."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            ok = self.path == "/server_info"
            body = json.dumps({"dagster_webserver_version": "1.13.28", "dagster_version": "1.13.28"})
            self.send_response(200 if ok else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode() if ok else b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_embedded_default_passes(tmp_path: Path, dagster_url: str) -> None:
    checks = run_checks(Settings.for_home(tmp_path / "home"), {"RAT_DAGSTER_URL": dagster_url}, timeout=2)
    by = _by_name(checks)
    assert [c.name for c in checks] == ["settings", "catalog", "object store", "engine", "serving", "dagster"]
    assert by["catalog"].status == OK and "not created yet" in by["catalog"].detail
    assert by["engine"].status == OK and "chDB" in by["engine"].detail
    assert by["serving"].status == SKIP and "make up" in by["serving"].detail
    assert by["dagster"].status == OK and "1.13.28" in by["dagster"].detail
    assert exit_status(checks) == 0 and render(checks).endswith("Every check passed.")
    assert not (tmp_path / "home" / "catalog.db").exists()  # checking creates nothing


def test_postgres_and_s3_pass(s3_settings: Settings, s3_server: Any) -> None:
    Rat(Lakehouse(s3_settings)).ice_ingest_df(pd.DataFrame({"id": [1]}), "bronze.t")
    checks = run_checks(s3_settings, NO_DAGSTER, timeout=2)
    by = _by_name(checks)
    assert exit_status(checks) == 0, render(checks)
    assert by["catalog"].status == OK and "1 namespace(s), 1 table(s)" in by["catalog"].detail
    assert by["object store"].status == OK and s3_server.endpoint in by["object store"].detail
    assert by["engine → S3"].status == OK
    assert by["dagster"].status == SKIP
    # The probe file is gone.
    bucket = s3_settings.warehouse.split("/")[2]
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys and not any("_rat_doctor" in k for k in keys)


def test_broken_services_fail_fast_with_a_fix(s3_settings: Settings) -> None:
    dead = free_port()
    broken = s3_settings.with_(
        catalog_uri=f"postgresql+psycopg2://rat:hunter2@127.0.0.1:{dead}/iceberg",
        s3_endpoint=f"http://127.0.0.1:{dead}",
        engine=f"http://rat:hunter2@127.0.0.1:{dead}",
    )
    started = time.monotonic()
    checks = run_checks(broken, {"RAT_DAGSTER_URL": f"http://127.0.0.1:{dead}"}, timeout=2)
    assert time.monotonic() - started < 10
    by = _by_name(checks)
    for name, variable in [
        ("catalog", "RAT_CATALOG_URI"),
        ("object store", "RAT_S3_ENDPOINT"),
        ("engine", "RAT_ENGINE"),
        ("dagster", "RAT_DAGSTER_URL"),
    ]:
        assert by[name].status == FAIL, by[name]
        assert "cannot reach" in by[name].detail or "refused" in by[name].detail.lower()
        assert variable in by[name].fix and "make up" in by[name].fix
    text = render(checks)
    assert "hunter2" not in text and ":****@" in text
    assert exit_status(checks) == 1 and text.endswith("4 of 5 checks failed.")


def test_missing_bucket_and_unknown_catalog_database(s3_settings: Settings, pg_catalog_uri: str) -> None:
    broken = s3_settings.with_(
        warehouse="s3://no-such-bucket/warehouse", catalog_uri=pg_catalog_uri.rsplit("/", 1)[0] + "/nope"
    )
    by = _by_name(run_checks(broken, NO_DAGSTER, timeout=2))
    assert by["object store"].status == FAIL
    assert "'no-such-bucket' does not exist" in by["object store"].detail
    assert "minio-init" in by["object store"].fix
    assert by["catalog"].status == FAIL and "nope" in by["catalog"].detail
    assert "does not exist" in by["catalog"].detail and "database" in by["catalog"].fix


def test_server_without_its_named_collection(s3_settings: Settings, published: None) -> None:
    # A server whose rat_s3 collection is missing: ServerEngine's SQL names a collection chDB lacks.
    lh = server_lakehouse(s3_settings)
    engine = lh.engine
    assert isinstance(engine, ServerEngine)
    engine.s3_collection = "rat_s3_missing"
    fs_probe = f"{s3_settings.warehouse}/_rat_doctor_x/probe.txt"
    check = check_engine_reads_s3(engine, s3_settings, fs_probe, timeout=2)
    assert check.status == FAIL and "named collection" in check.detail
    assert "docker/clickhouse/config.d/ratatouille.xml" in check.fix


def test_bad_engine_dsn_and_embedded_cluster(tmp_path: Path) -> None:
    settings = Settings.for_home(tmp_path, engine="nonsense://x", clickhouse_cluster="lake")
    by = _by_name(run_checks(settings, NO_DAGSTER, timeout=2))
    assert by["engine"].status == FAIL and "RAT_ENGINE" in by["engine"].fix
    ok = _by_name(run_checks(Settings.for_home(tmp_path, clickhouse_cluster="lake"), NO_DAGSTER, timeout=2))
    assert ok["cluster"].status == "warn" and "ignored" in ok["cluster"].detail


def test_cli_doctor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["doctor", "--timeout", "2"], Rat(Lakehouse(Settings.for_home(tmp_path)))) == 0
    assert "Every check passed." in capsys.readouterr().out
    # Settings that cannot be loaded are a failed check too, not a crash.
    monkeypatch.setenv("RAT_CONFIG", str(tmp_path / "missing.toml"))
    assert run(["doctor", "--json"], Rat()) == 1
    checks = json.loads(capsys.readouterr().out)
    assert checks[0]["name"] == "settings" and checks[0]["status"] == FAIL
    assert "missing.toml" in checks[0]["detail"]


def test_cli_doctor_in_a_subprocess(tmp_path: Path) -> None:
    dead = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "RAT_HOME": str(tmp_path),
        "RAT_CATALOG_URI": f"postgresql+psycopg2://rat:hunter2@127.0.0.1:{dead}/iceberg",
    }
    done = subprocess.run(
        [sys.executable, "-m", "ratatouille.cli", "doctor", "--timeout", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "FAIL  catalog" in done.stdout and "fix:" in done.stdout and "hunter2" not in done.stdout
    assert "ok    engine" in done.stdout
