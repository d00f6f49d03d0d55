"""Write routes: create, fast-forward and drop a branch (XSRF-checked, like every POST and DELETE)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import RatHandler


class BranchesHandler(RatHandler):
    """``POST .../branches`` with ``{"name", "from"?, "snapshot_id"?}``: create a branch."""

    @web.authenticated
    @authorized
    async def post(self, namespace: str, table: str) -> None:
        """Create a branch."""
        body = self.json_body()
        await self.answer(
            self.explorer.create_branch,
            namespace,
            table,
            self.body_str(body, "name", "") or "",
            source=self.body_str(body, "from", "main") or "main",
            snapshot_id=self.body_int(body, "snapshot_id"),
            status=201,
        )


class BranchHandler(RatHandler):
    """``DELETE /ratatouille/tables/{namespace}/{table}/branches/{branch}``."""

    @web.authenticated
    @authorized
    async def delete(self, namespace: str, table: str, branch: str) -> None:
        """Drop a branch."""
        await self.answer(self.explorer.drop_branch, namespace, table, branch)


class FastForwardHandler(RatHandler):
    """``POST .../branches/{branch}/fast-forward`` with ``{"target"?}``."""

    @web.authenticated
    @authorized
    async def post(self, namespace: str, table: str, branch: str) -> None:
        """Fast-forward ``target`` (main by default) to the branch's head."""
        body = self.json_body()
        target = self.body_str(body, "target", "main") or "main"
        await self.answer(self.explorer.fast_forward, namespace, table, branch, target=target)
