"""Where pipelines live on disk, and the names derived from a pipeline's name.

* Pipeline notebooks: ``Settings.pipelines_dir`` (``RAT_PIPELINES_DIR``; default ``<home>/pipelines``; a
  relative path is relative to the home).
* Executed notebooks and run records: ``<home>/pipeline-runs/<pipeline>/<run id>/``.
* Dagster's instance (run history, schedules, daemon heartbeats): ``DAGSTER_HOME`` when set, else
  ``<home>/dagster``.

Nothing here imports Dagster, papermill or nbformat.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path

from ratatouille.config import Settings
from ratatouille.errors import InvalidInput

#: Prefix of the branches pipeline runs write on: ``pipelines/<key>/<run id>``.
BRANCH_PREFIX = "pipelines"
#: Folder (under the home) of executed notebooks and run records.
RUNS_FOLDER = "pipeline-runs"
#: Folder (under the home) of Dagster's instance when ``DAGSTER_HOME`` is not set.
DAGSTER_FOLDER = "dagster"

_KEY_INVALID = re.compile(r"[^A-Za-z0-9_]")
_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def pipelines_dir(settings: Settings) -> Path:
    """The folder searched for pipeline notebooks (``..`` in a path relative to the home folded away)."""
    configured = Path(settings.pipelines_dir or "pipelines").expanduser()
    return Path(os.path.normpath(configured if configured.is_absolute() else settings.home / configured))


def runs_dir(settings: Settings) -> Path:
    """The folder of executed notebooks and run records."""
    return settings.home / RUNS_FOLDER


def dagster_home(settings: Settings, environ: Mapping[str, str] | None = None) -> Path:
    """Dagster's instance folder: ``DAGSTER_HOME`` if set, else ``<home>/dagster``."""
    env = os.environ if environ is None else environ
    explicit = env.get("DAGSTER_HOME")
    return Path(explicit).expanduser().resolve() if explicit else settings.home / DAGSTER_FOLDER


def pipeline_key(name: str) -> str:
    """The Dagster-safe form of a pipeline name (job, op and branch names): ``[A-Za-z0-9_]+``."""
    key = _KEY_INVALID.sub("_", name)
    if not key.strip("_"):
        raise InvalidInput(f"pipeline name {name!r} has no letter or digit")
    return key


def op_name(key: str) -> str:
    """The Dagster op that runs a pipeline's notebook (op and job names share one namespace)."""
    return f"{key}_notebook"


def check_run_id(run_id: str) -> str:
    """Check a run id (letters, digits, ``-`` and ``_``): it becomes a folder and a branch name."""
    if not _RUN_ID.match(run_id):
        raise InvalidInput(f"invalid run id {run_id!r}: use letters, digits, '-' and '_'")
    return run_id


def run_branch(key: str, run_id: str, attempt: int = 1) -> str:
    """The branch one attempt of a run writes on."""
    suffix = "" if attempt <= 1 else f"-{attempt}"
    return f"{BRANCH_PREFIX}/{key}/{check_run_id(run_id)}{suffix}"


def run_folder(settings: Settings, name: str, run_id: str) -> Path:
    """The folder of one run's executed notebooks and record."""
    return runs_dir(settings) / name / check_run_id(run_id)


def settings_env(settings: Settings, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (this process's environment) with the lakehouse's settings as ``RAT_*`` variables.

    Inherited ``RAT_*`` variables are replaced, so a child process opens exactly this lakehouse.
    """
    env = {k: v for k, v in (os.environ if base is None else base).items() if not k.startswith("RAT_")}
    for f in fields(settings):
        value = getattr(settings, f.name)
        if f.name not in ("config_file", "home_source") and value not in (None, ""):
            env[f"RAT_{f.name.upper()}"] = str(value)
    if settings.config_file is not None:
        env["RAT_CONFIG"] = str(settings.config_file)
    return env
