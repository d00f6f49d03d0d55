"""Read routes: namespaces, tables, and one table's detail, snapshots, refs and preview rows."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import RatHandler


class NamespacesHandler(RatHandler):
    """``GET /ratatouille/namespaces``."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """List the namespaces."""
        await self.answer(self.explorer.namespaces)


class TablesHandler(RatHandler):
    """``GET /ratatouille/tables?namespace=&filter=&offset=&limit=``."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """List one page of tables."""
        await self.answer(
            self.explorer.tables,
            namespace=self.str_arg("namespace") or None,
            filter_text=self.str_arg("filter") or "",
            offset=self.int_arg("offset", 0) or 0,
            limit=self.int_arg("limit"),
        )


class TableHandler(RatHandler):
    """``GET /ratatouille/tables/{namespace}/{table}?ref=&snapshot_id=``."""

    @web.authenticated
    @authorized
    async def get(self, namespace: str, table: str) -> None:
        """Describe a table."""
        await self.answer(
            self.explorer.detail,
            namespace,
            table,
            ref=self.str_arg("ref") or None,
            snapshot_id=self.int_arg("snapshot_id"),
        )


class SnapshotsHandler(RatHandler):
    """``GET /ratatouille/tables/{namespace}/{table}/snapshots?ref=&offset=&limit=``."""

    @web.authenticated
    @authorized
    async def get(self, namespace: str, table: str) -> None:
        """List one page of snapshots, newest first."""
        await self.answer(
            self.explorer.snapshots,
            namespace,
            table,
            ref=self.str_arg("ref") or None,
            offset=self.int_arg("offset", 0) or 0,
            limit=self.int_arg("limit"),
        )


class RefsHandler(RatHandler):
    """``GET /ratatouille/tables/{namespace}/{table}/refs``."""

    @web.authenticated
    @authorized
    async def get(self, namespace: str, table: str) -> None:
        """List branches and tags."""
        await self.answer(self.explorer.refs, namespace, table)


class PreviewHandler(RatHandler):
    """``GET /ratatouille/tables/{namespace}/{table}/preview?ref=&snapshot_id=&limit=``."""

    @web.authenticated
    @authorized
    async def get(self, namespace: str, table: str) -> None:
        """Answer the first rows (read-only, bounded)."""
        await self.answer(
            self.explorer.preview,
            namespace,
            table,
            ref=self.str_arg("ref") or None,
            snapshot_id=self.int_arg("snapshot_id"),
            limit=self.int_arg("limit"),
        )
