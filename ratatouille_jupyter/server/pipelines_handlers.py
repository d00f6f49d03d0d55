"""Pipelines routes of the sidebar: the listing (schedule, last run, Dagster links) and "run now".

The work is in :mod:`ratatouille_jupyter.pipelines.service`, imported on the first request (never when
the server starts). A run is never executed in the Jupyter server: it is queued on the Dagster daemon of
``rat pipelines serve``, or started as a detached process, so it outlives the JupyterLab session.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import RatHandler, RatHTTPError
from .service import ReadOnly


class PipelinesHandler(RatHandler):
    """``GET /ratatouille/pipelines``: every pipeline with its schedule and last run."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """List the pipelines."""
        from ratatouille_jupyter.pipelines.service import list_pipelines

        root = self.settings.get("server_root_dir")
        await self.answer(list_pipelines, self.explorer.settings, str(root) if root else None)


class PipelineRunsHandler(RatHandler):
    """``GET`` (recent runs) and ``POST`` (run now, ``{"parameters"?: {...}}``) on one pipeline."""

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        """The pipeline's recent runs, newest first."""
        limit = self.int_arg("limit", 20) or 20
        await self.answer(_runs, self.explorer.settings, name, max(1, min(limit, 200)))

    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        """Start a run now."""
        from ratatouille_jupyter.pipelines.service import run_now

        if self.explorer.limits.read_only:
            message = "this server is read-only: runs cannot be started from it"
            raise RatHTTPError(ReadOnly.http_status, message, ReadOnly.__name__)
        body = self.json_body()
        parameters = body.get("parameters") or {}
        if not isinstance(parameters, dict):
            raise RatHTTPError(400, "parameters must be a JSON object", "InvalidInput")
        await self.answer(run_now, self.explorer.settings, name, parameters, status=202)


def _runs(settings: Any, name: str, limit: int) -> dict[str, Any]:
    from ratatouille_jupyter.pipelines import records
    from ratatouille_jupyter.pipelines.spec import discover

    spec = discover(settings).get(name)
    return {"pipeline": spec.name, "items": [r.as_dict() for r in records.runs(settings, spec.name, limit)]}
