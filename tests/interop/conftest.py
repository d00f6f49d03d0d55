"""Fixtures of the conformance suite: a fresh embedded lakehouse (SQLite catalog, local warehouse)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pyiceberg.catalog import Catalog

from ratatouille import Rat
from ratatouille.config import Settings
from ratatouille.session import Lakehouse


@pytest.fixture
def rat(tmp_path: Path) -> Iterator[Rat]:
    """``rat`` on a fresh embedded lakehouse."""
    lh = Lakehouse(Settings.for_home(tmp_path / "home"))
    yield Rat(lh)
    lh.close()


@pytest.fixture
def catalog(rat: Rat) -> Catalog:
    """The lakehouse's catalog, with the ``bronze`` namespace."""
    cat = rat.session.catalog
    if ("bronze",) not in cat.list_namespaces():
        cat.create_namespace("bronze")
    return cat
