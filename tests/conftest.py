"""Shared fixtures: a lakehouse on each supported setup.

The behaviour tests take ``lakehouse`` (or ``settings``), parametrized over the two setups we support,
as pyiceberg runs one suite against every catalog:

* ``local``: SQLite catalog + local warehouse folder (the embedded default);
* ``pg_s3``: Postgres SQL catalog + S3 warehouse (moto's server on 127.0.0.1).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ratatouille.config import Settings
from ratatouille.session import Lakehouse
from tests.services import S3Server

pytest_plugins = ["tests.fixtures_services"]

SETUPS = ["local", "pg_s3"]


@pytest.fixture(params=SETUPS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings of a fresh, empty lakehouse on each setup."""
    if request.param == "local":
        return Settings.for_home(tmp_path / "home")
    return pg_s3_settings(
        tmp_path / "home",
        request.getfixturevalue("s3_server"),
        request.getfixturevalue("s3_bucket"),
        request.getfixturevalue("pg_catalog_uri"),
    )


def pg_s3_settings(home: Path, s3: S3Server, bucket: str, uri: str) -> Settings:
    """Settings of a lakehouse with its catalog at ``uri`` (Postgres) and its files in ``bucket``."""
    return Settings.for_home(
        home,
        catalog_uri=uri,
        warehouse=f"s3://{bucket}/warehouse",
        landing=f"s3://{bucket}/landing",
        s3_endpoint=s3.endpoint,
        s3_access_key_id=s3.access_key_id,
        s3_secret_access_key=s3.secret_access_key,
        s3_region=s3.region,
    )


@pytest.fixture
def local_settings(tmp_path: Path) -> Settings:
    """Settings of a fresh embedded lakehouse (SQLite + local folder) only."""
    return Settings.for_home(tmp_path / "home")


@pytest.fixture
def lakehouse(settings: Settings) -> Iterator[Lakehouse]:
    """A session on a fresh lakehouse, on each setup."""
    lh = Lakehouse(settings)
    yield lh
    lh.close()
