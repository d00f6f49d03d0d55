"""The lakehouse as completion sees it: table names and single tables' schemas, cached.

Nothing here starts the engine. Table names come from the catalog, cached for a few seconds and dropped
after each cell run; schemas are loaded for the referenced tables only, one at a time, and kept while
the table's metadata location is unchanged (one indexed catalog query per referenced table; other
catalogs: for a few seconds).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ratatouille.documenting import TableDoc

_CACHE_S = 5.0
_RECHECK_S = 1.0  # a schema is trusted this long without asking the catalog, unless a cell ran since
_SCHEMAS_KEPT = 256


class TableNames:
    """``namespace.table`` names of the lakehouse (and the session's ``temp.*``), briefly cached."""

    def __init__(self, rat: Any) -> None:
        self._rat = rat
        self._names: list[str] = []
        self._known: frozenset[str] = frozenset()
        self._at = -_CACHE_S - 1.0

    def get(self) -> list[str]:
        """All names, sorted."""
        now = time.monotonic()
        if now - self._at > _CACHE_S:
            try:
                names = self._list()
                names += [f"temp.{t}" for t in self._rat.temp_list()]
            except Exception:  # a broken catalog must not break typing: complete nothing
                names = []
            self._names, self._known, self._at = sorted(names), frozenset(names), now
        return self._names

    def known(self, name: str) -> bool:
        """True when ``name`` is a table of the (cached) listing."""
        self.get()
        return name in self._known

    def invalidate(self, *_: Any) -> None:
        """Forget the listing (after a cell ran: it may have created or dropped tables)."""
        self._at = -_CACHE_S - 1.0

    def _list(self) -> list[str]:
        session = self._rat.session
        if session.branch == "main":
            from ..server.catalog_index import all_tables, is_sql_catalog

            if is_sql_catalog(session.catalog):  # one query for the whole catalog
                return [f"{ns}.{t}" for ns, t in all_tables(session.catalog)]
        return [f"{ns}.{t}" for ns, tables in self._rat.ice_all().items() for t in tables]


@dataclass(frozen=True)
class TableInfo:
    """What completion and inspection show of a table: its documentation and last snapshot's operation."""

    doc: TableDoc
    operation: str | None


@dataclass
class _Entry:
    stored: tuple[str, str] | None  # the catalog row the table was loaded from (SQL catalogs)
    location: str | None
    checked: float
    info: TableInfo | None
    generation: int = 0


class TableSchemas:
    """Schemas of single tables, loaded on demand and kept while their metadata location is unchanged."""

    def __init__(self, rat: Any) -> None:
        self._rat = rat
        self._items: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._generation = 0

    def info(self, identifier: str) -> TableInfo | None:
        """The table's documentation (columns, types, freshness), or None when it cannot be read."""
        try:
            session = self._rat.session
            catalog, branch = session.catalog, session.branch
        except Exception:
            return None
        key = (branch, identifier)
        entry = self._items.get(key)
        now = time.monotonic()
        if entry is not None and self._current(catalog, entry, now, self._generation):
            self._items.move_to_end(key)
            return entry.info
        entry = self._load(catalog, identifier, branch, now)
        entry.generation = self._generation
        self._items[key] = entry
        self._items.move_to_end(key)
        while len(self._items) > _SCHEMAS_KEPT:
            self._items.popitem(last=False)
        return entry.info

    def clear(self) -> None:
        """Forget every schema."""
        self._items.clear()

    def invalidate(self, *_: Any) -> None:
        """Ask the catalog again on the next use of each schema (after a cell ran: it may have written)."""
        self._generation += 1

    @staticmethod
    def _current(catalog: Any, entry: _Entry, now: float, generation: int) -> bool:
        """True when the entry is still the table's (asking a SQL catalog for its metadata location)."""
        if entry.stored is None or entry.info is None:  # not a SQL catalog, or a failed load: a short TTL
            return entry.generation == generation and now - entry.checked <= _CACHE_S
        if entry.generation == generation and now - entry.checked <= _RECHECK_S:
            return True
        try:
            from ..server.catalog_index import _sql_rows

            rows = _sql_rows(catalog, *entry.stored)
        except Exception:
            return False
        if not rows or rows[0][2] != entry.location:
            return False
        entry.checked, entry.generation = now, generation
        return True

    @staticmethod
    def _load(catalog: Any, identifier: str, branch: str, now: float) -> _Entry:
        from ratatouille.catalog import load_table
        from ratatouille.documenting.tabledoc import table_doc

        from ..server.catalog_index import is_sql_catalog

        try:
            table = load_table(catalog, identifier, branch)
            doc = table_doc(table, identifier, branch)
        except Exception:
            return _Entry(None, None, now, None)
        operation = None
        if doc.snapshot_id is not None:
            snapshot = table.metadata.snapshot_by_id(doc.snapshot_id)
            if snapshot is not None and snapshot.summary is not None:
                operation = str(snapshot.summary.operation.value)
        stored = None
        if is_sql_catalog(catalog):
            name = tuple(table.name())
            stored = (".".join(name[:-1]), name[-1])
        return _Entry(stored, table.metadata_location, now, TableInfo(doc, operation))


def warm_up() -> None:
    """Import what the first completion needs (pyiceberg's SQL catalog takes most of a second cold).

    Run in a background thread once the ``%load_ext`` cell ended, so that the first Tab answers within
    the front end's patience; it opens nothing (the session is opened by the first request).
    """
    try:
        import pyiceberg.catalog.sql  # noqa: F401

        import ratatouille.catalog
        import ratatouille.documenting.tabledoc  # noqa: F401

        from ..server import catalog_index  # noqa: F401
        from .sqlwords import functions_starting

        functions_starting("")
    except Exception:  # only a head start: the request imports what is missing
        return
