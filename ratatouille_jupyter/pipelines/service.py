"""What the sidebar asks about pipelines, as plain Python: the listing, and "run now".

No Dagster import: the webserver is reached over its GraphQL API (``urllib``), and run status comes
from the run records. A run launched here never runs in the Jupyter server's process:

* when a Dagster webserver is known — ``RAT_DAGSTER_URL`` (a webserver run elsewhere, as in the container
  stack), else the ``rat pipelines serve`` of this lakehouse (``<dagster home>/serve.json``) — the code
  location is reloaded (to see notebooks tagged since) and the run is queued through GraphQL: the
  daemon runs it. Links for the browser use ``RAT_DAGSTER_PUBLIC_URL`` when the browser reaches
  Dagster by another address than the Jupyter server does;
* otherwise a detached ``rat pipelines run`` process (its own session) runs it through Dagster in-process.

Either way the run outlives the JupyterLab session that launched it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ratatouille.config import Settings
from ratatouille.errors import ConfigError, Conflict, InvalidInput

from . import records
from .layout import dagster_home, op_name, runs_dir, settings_env
from .params import resolve
from .serve import LOCATION_NAME, prepare_dagster_home, read_state
from .spec import discover, json_ready

#: The repository name Dagster gives a ``Definitions`` object.
REPOSITORY_NAME = "__repository__"

_LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
    ... on PipelineNotFoundError { message }
  }
}
"""
_RELOAD = """
mutation Reload($name: String!) {
  reloadRepositoryLocation(repositoryLocationName: $name) { __typename }
}
"""


def graphql(url: str, query: str, variables: dict[str, Any] | None = None, timeout: float = 30) -> Any:
    """POST one GraphQL query to a Dagster webserver; return its ``data``.

    Raises:
        Conflict: The webserver cannot be reached or answered errors.
    """
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"{url}/graphql", body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            answer = json.loads(reply.read())
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise Conflict(f"the Dagster webserver at {url} does not answer: {e}") from e
    if answer.get("errors"):
        raise Conflict(f"Dagster refused the request: {answer['errors'][0].get('message')}")
    return answer.get("data")


def dagster_urls(settings: Settings) -> tuple[str | None, str | None]:
    """(URL the Jupyter server reaches Dagster at, URL for the browser's links); (None, None) if none."""
    configured = os.environ.get("RAT_DAGSTER_URL", "").strip().rstrip("/")
    if not configured:
        state = read_state(settings)
        configured = state.url if state else ""
    if not configured:
        return None, None
    public = os.environ.get("RAT_DAGSTER_PUBLIC_URL", "").strip().rstrip("/")
    return configured, public or configured


def job_url(base: str, key: str) -> str:
    """The Dagster UI page of a pipeline's job."""
    return f"{base}/locations/{REPOSITORY_NAME}@{LOCATION_NAME}/jobs/{key}"


def list_pipelines(settings: Settings, contents_root: str | None = None) -> dict[str, Any]:
    """The pipelines with their schedule, last run and Dagster links; notebooks that cannot be loaded.

    Args:
        settings: The lakehouse.
        contents_root: The Jupyter server's root folder: the answer then tells where the pipelines folder
            is relative to it (``pipelines_dir_relative``, None when outside it).
    """
    found = discover(settings)
    api, base = dagster_urls(settings)
    items = []
    for name in sorted(found.pipelines):
        spec = found.pipelines[name]
        last = records.last_run(settings, name)
        items.append({
            "name": name,
            "path": str(spec.path),
            "schedule": spec.config.schedule,
            "timezone": spec.config.timezone,
            "parameters": json_ready(spec.config.parameters),
            "parameter_defaults": {p.name: p.shown_default for p in spec.parameters},
            "parameter_types": {p.name: p.shown_type for p in spec.parameters},
            "retries": spec.config.retries,
            "timeout": spec.config.timeout,
            "writes": sorted(spec.writes),
            "reads": list(spec.reads),
            "warnings": list(spec.warnings),
            "checks": [{"table": t, "name": n, "severity": sev} for t, n, sev in spec.checks],
            "description": spec.description,
            "last_run": _run_summary(last, base, contents_root),
            "dagster_url": job_url(base, spec.key) if base else None,
        })  # fmt: skip
    return {
        "pipelines_dir": str(found.root),
        "pipelines_dir_relative": _relative(found.root, contents_root),
        "dagster": {"running": api is not None, "url": base, "home": str(dagster_home(settings))},
        "items": items,
        "errors": [{"name": n, "message": m} for n, m in sorted(found.errors.items())],
    }


def _relative(folder: Path, root: str | None) -> str | None:
    if not root:
        return None
    try:
        return folder.resolve().relative_to(Path(root).expanduser().resolve()).as_posix()
    except ValueError:
        return None


def _run_summary(
    record: records.RunRecord | None, base: str | None, contents_root: str | None
) -> dict[str, Any] | None:
    if record is None:
        return None
    return {
        "run_id": record.run_id,
        "status": record.status,
        "started": record.started,
        "ended": record.ended,
        "failed_cell": record.failed_cell,
        "error": record.error,
        "output": record.output,
        "output_relative": _relative(Path(record.output), contents_root) if record.output else None,
        "kept_branch": record.kept_branch,
        "dagster_url": f"{base}/runs/{record.run_id}" if base else None,
    }


def run_now(settings: Settings, name: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """Start a run of pipeline ``name`` outside this process (see the module docstring).

    Returns:
        ``{"pipeline", "run_id" (None when not yet known), "status", "via", "dagster_url"}``.

    Raises:
        NotFound: No such pipeline.
        InvalidInput: An unknown parameter or a bad value.
    """
    found = discover(settings)
    spec = found.get(name)
    given = dict(parameters or {})
    resolve(spec, given, text=True)
    api, base = dagster_urls(settings)
    if api is not None and base is not None:
        graphql(api, _RELOAD, {"name": LOCATION_NAME})
        params = {
            "selector": {"repositoryLocationName": LOCATION_NAME, "repositoryName": REPOSITORY_NAME,
                         "jobName": spec.key},
            "runConfigData": {"ops": {op_name(spec.key): {"config": {"parameters": given}}}},
        }  # fmt: skip
        result = graphql(api, _LAUNCH, {"params": params})["launchRun"]
        if result.get("__typename") != "LaunchRunSuccess":
            errors = result.get("errors") or [result]
            raise InvalidInput(f"Dagster refused the run: {errors[0].get('message', result['__typename'])}")
        run = result["run"]
        return {"pipeline": name, "run_id": run["runId"], "status": run["status"].lower(), "via": "dagster",
                "dagster_url": f"{base}/runs/{run['runId']}"}  # fmt: skip
    args = [sys.executable, "-m", "ratatouille_jupyter.pipelines.cli", "run", name]
    for key, value in given.items():
        args += ["-p", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
    env = settings_env(settings)
    env["DAGSTER_HOME"] = str(prepare_dagster_home(settings))
    folder = runs_dir(settings) / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"cannot write the pipeline runs folder {folder}: {e}") from e
    with open(folder / "launch.log", "ab") as out:
        subprocess.Popen(args, env=env, cwd=settings.home, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                         start_new_session=True)  # fmt: skip
    return {"pipeline": name, "run_id": None, "status": "starting", "via": "process", "dagster_url": None}
