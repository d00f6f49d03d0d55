"""Maintenance routes: compact a table's small files (XSRF-checked, like every POST)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import RatHandler, RatHTTPError


class CompactHandler(RatHandler):
    """``POST /ratatouille/tables/{namespace}/{table}/compact`` with ``{"branch"?}`` (main by default)."""

    @web.authenticated
    @authorized
    async def post(self, namespace: str, table: str) -> None:
        """Bin-pack the branch head's small data files; answer the compaction report."""
        body = self.json_body()
        unknown = sorted(set(body) - {"branch"})
        if unknown:
            raise RatHTTPError(400, f"unknown member(s) {', '.join(unknown)}: only branch", "InvalidInput")
        branch = self.body_str(body, "branch", "main") or "main"
        user = getattr(self.current_user, "username", None)
        await self.answer(self.explorer.compact, namespace, table, branch=branch, user=user)
