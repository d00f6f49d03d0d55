"""Cheap views of the catalog for the sidebar: every table in one query, a change marker, a table cache.

A SQL catalog (the embedded SQLite one, or Postgres) keeps one row per table with the location of its
current metadata file, and every commit changes that location. One query over those rows lists all tables,
tells whether anything changed since the last look (a hash of the rows), and tells whether a cached,
already parsed table is still current, which spares re-reading a metadata file that holds 10,000
snapshots. Other catalogs (REST) go through pyiceberg's public API: listing per namespace, a marker over
table names only, and no cache.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

from ratatouille.branches.hidden import STAGING_NAMESPACE
from ratatouille.catalog import list_namespaces, list_tables, load_table, split_identifier

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table


def _sql_rows(
    catalog: Catalog, namespace: str | None = None, name: str | None = None
) -> list[tuple[str, ...]]:
    """``(namespace, table, metadata location)`` rows of a SQL catalog, sorted."""
    from pyiceberg.catalog.sql import IcebergTables, SqlCatalog
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    assert isinstance(catalog, SqlCatalog)
    stmt = select(
        IcebergTables.table_namespace, IcebergTables.table_name, IcebergTables.metadata_location
    ).where(IcebergTables.catalog_name == catalog.name)
    if namespace is not None:
        stmt = stmt.where(IcebergTables.table_namespace == namespace)
    else:  # tables created on a dev branch are not main's until published
        stmt = stmt.where(IcebergTables.table_namespace != STAGING_NAMESPACE)
    if name is not None:
        stmt = stmt.where(IcebergTables.table_name == name)
    with Session(catalog.engine) as session:
        rows = session.execute(stmt).all()
    return sorted((str(ns), str(t), str(loc or "")) for ns, t, loc in rows)


def is_sql_catalog(catalog: Catalog) -> bool:
    """True for pyiceberg's ``SqlCatalog`` (SQLite, Postgres), whose rows this module reads directly."""
    from pyiceberg.catalog.sql import SqlCatalog

    return isinstance(catalog, SqlCatalog)


def all_tables(catalog: Catalog) -> list[tuple[str, str]]:
    """Every ``(namespace, table)`` of the catalog, sorted."""
    if is_sql_catalog(catalog):
        return [(ns, t) for ns, t, _ in _sql_rows(catalog)]
    return [(ns, t) for ns in list_namespaces(catalog) for t in list_tables(catalog, ns)]


def table_locations(catalog: Catalog) -> list[tuple[str, str, str]]:
    """Every ``(namespace, table, metadata location)``, sorted; the location is ``""`` when unknown.

    Only a SQL catalog tells the locations in one query; over other catalogs they are all ``""``.
    """
    if is_sql_catalog(catalog):
        return [(ns, t, loc) for ns, t, loc in _sql_rows(catalog)]
    return [(ns, t, "") for ns, t in all_tables(catalog)]


def change_marker(catalog: Catalog) -> tuple[str, int]:
    """A hash that changes whenever a table is created, dropped or committed to; and the table count.

    Over a non-SQL catalog only creations and drops change it.
    """
    digest = hashlib.sha256()
    if is_sql_catalog(catalog):
        rows: list[tuple[str, ...]] = _sql_rows(catalog)
    else:
        rows = [(ns, t) for ns, t in all_tables(catalog)]
    for row in rows:
        digest.update("\x1f".join(row).encode())
        digest.update(b"\x1e")
    return digest.hexdigest()[:32], len(rows)


class TableCache:
    """Parsed tables, reused while their metadata location is unchanged (SQL catalogs only).

    Args:
        capacity: Most tables kept.
    """

    def __init__(self, capacity: int = 64) -> None:
        self._items: OrderedDict[str, tuple[str, Table]] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def load(self, catalog: Catalog, identifier: str) -> Table:
        """The current table ``namespace.name``.

        Raises:
            InvalidInput: A bad name.
            NotFound: No such table.
        """
        namespace, name = split_identifier(identifier)
        if not is_sql_catalog(catalog):
            return load_table(catalog, identifier)
        rows = _sql_rows(catalog, namespace, name)
        location = rows[0][2] if rows else None
        with self._lock:
            cached = self._items.get(identifier)
            if cached is not None and location is not None and cached[0] == location:
                self._items.move_to_end(identifier)
                return cached[1]
        table = load_table(catalog, identifier)  # raises NotFound with near matches
        with self._lock:
            self._items[identifier] = (table.metadata_location, table)
            self._items.move_to_end(identifier)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return table
