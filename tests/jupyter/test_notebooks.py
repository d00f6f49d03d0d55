"""Every notebook in ``notebooks/`` runs clean in a real kernel, on a fresh lakehouse; they are kept
without outputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.jupyter.conftest import NOTEBOOKS
from tests.jupyter.test_kernel import execute, text_of

pytestmark = pytest.mark.timeout(240)

ALL = sorted(NOTEBOOKS.glob("*.ipynb"))


def test_there_is_a_tutorial() -> None:
    assert NOTEBOOKS / "tutorial.ipynb" in ALL


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_notebooks_are_stored_without_outputs(path: Path) -> None:
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, cell["source"]


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_notebook_runs_clean(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat

    nb = execute(nbformat.read(path, as_version=4), NOTEBOOKS, monkeypatch, tmp_path)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        text = text_of(cell)
        if "raises-exception" in cell.metadata.get("tags", []):
            # The failure the notebook shows on purpose is one line.
            assert text.startswith("UsageError: ") and text.count("\n") == 1, text
        else:
            assert "Error" not in text and "Traceback" not in text, (cell.source, text)
        if "chart=" in cell.source.split("\n", 1)[0]:
            kinds = {kind for output in cell.outputs for kind in output.get("data", {})}
            assert "application/vnd.vegalite.v5+json" in kinds, (cell.source, kinds)
    assert (tmp_path / "kernel-home").is_dir()
