"""Faults at the step boundaries of a write, injected by wrapping the real functions at those boundaries.

A boundary is a function every write path calls at one step; :func:`armed` replaces it, for the duration
of a block, by a wrapper that injects one fault at its ``nth`` call (once: a retry then goes through):

* ``files_written``: ``Transaction.commit_transaction`` is entered: the data files and manifests are
  written, the catalog was not asked anything yet;
* ``commit_started``: the catalog wrote the new metadata file and has not moved its pointer yet;
* ``commit_returned``: the catalog's ``commit_table`` returned (the commit landed);
* ``registry_updated``: the ingestion registry is about to record the committed claims;
* ``publish_table``: the ``nth`` table of a publish (the call that moves its main, or on the SQL
  catalogs the update of its pointer inside the publish's one transaction);
* ``files_deleted``: the first file deletion (expiry deleting what no snapshot uses).

Fault kinds: ``kill`` (SIGKILL of the process: only in a forked child), ``conflict``
(``CommitFailedException``: another writer won), ``unknown`` (``CommitStateUnknownException``), and
``conn_lost`` (the catalog database's connection dropped: SQLAlchemy's ``OperationalError``; a storage
``OSError`` for file steps). ``before`` or ``after`` says whether the real call runs first.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

BOUNDARIES = (
    "files_written",
    "commit_started",
    "commit_returned",
    "registry_updated",
    "publish_table",
    "files_deleted",
)
KINDS = ("kill", "conflict", "unknown", "conn_lost")


@dataclass(frozen=True)
class Fault:
    """One fault: where, what, and whether the real call runs first.

    Attributes:
        boundary: One of :data:`BOUNDARIES`.
        kind: One of :data:`KINDS`.
        after: The real call runs, then the fault (for ``commit_returned``-like points).
        nth: The call of the boundary that faults (1 = the first).
    """

    boundary: str
    kind: str
    after: bool = False
    nth: int = 1

    @property
    def label(self) -> str:
        """``kill-after-commit_returned#1``-like id."""
        when = "after" if self.after else "before"
        return f"{self.kind}-{when}-{self.boundary}" + (f"#{self.nth}" if self.nth != 1 else "")


@dataclass
class Shot:
    """Whether the armed fault fired (set before it acts, so a kill still counts in the state file)."""

    fired: bool = False
    calls: int = 0
    marker: str | None = None
    errors: list[str] = field(default_factory=list)


def error_for(fault: Fault) -> BaseException:
    """The exception a ``conflict``, ``unknown`` or ``conn_lost`` fault raises."""
    from pyiceberg.exceptions import CommitFailedException, CommitStateUnknownException

    if fault.kind == "conflict":
        return CommitFailedException("injected: another writer committed first")
    if fault.kind == "unknown":
        return CommitStateUnknownException("injected: the commit's outcome is unknown")
    if fault.kind == "conn_lost":
        if fault.boundary in ("files_written", "files_deleted"):
            return OSError("injected: connection to the storage lost")
        import sqlalchemy.exc

        return sqlalchemy.exc.OperationalError(
            "UPDATE iceberg_tables", {}, ConnectionError("injected: server closed the connection")
        )
    raise ValueError(f"no exception for fault kind {fault.kind!r}")


def _targets(boundary: str) -> list[tuple[Any, str]]:
    """(owner, attribute) pairs to wrap for a boundary."""
    if boundary == "files_written":
        from pyiceberg.table import CreateTableTransaction, Transaction

        return [(Transaction, "commit_transaction"), (CreateTableTransaction, "commit_transaction")]
    if boundary == "commit_started":
        from pyiceberg.catalog.sql import SqlCatalog

        return [(SqlCatalog, "_write_metadata")]
    if boundary == "commit_returned":
        from pyiceberg.catalog.sql import SqlCatalog

        return [(SqlCatalog, "commit_table")]
    if boundary == "registry_updated":
        from ratatouille.ingest.registry import Registry

        return [(Registry, "succeeded")]
    if boundary == "publish_table":
        import ratatouille.branches.publishing
        import ratatouille.tables.atomic

        # Table by table with undo (other catalogs), or each table's pointer inside one transaction.
        return [(ratatouille.branches.publishing, "set_ref"), (ratatouille.tables.atomic, "point")]
    if boundary == "files_deleted":
        from pyiceberg.io.fsspec import FsspecFileIO
        from pyiceberg.io.pyarrow import PyArrowFileIO

        return [(PyArrowFileIO, "delete"), (FsspecFileIO, "delete")]
    raise ValueError(f"unknown boundary {boundary!r}")


@contextlib.contextmanager
def armed(fault: Fault, shot: Shot | None = None, marker: Callable[[], None] | None = None) -> Iterator[Shot]:
    """Inject ``fault`` inside the block; yields the :class:`Shot` telling whether it fired.

    Args:
        fault: What to inject.
        shot: Where to record the firing (a new one when omitted).
        marker: Called just before a kill (the parent learns the fault fired, not some other crash).
    """
    shot = shot or Shot()
    saved: list[tuple[Any, str, Any]] = []

    def fire() -> None:
        shot.fired = True
        if fault.kind == "kill":
            if marker is not None:
                marker()
            os.kill(os.getpid(), signal.SIGKILL)
        raise error_for(fault)

    def wrap(original: Callable[..., Any], static: bool) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            shot.calls += 1
            due = not shot.fired and shot.calls == fault.nth
            if due and not fault.after:
                fire()
            result = original(*args, **kwargs)
            if due and fault.after:
                fire()
            return result

        return staticmethod(wrapper) if static else wrapper  # type: ignore[return-value]

    seen: set[int] = set()
    for target, name in _targets(fault.boundary):
        # A method is wrapped where it is defined (a base class), once however many targets inherit it.
        owner = (
            next((c for c in target.__mro__ if name in c.__dict__), target)
            if isinstance(target, type)
            else target
        )
        raw = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        if id(raw) in seen:
            continue
        seen.add(id(raw))
        static = isinstance(raw, staticmethod)
        original = raw.__func__ if static else raw
        saved.append((owner, name, raw))
        setattr(owner, name, wrap(original, static))
    try:
        yield shot
    finally:
        for owner, name, raw in reversed(saved):
            setattr(owner, name, raw)
