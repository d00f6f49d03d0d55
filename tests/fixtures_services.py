"""Pytest plugin providing throwaway PostgreSQL and S3 servers.

Enable it from a conftest with ``pytest_plugins = ["tests.fixtures_services"]``.

Fixtures:

* ``postgres_server`` (session): a running :class:`~tests.services.PostgresServer`.
* ``s3_server`` (session): a running :class:`~tests.services.S3Server`.
* ``pg_catalog_uri`` (function): SQLAlchemy URL of a fresh, empty database (dropped afterwards).
* ``s3_bucket`` (function): name of a fresh, empty bucket on ``s3_server``.

When a service cannot run here (PostgreSQL binaries or moto's server missing) the tests that need it are
skipped, unless the ``CI`` environment variable is set (to anything but ``""``, ``0``, ``false`` or
``no``): then they fail, so a broken CI image cannot silently skip half the suite.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import NoReturn

import pytest

from tests.services import PostgresNotFoundError, PostgresServer, S3Server, ServiceError


def in_ci() -> bool:
    """Return whether the ``CI`` environment variable is set to a truthy value.

    Returns:
        ``True`` when running under CI.
    """
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def _unavailable(message: str) -> NoReturn:
    if in_ci():
        pytest.fail(f"{message}\n(CI is set, so a missing service is an error, not a skip)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL cluster shared by the whole session.

    Yields:
        The running server; use ``create_database`` (or the ``pg_catalog_uri`` fixture) for isolation.
    """
    server = PostgresServer()
    missing: str | None = None
    try:
        server.start()
    except PostgresNotFoundError as exc:
        missing = str(exc)  # reported outside the except block, without a chained traceback
    if missing is not None:
        _unavailable(f"PostgreSQL is not available: {missing}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """An in-memory S3 endpoint (moto) shared by the whole session.

    Yields:
        The running server; use ``create_bucket`` (or the ``s3_bucket`` fixture) for isolation.
    """
    missing: str | None = None
    try:
        import moto.server  # noqa: F401
    except ImportError as exc:
        missing = str(exc)
    if missing is not None:
        _unavailable(f"moto's S3 server is not available (pip install 'moto[server]'): {missing}")
    with S3Server() as server:
        yield server


@pytest.fixture
def pg_catalog_uri(postgres_server: PostgresServer) -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty database on the session's PostgreSQL server.

    The database is dropped after the test (open connections to it are terminated), so long sessions do
    not pile up databases in the (possibly RAM-backed) cluster.

    Yields:
        ``postgresql+psycopg2://postgres@127.0.0.1:PORT/t_<random>``.
    """
    name = f"t_{uuid.uuid4().hex[:16]}"
    yield postgres_server.create_database(name)
    with contextlib.suppress(ServiceError):
        postgres_server.drop_database(name)


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    """A fresh, empty, uniquely named bucket on the session's S3 server.

    Returns:
        The bucket name (``test-<random>``).
    """
    return s3_server.create_bucket(f"test-{uuid.uuid4().hex[:16]}")
