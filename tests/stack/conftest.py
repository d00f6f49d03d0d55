"""Fixtures of the full-stack tests: a lakehouse on Postgres + moto S3, seen through the server code path.

No ClickHouse server can run here. :class:`ServerEngine` renders SQL exactly as the engine does for a
server (``RAT_ENGINE=http://...``): data files through the server's ``rat_s3`` named collection,
``s3Cluster`` when a cluster is configured. It hands that SQL to chDB, where a ``rat_s3`` collection is
created as docker/clickhouse/config.d/ratatouille.xml defines it on the server, over moto's S3.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from ratatouille.config import Settings
from ratatouille.engine import ClickHouseEngine, engine_for
from ratatouille.engine.cache import SnapshotCache
from ratatouille.engine.client import SERVER_CACHE_OFF
from ratatouille.engine.sources import S3_COLLECTION
from ratatouille.session import Lakehouse
from ratatouille.sqltext import quote_literal
from tests.conftest import pg_s3_settings

SERVER_DSN = "http://rat:not-a-real-password@clickhouse:8123"


class ServerEngine:
    """The engine of a ClickHouse server as far as SQL goes; the statements run in chDB."""

    embedded = False
    s3_collection = S3_COLLECTION

    # The server's own rendering, unchanged: only `self` differs.
    file_source = ClickHouseEngine.file_source

    def __init__(self, settings: Settings, chdb: ClickHouseEngine) -> None:
        self._settings = settings
        self.dsn = settings.engine
        self.chdb = chdb
        self.statements: list[str] = []
        # As ClickHouseEngine makes it for a server: the snapshot cache is off there.
        self.cache = SnapshotCache(chdb, 0, off_reason=SERVER_CACHE_OFF)

    def query_arrow(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
        stats: Any = None,
    ) -> pa.Table:
        self.statements.append(sql)
        return self.chdb.query_arrow(sql, parameters=parameters, settings=settings, stats=stats)

    def command(self, sql: str, settings: Mapping[str, Any] | None = None) -> None:
        self.statements.append(sql)
        self.chdb.command(sql, settings=settings)

    def insert_arrow(self, table: str, data: pa.Table) -> None:
        self.chdb.insert_arrow(table, data)

    def describe(self, sql: str, parameters: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
        return self.chdb.describe(sql, parameters)

    def ping(self) -> bool:
        return self.chdb.ping()

    def close(self) -> None:
        """The chDB engine is the process's: left open."""


class ServerLakehouse(Lakehouse):
    """A session whose engine is a :class:`ServerEngine`."""

    def __init__(self, settings: Settings, engine: ServerEngine) -> None:
        super().__init__(settings)
        self._server_engine = engine

    @property
    def engine(self) -> Any:
        return self._server_engine


def create_server_collection(chdb: ClickHouseEngine, settings: Settings) -> None:
    """``rat_s3`` in chDB, with the keys the server's config gives it (url, access key, secret key).

    Created once per process: every test uses the session's one moto server and its keys.
    """
    chdb.command(
        f"CREATE NAMED COLLECTION IF NOT EXISTS {S3_COLLECTION} AS "
        f"url = {quote_literal(settings.s3_endpoint)}, "
        f"access_key_id = {quote_literal(settings.s3_access_key_id)}, "
        f"secret_access_key = {quote_literal(settings.s3_secret_access_key)}"
    )


@pytest.fixture
def s3_settings(tmp_path: Path, s3_server: Any, s3_bucket: str, pg_catalog_uri: str) -> Settings:
    """A fresh lakehouse on Postgres + moto S3, with the embedded engine."""
    return pg_s3_settings(tmp_path / "home", s3_server, s3_bucket, pg_catalog_uri)


def server_lakehouse(settings: Settings, cluster: str = "") -> ServerLakehouse:
    """A session on ``settings`` whose engine is a ClickHouse server (simulated: see the module)."""
    chdb = engine_for(settings)
    create_server_collection(chdb, settings)
    server_settings = settings.with_(engine=SERVER_DSN, clickhouse_cluster=cluster)
    return ServerLakehouse(server_settings, ServerEngine(server_settings, chdb))


@pytest.fixture
def published(tmp_path: Path) -> Iterator[None]:
    """Drops, after the test, the databases it created in the process's chDB (what it published)."""
    chdb = engine_for(Settings.for_home(tmp_path / "cleanup"))
    before = _databases(chdb)
    yield
    for database in _databases(chdb) - before:
        chdb.command(f"DROP DATABASE IF EXISTS `{database}` SYNC")


@pytest.fixture
def server(s3_settings: Settings, published: None) -> Iterator[ServerLakehouse]:
    """A session on Postgres + S3 whose engine is a ClickHouse server (simulated)."""
    lh = server_lakehouse(s3_settings)
    yield lh
    lh.close()


def _databases(chdb: ClickHouseEngine) -> set[str]:
    return {str(r["name"]) for r in chdb.query_arrow("SELECT name FROM system.databases").to_pylist()}
