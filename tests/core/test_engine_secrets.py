"""The embedded engine reads S3 without its secret ever reaching SQL text, chDB's files or error messages."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ratatouille.config import Settings
from ratatouille.engine.client import QueryTracker
from ratatouille.errors import EngineError
from ratatouille.session import Lakehouse
from tests.helpers import arrow, rows


class _Recording:
    """A real client or chDB handle that also keeps every text it is given (the SQL sent)."""

    def __init__(self, inner: Any, texts: list[str]) -> None:
        self._inner = inner
        self._texts = texts

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self._texts.extend(
                a.decode() if isinstance(a, bytes) else a for a in args if isinstance(a, str | bytes)
            )
            return attr(*args, **kwargs)

        return call


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every SQL text the engines created during the test send (clickhouse-connect and chDB handles)."""
    import chdb
    import clickhouse_connect

    texts: list[str] = []
    get_client, connect = clickhouse_connect.get_client, chdb.connect
    monkeypatch.setattr(clickhouse_connect, "get_client", lambda **kw: _Recording(get_client(**kw), texts))
    monkeypatch.setattr(chdb, "connect", lambda *a, **kw: _Recording(connect(*a, **kw), texts))
    yield texts


@pytest.fixture
def secret_settings(tmp_path: Path, s3_server: Any, s3_bucket: str) -> Settings:
    """An S3 lakehouse whose keys are its own (moto takes any): a fresh engine is made for it."""
    return Settings.for_home(
        tmp_path / "home",
        warehouse=f"s3://{s3_bucket}/warehouse",
        landing=f"s3://{s3_bucket}/landing",
        s3_endpoint=s3_server.endpoint,
        s3_access_key_id="AKIA" + uuid.uuid4().hex[:16].upper(),
        s3_secret_access_key="rat-secret-" + uuid.uuid4().hex,
        s3_region=s3_server.region,
    )


def test_the_s3_secret_stays_out_of_sql_files_and_errors(secret_settings: Settings, sent: list[str]) -> None:
    secret = secret_settings.s3_secret_access_key
    lh = Lakehouse(secret_settings)
    lh.write(arrow(id=[1, 2, 3], v=[1.0, 2.0, 3.0]), "bronze.s")
    assert rows(lh, "SELECT sum(id) AS n FROM {bronze.s}") == [{"n": 6}]
    with lh.engine.tracking(QueryTracker()):  # the progress path runs on chDB handles of its own
        assert lh.query_arrow("SELECT count() AS n FROM {bronze.s}").column("n")[0].as_py() == 3
    with pytest.raises(EngineError) as failed:
        lh.query_arrow("SELECT nope FROM {bronze.s}")
    assert secret not in str(failed.value) and secret not in repr(failed.value)
    assert sent and not [t for t in sent if secret in t]
    # chDB keeps what SQL defines (named collections, tables) as files under its data folder.
    folder = Path(str(lh.engine.query_arrow("SELECT path FROM system.disks LIMIT 1").column(0)[0].as_py()))
    leaked = [p for p in folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    assert not leaked
    preview = lh.preview("SELECT * FROM {bronze.s}")
    assert secret not in preview and secret_settings.s3_access_key_id not in preview


def test_the_embedded_engine_serves_s3_tables_as_copies_only(
    secret_settings: Settings, sent: list[str]
) -> None:
    from ratatouille.errors import ConfigError
    from ratatouille.serving import publish

    lh = Lakehouse(secret_settings)
    lh.write(arrow(id=[1, 2]), "bronze.s")
    for mode in ("live", "pinned", "refresh"):  # they would keep the keys in the table's definition
        with pytest.raises(ConfigError, match="snapshot"):
            publish(lh, "bronze.s", mode, name="rat_secret_probe.s", require_server=False)
    try:
        publish(lh, "bronze.s", "snapshot", name="rat_secret_probe.s", require_server=False)
        assert rows(lh, "SELECT count() AS n FROM rat_secret_probe.s") == [{"n": 2}]
    finally:
        lh.engine.command("DROP DATABASE IF EXISTS rat_secret_probe SYNC")
    assert not [t for t in sent if secret_settings.s3_secret_access_key in t]
