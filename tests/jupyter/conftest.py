"""Fixtures for the notebook experience: an in-process IPython shell with the extension loaded on a fresh
lakehouse, and helpers to run notebooks in a real kernel (nbclient).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ratatouille import rat
from ratatouille.session import Lakehouse
from ratatouille_jupyter import load_ipython_extension

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"


@pytest.fixture(scope="session")
def ipython_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An IPython profile folder of the tests' own (no history or config from the user's)."""
    path = tmp_path_factory.mktemp("ipython")
    os.environ["IPYTHONDIR"] = str(path)
    return path


@pytest.fixture(scope="session")
def ishell(ipython_dir: Path) -> Any:
    """The process's InteractiveShell (IPython allows one), with history off."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    return InteractiveShell.instance(config=config, colors="nocolor")


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Lakehouse]:
    """``rat`` on a fresh embedded lakehouse for the test."""
    session = rat.connect(home=tmp_path / "home")
    yield session
    session.close()


@pytest.fixture
def shell(ishell: Any, home: Lakehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The shell with ``%load_ext ratatouille`` done, working in ``tmp_path``; variables made by the test
    and the magics' options are reset afterwards.
    """
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAT_NOTEBOOK", raising=False)
    before = set(ishell.user_ns)
    ishell.run_line_magic("load_ext", "ratatouille")
    ishell.config.pop("RatMagics", None)  # %config of an earlier test
    load_ipython_extension(ishell)  # a fresh RatMagics (default options) for each test
    yield ishell
    for name in set(ishell.user_ns) - before:
        del ishell.user_ns[name]


def run_cell(shell: Any, code: str, cell_id: str | None = None) -> Any:
    """Run ``code`` as a cell (input transformations included); re-raise its error; return its value."""
    result = shell.run_cell(code, store_history=True, cell_id=cell_id)
    result.raise_error()
    return result.result


def kernel_env(tmp_path: Path) -> dict[str, str]:
    """Environment of a test kernel: its own lakehouse and IPython folder."""
    env = dict(os.environ)
    env.update(
        {
            "RAT_HOME": str(tmp_path / "kernel-home"),
            "IPYTHONDIR": str(tmp_path / "ipython"),
            "JUPYTER_PLATFORM_DIRS": "1",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
    )
    env.pop("RAT_NOTEBOOK", None)
    return env
