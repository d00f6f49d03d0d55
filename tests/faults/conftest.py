"""Fixtures of the fault-injection suite: lakehouses that live for a module, and the figures it reports.

The figures (faults injected, write paths, invariants checked, violations) are written at the end of the
session to ``test-artifacts/reliability.json``; docs/reliability.md quotes a run of them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ratatouille.config import Settings
from tests.conftest import pg_s3_settings

from .tally import TALLY

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def module_settings(request: pytest.FixtureRequest, setup: str, home: Path) -> Settings:
    """Settings of a fresh lakehouse on ``setup`` (``local`` or ``pg_s3``) for a whole module."""
    if setup == "local":
        return Settings.for_home(home)
    s3 = request.getfixturevalue("s3_server")
    postgres = request.getfixturevalue("postgres_server")
    bucket = s3.create_bucket(f"faults-{uuid.uuid4().hex[:12]}")
    uri = postgres.create_database(f"faults_{uuid.uuid4().hex[:12]}")
    return pg_s3_settings(home, s3, bucket, uri)


@pytest.fixture(scope="session", autouse=True)
def reliability_figures() -> Iterator[None]:
    """Write the suite's figures when the session ends (only when some fault test ran)."""
    yield
    if TALLY.cases:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "reliability.json").write_text(json.dumps(TALLY.figures(), indent=2) + "\n")
