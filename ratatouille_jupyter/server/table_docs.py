"""What the sidebar shows of a table's documentation and of its last data-quality checks.

Thin over :mod:`ratatouille.documenting.tabledoc` and :mod:`ratatouille.checks.store`. Two small caches
keep the table listing cheap:

* :class:`DescriptionIndex`: a table's description, read from its metadata file once per metadata
  location (a commit moves the location, so a stale description is never served). The file is parsed as
  plain JSON, only for its ``properties``: no snapshot or manifest is read.
* :class:`CheckIndex`: a table's check status, read from ``<home>/checks/<ns>.<t>.json`` once per file
  version (modification time and size).
"""

from __future__ import annotations

import gzip
import json
import os
import threading
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ratatouille.checks.store import checks_folder, last_results
from ratatouille.documenting.tabledoc import DESCRIPTION, table_doc

from .jsonsafe import json_value

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

    from ratatouille.config import Settings

#: Sample rows of a failed check the detail carries (the store keeps at most 10).
MAX_SAMPLE_ROWS = 10
#: Longest SQL text of a check the detail carries.
MAX_SQL_CHARS = 4000
_STATUS_RANK = {"pass": 0, "warn": 1, "fail": 2}


# -- documentation -----------------------------------------------------------------------------------


def doc_fields(table: Table, identifier: str, ref: str | None = None) -> dict[str, Any]:
    """The table's description, owner, tags, PII columns and column docs (``a.b`` for nested fields)."""
    doc = table_doc(table, identifier, ref)
    return {
        "description": doc.description,
        "owner": doc.owner,
        "tags": list(doc.tags),
        "pii": list(doc.pii),
        "columns": [{"name": c.name, "type": c.type, "doc": c.doc, "pii": c.pii} for c in doc.columns],
    }


def read_properties(catalog: Catalog, location: str) -> dict[str, str]:
    """The ``properties`` of a metadata file, parsed as plain JSON (gzip-compressed files too)."""
    from pyiceberg.io import load_file_io

    io = load_file_io(properties=catalog.properties, location=location)
    with io.new_input(location).open() as f:
        raw = f.read()
    if location.endswith(".gz.metadata.json") or raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    props = json.loads(raw).get("properties") or {}
    return {str(k): str(v) for k, v in props.items()} if isinstance(props, dict) else {}


class DescriptionIndex:
    """Table descriptions, kept per metadata location.

    Args:
        capacity: Most locations kept (a description is small: thousands fit easily).
    """

    def __init__(self, capacity: int = 20_000) -> None:
        self._items: dict[str, str | None] = {}
        self._capacity = capacity
        self._lock = threading.Lock()

    def description(self, catalog: Catalog, location: str) -> str | None:
        """The description recorded in the metadata file at ``location`` (None: none, or unreadable)."""
        if not location:
            return None
        with self._lock:
            if location in self._items:
                return self._items[location]
        try:
            found = read_properties(catalog, location).get(DESCRIPTION) or None
        except (OSError, ValueError) as e:
            warnings.warn(f"cannot read the table metadata {location}: {e}", stacklevel=2)
            return None
        with self._lock:
            if len(self._items) >= self._capacity:
                self._items.clear()
            self._items[location] = found
        return found


# -- checks ------------------------------------------------------------------------------------------


def result_status(result: dict[str, Any]) -> str:
    """``pass``, ``fail`` (an error check failed) or ``warn`` (a warn check failed) of a stored result."""
    if result.get("passed"):
        return "pass"
    return "fail" if result.get("severity") == "error" else "warn"


def summary_status(results: Iterable[dict[str, Any]]) -> str | None:
    """The worst status of a table's results: ``fail``, ``warn``, ``pass``, or None without results."""
    worst: str | None = None
    for result in results:
        status = result_status(result)
        if worst is None or _STATUS_RANK[status] > _STATUS_RANK[worst]:
            worst = status
    return worst


def check_item(result: dict[str, Any]) -> dict[str, Any]:
    """One stored result as the detail answers it (bounded, JSON-safe)."""
    sample = result.get("sample")
    rows = sample[:MAX_SAMPLE_ROWS] if isinstance(sample, list) else []
    sql = str(result.get("sql") or "")
    count = result.get("count")
    snapshot_id = result.get("snapshot_id")
    return {
        "name": str(result.get("name", "")),
        "severity": str(result.get("severity", "")),
        "passed": bool(result.get("passed")),
        "status": result_status(result),
        "count": count if isinstance(count, int) else None,
        "checked_at": result.get("checked_at"),
        "branch": result.get("branch"),
        "snapshot_id": None if snapshot_id is None else str(snapshot_id),
        "sql": sql if len(sql) <= MAX_SQL_CHARS else sql[: MAX_SQL_CHARS - 1] + "\u2026",
        "elapsed_s": result.get("elapsed_s") if isinstance(result.get("elapsed_s"), int | float) else None,
        "sample": [json_value(r) for r in rows],
    }


def check_fields(settings: Settings, identifier: str) -> dict[str, Any]:
    """The last result of each check of a table (failures first, then by name) and their status."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an unreadable file is no result, here as in the listing
        results = last_results(settings, identifier)
    items = [check_item(r) for r in results]
    items.sort(key=lambda c: (-_STATUS_RANK[c["status"]], c["name"]))
    return {"check_status": summary_status(results), "checks": items}


class CheckIndex:
    """The check status of each table, re-read only when its results file changes."""

    def __init__(self) -> None:
        self._items: dict[Path, tuple[tuple[int, int], str | None]] = {}
        self._lock = threading.Lock()

    def status(self, settings: Settings, identifier: str) -> str | None:
        """``fail``, ``warn``, ``pass``, or None when the table has no stored result."""
        path = checks_folder(settings) / f"{identifier}.json"
        try:
            st = path.stat()
        except OSError:
            return None
        version = (st.st_mtime_ns, st.st_size)
        with self._lock:
            cached = self._items.get(path)
            if cached is not None and cached[0] == version:
                return cached[1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            status = summary_status(last_results(settings, identifier))
        with self._lock:
            self._items[path] = (version, status)
        return status


def checks_marker(settings: Settings) -> str:
    """A text that changes whenever a check result is stored (the names, times and sizes of the files)."""
    folder = checks_folder(settings)
    try:
        entries = sorted(
            (e.name, e.stat().st_mtime_ns, e.stat().st_size)
            for e in os.scandir(folder)
            if e.name.endswith(".json") and not e.name.startswith(".")
        )
    except OSError:
        return ""
    return ";".join(f"{n}:{m}:{s}" for n, m, s in entries)
