"""Run records: one JSON file per run, next to its executed notebooks.

``<home>/pipeline-runs/<pipeline>/<run id>/run.json`` is written when a run starts (status ``running``)
and again when it ends. The sidebar and ``rat pipelines list`` read them: they need neither Dagster nor
a running webserver, and they also record runs made with ``rat pipelines run --no-dagster``.

While a run goes, its process touches ``heartbeat`` next to the record every :data:`HEARTBEAT_SECONDS`.
A run is still in progress (:func:`in_progress`) when its record says ``running`` and either its heartbeat
is recent or its process is alive on this host; the expiry of kept branches leaves such runs alone. A
record left ``running`` by a killed process stops beating, so its branch expires like a failed run's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ratatouille.config import Settings

from .layout import run_folder, runs_dir

RECORD_FILE = "run.json"
RUNNING, SUCCESS, FAILED = "running", "success", "failed"
HEARTBEAT_FILE = "heartbeat"
#: Seconds between two beats of a running run.
HEARTBEAT_SECONDS = 30.0
#: Seconds without a beat after which a run on another host is taken for dead (many missed beats).
STALE_SECONDS = 900.0


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
        host: The host the run's process runs on ("" in records older than this field).
        pid: That process's id (0 when unknown).
        checks: The data-quality checks the last attempt ran (the last result of each table and name):
            ``name``, ``table``, ``severity``, ``passed``, ``status``, ``count``, ``sample`` (rows)...
        new_rows: Per table the last attempt wrote with ``{ns.t@new}`` reads: source ``ns.t`` -> the rows
            it delivered (those appended since the target's previous position; all of them on a first or
            full read).
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
    host: str = ""
    pid: int = 0
    checks: list[dict[str, Any]] = field(default_factory=list)
    new_rows: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def failed_checks(self) -> list[dict[str, Any]]:
        """The ``error`` checks that failed (they stop the run before it publishes)."""
        return [c for c in self.checks if c.get("status") == "fail"]

    def check_lines(self, sample_rows: int = 3) -> list[str]:
        """One line per check (``✗ unique(id) · silver.sales · 1 violating row · error``), then samples."""
        lines = []
        for c in self.checks:
            count = int(c.get("count") or 0)
            mark = "✓" if c.get("passed") else "✗"
            rows = f"{count:,} violating row{'' if count == 1 else 's'}"
            lines.append(f"{mark} {c.get('name')} · {c.get('table')} · {rows} · {c.get('severity')}")
            if not c.get("passed"):
                sample = c.get("sample") or []
                lines.extend(f"     {json.dumps(row, default=str)}" for row in sample[:sample_rows])
                if count > min(len(sample), sample_rows):
                    lines.append(f"     ... ({count - min(len(sample), sample_rows):,} more)")
        return lines

    def new_row_lines(self) -> list[str]:
        """One line per table written with ``@new`` reads (``silver.d: 2 new source rows (bronze.s: 2)``)."""
        lines = []
        for table, sources in sorted(self.new_rows.items()):
            total = sum(sources.values())
            each = ", ".join(f"{source}: {rows:,}" for source, rows in sorted(sources.items()))
            lines.append(f"{table}: {total:,} new source row{'' if total == 1 else 's'} ({each})")
        return lines

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


def load_run(settings: Settings, pipeline: str, run_id: str) -> RunRecord | None:
    """The record of one run (None when there is none or it is unreadable)."""
    return load(run_folder(settings, pipeline, run_id) / RECORD_FILE)


def _all_runs(settings: Settings, pipeline: str) -> list[RunRecord]:
    folder = runs_dir(settings) / pipeline
    if not folder.is_dir():
        return []
    return [r for p in folder.glob(f"*/{RECORD_FILE}") if (r := load(p)) is not None]


def runs(settings: Settings, pipeline: str, limit: int = 20) -> list[RunRecord]:
    """The newest runs of a pipeline, newest first."""
    found = _all_runs(settings, pipeline)
    found.sort(key=lambda r: r.started, reverse=True)
    return found[:limit]


def last_run(settings: Settings, pipeline: str) -> RunRecord | None:
    """The newest run of a pipeline, or None."""
    newest = runs(settings, pipeline, limit=1)
    return newest[0] if newest else None


def this_host() -> str:
    """The name recorded as a run's host."""
    return socket.gethostname()


def heartbeat_path(settings: Settings, pipeline: str, run_id: str) -> Path:
    """The file a running run touches to show it is alive."""
    return run_folder(settings, pipeline, run_id) / HEARTBEAT_FILE


class Heartbeat:
    """Touches a run's heartbeat file now, then every :data:`HEARTBEAT_SECONDS` until the block ends."""

    def __init__(self, settings: Settings, pipeline: str, run_id: str) -> None:
        self._path = heartbeat_path(settings, pipeline, run_id)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat {run_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._path.touch()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            with contextlib.suppress(OSError):  # a briefly unreachable disk: the next beat tries again
                self._path.touch()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to another user
        return True
    return True


def _last_beat(settings: Settings, record: RunRecord) -> float:
    """When the run last showed it was alive (its start when it never beat)."""
    try:
        return heartbeat_path(settings, record.pipeline, record.run_id).stat().st_mtime
    except OSError:
        try:
            return dt.datetime.fromisoformat(record.started).timestamp()
        except ValueError:
            return 0.0


def in_progress(settings: Settings, record: RunRecord | None) -> bool:
    """True when a run is still going: recorded ``running``, and beating or alive on this host."""
    if record is None or record.status != RUNNING:
        return False
    silent = time.time() - _last_beat(settings, record)
    if record.pid > 0 and record.host == this_host():
        # Its process is alive, or it died (a container sharing this host name beats every 30 s)
        return _pid_alive(record.pid) or silent < 2 * HEARTBEAT_SECONDS
    return silent < STALE_SECONDS


def active_run_ids(settings: Settings, pipeline: str) -> set[str]:
    """The ids of a pipeline's runs still in progress."""
    return {r.run_id for r in _all_runs(settings, pipeline) if in_progress(settings, r)}
