"""Fixtures for the pipelines tests: a fresh lakehouse with a pipelines folder, Dagster's home in it.

pytest-jupyter's fixtures (and its async test support) are imported here for ``test_rest.py``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F403

from ratatouille.config import Settings

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "notebooks" / "pipelines"
DATA = REPO / "notebooks" / "data"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """An embedded lakehouse in ``tmp_path/home``; pipelines in ``tmp_path/home/pipelines``."""
    for name in ("DAGSTER_HOME", "RAT_BRANCH", "RAT_CONTEXT", "RAT_NOTEBOOK", "RAT_DAGSTER_URL",
                 "RAT_DAGSTER_PUBLIC_URL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    yield Settings.for_home(tmp_path / "home")


@pytest.fixture
def pipelines(settings: Settings) -> Path:
    """The (empty) pipelines folder."""
    folder = Path(settings.pipelines_dir)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def examples(settings: Settings) -> Path:
    """The example pipelines of ``notebooks/pipelines`` with their data, in the lakehouse's folder."""
    folder = Path(settings.pipelines_dir)
    shutil.copytree(EXAMPLES, folder)
    shutil.copytree(DATA, folder.parent / "data")
    return folder
