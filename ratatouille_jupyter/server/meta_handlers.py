"""``/ratatouille/version`` (the handshake) and ``/ratatouille/changes`` (the refresh poll)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import RatHandler


class VersionHandler(RatHandler):
    """``GET /ratatouille/version``: package and API versions, and the server's limits."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Answer the handshake."""
        await self.answer(self.explorer.version)


class ChangesHandler(RatHandler):
    """``GET /ratatouille/changes``: a marker that changes whenever a table is created or committed to."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Answer the catalog's change marker."""
        await self.answer(self.explorer.changes)
