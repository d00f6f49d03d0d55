"""Run records: one JSON file per run, next to its executed notebooks.

``<home>/pipeline-runs/<pipeline>/<run id>/run.json`` is written when a run starts (status ``running``)
and again when it ends. The sidebar and ``rat pipelines list`` read them: they need neither Dagster nor
a running webserver, and they also record runs made with ``rat pipelines run --no-dagster``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ratatouille.config import Settings

from .layout import run_folder, runs_dir

RECORD_FILE = "run.json"
RUNNING, SUCCESS, FAILED = "running", "success", "failed"


@dataclass
class RunRecord:
    """What one run did.

    Attributes:
        pipeline: The pipeline's name.
        run_id: The run id (Dagster's when the run went through Dagster).
        status: ``running``, ``success`` or ``failed``.
        started: ISO time the run started (UTC).
        ended: ISO time it ended, or None while it runs.
        parameters: The parameters set for the run.
        attempts: Attempts made (1 + retries used).
        branch: The branch of the last attempt.
        kept_branch: The branch kept for inspection after a failure (None after a success).
        output: The executed notebook of the last attempt.
        published: Tables published to main -> their new snapshot id (as a string); on a failed run, the
            tables a failed publish could not move back (empty when no table was changed).
        failed_cell: 1-based position of the failing cell (None if none).
        error: The failure in one line.
        source: The first line of the failing cell.
        undeclared: Tables the run wrote that are not among the pipeline's assets.
    """

    pipeline: str
    run_id: str
    status: str = RUNNING
    started: str = field(default_factory=lambda: now())
    ended: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    branch: str = ""
    kept_branch: str | None = None
    output: str = ""
    published: dict[str, str] = field(default_factory=dict)
    failed_cell: int | None = None
    error: str = ""
    source: str = ""
    undeclared: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the run succeeded."""
        return self.status == SUCCESS

    def message(self) -> str:
        """A one-line summary for people."""
        if self.ok:
            tables = ", ".join(sorted(self.published)) or "no table"
            return f"pipeline {self.pipeline} succeeded (run {self.run_id}): published {tables}"
        where = f" at cell {self.failed_cell}" if self.failed_cell else ""
        code = f" [{self.source}]" if self.source else ""
        kept = f"; its branch {self.kept_branch} is kept for inspection" if self.kept_branch else ""
        left = ", ".join(sorted(self.published))
        changed = f"tables left published on main (could not be moved back): {left}" if left else ""
        changed = changed or "no table was changed"
        return (
            f"pipeline {self.pipeline} failed{where} (run {self.run_id}, attempt {self.attempts}): "
            f"{self.error}{code}; {changed}{kept}; executed notebook: {self.output}"
        )

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data."""
        return asdict(self)

    def save(self, settings: Settings) -> Path:
        """Write the record (atomically) and return its path."""
        folder = run_folder(settings, self.pipeline, self.run_id)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / RECORD_FILE
        tmp = folder / f".{RECORD_FILE}.tmp"
        tmp.write_text(json.dumps(self.as_dict(), indent=1, default=str), encoding="utf-8")
        tmp.replace(path)
        return path


def now() -> str:
    """The current UTC time, ISO formatted."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def load(path: Path) -> RunRecord | None:
    """A record from its file (None when unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        known = set(RunRecord.__dataclass_fields__)
        return RunRecord(**{k: v for k, v in data.items() if k in known})
    except (OSError, ValueError, TypeError):
        return None


def runs(settings: Settings, pipeline: str, limit: int = 20) -> list[RunRecord]:
    """The newest runs of a pipeline, newest first."""
    folder = runs_dir(settings) / pipeline
    if not folder.is_dir():
        return []
    found = [r for p in folder.glob(f"*/{RECORD_FILE}") if (r := load(p)) is not None]
    found.sort(key=lambda r: r.started, reverse=True)
    return found[:limit]


def last_run(settings: Settings, pipeline: str) -> RunRecord | None:
    """The newest run of a pipeline, or None."""
    newest = runs(settings, pipeline, limit=1)
    return newest[0] if newest else None
