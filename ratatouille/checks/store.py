"""The last result of each check, per table, in the lakehouse home: ``<home>/checks/<ns>.<table>.json``.

Each file maps a check's name to its latest result (see :meth:`~.model.CheckResult.to_dict`), written
whole to a temporary file that then replaces the old one, so a reader never sees half a file; writers
of several processes take turns on a lock file, so that none loses another's result. Storing is
best effort: a failure to write is a warning and never fails the checks that ran.

A process whose environment sets :data:`RUN_LOG_ENV` (the kernel of a pipeline run) also appends every
result, as one JSON line, to the file it names (:func:`log_run_results`): the run reads them back with
:func:`read_run_log` after the notebook ran, whatever happened to the per-table files meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..sqltext import TableRef

if TYPE_CHECKING:
    from ..config import Settings
    from .model import CheckResult

FOLDER = "checks"
#: The environment variable naming the file a pipeline run collects its checks in (JSON lines).
RUN_LOG_ENV = "RAT_CHECKS_LOG"
_lock = threading.Lock()


def checks_folder(settings: Settings) -> Path:
    """Where the results are kept."""
    return Path(settings.home) / FOLDER


def _file(settings: Settings, table: str) -> Path:
    return checks_folder(settings) / f"{TableRef.parse(table).identifier}.json"


def save_results(settings: Settings, results: Iterable[CheckResult]) -> None:
    """Keep each result as the latest of its (table, name); warn (never raise) when it cannot be written."""
    by_table: dict[str, list[CheckResult]] = {}
    for result in results:
        by_table.setdefault(result.table, []).append(result)
    for table, found in by_table.items():
        try:
            path = _file(settings, table)
            with _lock, _process_lock(path):
                stored = _read(path) if path.exists() else {}
                stored.update({r.name: r.to_dict() for r in found})
                _write_atomically(path, {"table": table, "checks": stored})
        except (OSError, ValueError, TypeError) as e:
            warnings.warn(f"the results of the checks on {table} were not stored: {e}", stacklevel=3)


def log_run_results(results: Iterable[CheckResult], environ: Mapping[str, str] | None = None) -> None:
    """Append each result as a JSON line to the file :data:`RUN_LOG_ENV` names (nothing when unset).

    The lines of one call are written by one ``write`` on a file opened for appending. A file that
    cannot be written is a warning: the run then finds no result for these checks.
    """
    target = (os.environ if environ is None else environ).get(RUN_LOG_ENV, "")
    if not target:
        return
    text = "".join(json.dumps(r.to_dict(), default=str) + "\n" for r in results)
    try:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        with open(target, "a", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        warnings.warn(f"the results of the checks were not reported to the run ({target}): {e}", stacklevel=3)


def read_run_log(path: Path) -> list[dict[str, Any]]:
    """The results a run collected, the last of each (table, name), in the order they first ran.

    A missing file is no result; a line that is not a result (a write cut short) is skipped.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("table"), str) and isinstance(row.get("name"), str):
            latest[(row["table"], row["name"])] = row
    return list(latest.values())


def last_results(settings: Settings, table: str | None = None) -> list[dict[str, Any]]:
    """The stored results (dicts), of one table or of all, sorted by table and check name.

    A file that cannot be read is skipped with a warning.
    """
    if table is not None:
        paths = [_file(settings, table)]
    else:
        folder = checks_folder(settings)
        paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
    rows: list[dict[str, Any]] = []
    for path in paths:
        if not path.exists():
            continue
        try:
            stored = _read(path)
        except (OSError, ValueError) as e:
            warnings.warn(f"cannot read the stored check results {path}: {e}", stacklevel=2)
            continue
        rows.extend(stored[name] for name in sorted(stored))
    return rows


@contextlib.contextmanager
def _process_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``<path>.lock`` (where the platform has ``fcntl``; else nothing)."""
    try:
        import fcntl
    except ImportError:  # Windows: one writer per process is what the thread lock gives
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read(path: Path) -> dict[str, dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    checks = data.get("checks") if isinstance(data, dict) else None
    if not isinstance(checks, dict):
        raise ValueError("not a check results file")
    return checks


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, default=str)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
