"""``%rat_pipeline``, and how a run's branch and provenance reach a session (``RAT_BRANCH``...)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError

from ratatouille.config import Settings
from ratatouille.errors import InvalidInput
from ratatouille.session import Lakehouse
from ratatouille_jupyter.magics.pipeline import MIME_TYPE, PipelineMagics
from tests.pipelines.notebooks import write_notebook


class _Shell:
    """Calls the magic like ``%rat_pipeline`` does, without the process's IPython singleton."""

    def __init__(self) -> None:
        self.magics = PipelineMagics(shell=None)

    def run_line_magic(self, name: str, line: str) -> Any:
        assert name == "rat_pipeline"
        magic: Any = self.magics.rat_pipeline
        return magic(line)


@pytest.fixture
def shell(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from ratatouille import rat

    monkeypatch.setenv("RAT_HOME", str(settings.home))
    rat.connect(settings)
    yield _Shell()


def test_the_magic_sends_the_settings_to_jupyterlab(
    shell: Any, pipelines: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAT_NOTEBOOK", str(pipelines / "daily.ipynb"))
    line = 'schedule="0 6 * * *" timezone=Europe/Paris retries=2 timeout=90'
    bundle = shell.run_line_magic("rat_pipeline", line)._repr_mimebundle_()
    expected = {"schedule": "0 6 * * *", "timezone": "Europe/Paris", "retries": 2, "timeout": 90}
    assert bundle[MIME_TYPE] == {"pipeline": expected}
    assert "save the notebook" in bundle["text/plain"] and "Pipeline name: daily." in bundle["text/plain"]
    assert shell.run_line_magic("rat_pipeline", "--off")._repr_mimebundle_()[MIME_TYPE] == {"pipeline": None}
    for line, message in [('schedule="0 6 * *"', "5 fields"), ("retries=x", "must be a number"),
                          ("every=day", "unknown option"), ("--now", "unknown flag")]:  # fmt: skip
        with pytest.raises(UsageError, match=message):
            shell.run_line_magic("rat_pipeline", line)


def test_the_magic_writes_the_file_for_other_front_ends(
    shell: Any, pipelines: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_notebook(pipelines / "kpis.ipynb", ['rat.transform("SELECT 1", "gold.kpis")'], pipeline=None)
    monkeypatch.setenv("RAT_NOTEBOOK", str(path))
    assert "is not a pipeline" in shell.run_line_magic("rat_pipeline", "")
    shell.run_line_magic("rat_pipeline", 'schedule="@daily" --file')
    shell.run_line_magic("rat_pipeline", "retries=1 --file")  # merged with what is there
    meta = json.loads(path.read_text())["metadata"]["ratatouille"]["pipeline"]
    assert (meta["schedule"], meta["retries"]) == ("@daily", 1)
    shown = repr(shell.run_line_magic("rat_pipeline", ""))
    assert "pipeline kpis (as saved): @daily (UTC)" in shown and "writes: gold.kpis" in shown
    shell.run_line_magic("rat_pipeline", "--off --file")
    assert "ratatouille" not in json.loads(path.read_text())["metadata"]
    monkeypatch.setenv("RAT_BRANCH", "pipelines/kpis/run-1")
    assert shell.run_line_magic("rat_pipeline", 'schedule="@daily"') is None  # inside a run: nothing


def test_a_session_from_the_environment_starts_on_the_run_branch(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAT_HOME", str(settings.home))
    monkeypatch.setenv("RAT_BRANCH", "pipelines/p/r1")
    monkeypatch.setenv("RAT_CONTEXT", json.dumps({"pipeline": "p", "run_id": "r1"}))
    monkeypatch.setenv("RAT_CONTEXT_CELL", "3")
    lh = Lakehouse()
    assert lh.branch == "pipelines/p/r1"
    assert lh.context == {"pipeline": "p", "run_id": "r1", "cell": "3"}
    explicit = Lakehouse(settings)  # explicit settings: the environment's branch does not apply
    assert explicit.branch == "main" and explicit.context == {}
    monkeypatch.setenv("RAT_CONTEXT", "[1]")
    with pytest.raises(InvalidInput, match="RAT_CONTEXT must be a JSON object"):
        Lakehouse()
