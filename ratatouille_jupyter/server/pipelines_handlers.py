"""Pipelines routes of the sidebar: the listing (schedule, last run, Dagster links) and "run now".

The work is in :mod:`ratatouille_jupyter.pipelines.service`, imported on the first request (never when
the server starts). The settings are checked in the worker thread, so unusable settings are answered
through the base handler's error map (503 ``ConfigError``), like every other route.

A run is never executed in the Jupyter server: it is queued on the Dagster daemon of
``rat pipelines serve``, or started as a detached process, so it outlives the JupyterLab session.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import RatHandler, RatHTTPError
from .service import Explorer, ReadOnly

#: Most run records ``GET .../runs`` answers at once (``limit``; 20 by default).
MAX_RUNS = 200


class PipelinesHandler(RatHandler):
    """``GET /ratatouille/pipelines``: every pipeline with its schedule and last run."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """List the pipelines."""
        root = self.settings.get("server_root_dir")
        await self.answer(_listing, self.explorer, str(root) if root else None)


class PipelineRunsHandler(RatHandler):
    """``GET`` (recent runs) and ``POST`` (run now, ``{"parameters"?: {...}}``) on one pipeline."""

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        """The pipeline's recent runs, newest first (``limit`` outside 1..MAX_RUNS is a 400)."""
        limit = self.int_arg("limit", 20)
        if limit is None or not 1 <= limit <= MAX_RUNS:
            raise RatHTTPError(400, f"limit must be between 1 and {MAX_RUNS}, got {limit}", "InvalidInput")
        await self.answer(_runs, self.explorer, name, limit)

    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        """Start a run now."""
        if self.explorer.limits.read_only:
            message = "this server is read-only: runs cannot be started from it"
            raise RatHTTPError(ReadOnly.http_status, message, ReadOnly.__name__)
        body = self.json_body()
        parameters = body.get("parameters") or {}
        if not isinstance(parameters, dict):
            raise RatHTTPError(400, "parameters must be a JSON object", "InvalidInput")
        await self.answer(_run_now, self.explorer, name, parameters, status=202)


def _listing(explorer: Explorer, root: str | None) -> dict[str, Any]:
    from ratatouille_jupyter.pipelines.service import list_pipelines

    return list_pipelines(explorer.lakehouse_settings, root)


def _run_now(explorer: Explorer, name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    from ratatouille_jupyter.pipelines.service import run_now

    return run_now(explorer.lakehouse_settings, name, parameters)


def _runs(explorer: Explorer, name: str, limit: int) -> dict[str, Any]:
    from ratatouille_jupyter.pipelines import records
    from ratatouille_jupyter.pipelines.spec import discover, json_ready

    settings = explorer.lakehouse_settings
    spec = discover(settings).get(name)
    runs = records.runs(settings, spec.name, limit)
    items = [{**r.as_dict(), "parameters": json_ready(r.parameters)} for r in runs]
    return {"pipeline": spec.name, "items": items}
