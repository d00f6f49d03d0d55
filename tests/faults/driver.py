"""Runs the fault cases of one setup: ``python -m tests.faults.driver PLAN.json RESULTS.json``.

The lakehouse is the one of the ``RAT_*`` environment. Starting a Python process with pyiceberg costs
seconds, so this process imports everything once and then:

1. forks one child per ``kill`` case (before this process has started chDB, opened the catalog or
   touched S3: a fork copies no engine thread nor connection). The child prepares the case's tables,
   writes their state to a file, arms the fault and runs the write, which kills it;
2. runs the other cases (catalog and storage errors) in this process, one after the other;
3. checks the invariants of every case, tries the path's recovery, and writes the results.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

# Imported before any fork, so that children do not pay for them: everything but chDB (whose import
# starts threads, which a fork would not copy).
import pyarrow as pa  # noqa: F401
import pyarrow.parquet  # noqa: F401
import pyiceberg.catalog.sql
import pyiceberg.io.fsspec
import pyiceberg.io.pyarrow
import pyiceberg.table  # noqa: F401
import sqlalchemy  # noqa: F401

import ratatouille.branches.publishing
import ratatouille.ingest.run
import ratatouille.tables.compaction
import ratatouille.tables.deletes
import ratatouille.tables.expiry
import ratatouille.tables.merging  # noqa: F401
import ratatouille_jupyter.pipelines.runner  # noqa: F401
from ratatouille.catalog import load_table
from ratatouille.config import Settings
from ratatouille.sdk import Rat
from ratatouille.session import Lakehouse
from ratatouille.tables.atomic import supports_atomic

from .injection import Fault, armed
from .invariants import (
    NEW,
    Checks,
    delete_files_match,
    missing_files,
    registry_agrees,
    rows_match,
    state_of,
)
from .paths import PATHS, WritePath


def _fault(spec: dict[str, Any]) -> Fault:
    return Fault(spec["boundary"], spec["kind"], spec["after"], spec["nth"])


def _error(e: BaseException) -> str:
    return f"{type(e).__module__}.{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"


def _child(settings: Settings, case: dict[str, Any], folder: Path) -> None:
    """Prepare, arm the kill, run: the process dies at the fault."""
    key = case["key"]
    rat = Rat(Lakehouse(settings))
    path = PATHS[case["path"]]
    state = path.prepare(rat, case["tag"])
    (folder / f"{key}.state.json").write_text(json.dumps(state))
    fired = folder / f"{key}.fired"
    outcome: dict[str, Any] = {"error": None}
    with armed(_fault(case["fault"]), marker=fired.touch):
        try:
            path.run(rat, state)
        except BaseException as e:
            outcome["error"] = _error(e)
    (folder / f"{key}.outcome.json").write_text(json.dumps(outcome))


def run_kills(settings: Settings, kills: list[dict[str, Any]], folder: Path) -> dict[str, dict[str, Any]]:
    """Phase 1: one forked child per kill case."""
    out: dict[str, dict[str, Any]] = {}
    for case in kills:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the driver's code
            code = 0
            try:
                _child(settings, case, folder)
            except BaseException:
                traceback.print_exc()
                code = 3
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        key = case["key"]
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == 9
        outcome_file = folder / f"{key}.outcome.json"
        error = json.loads(outcome_file.read_text())["error"] if outcome_file.exists() else None
        out[key] = {
            "fired": (folder / f"{key}.fired").exists(),
            "killed": killed,
            "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "error": error,
        }
    return out


def run_errors(rat: Rat, errors: list[dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Phase 2: the error cases, in this process."""
    out: dict[str, dict[str, Any]] = {}
    states: dict[str, Any] = {}
    for case in errors:
        path = PATHS[case["path"]]
        state = path.prepare(rat, case["tag"])
        states[case["key"]] = state
        error = None
        with armed(_fault(case["fault"])) as shot:
            try:
                path.run(rat, state)
            except Exception as e:
                error = _error(e)
        rat.session.use_branch(None)
        out[case["key"]] = {"fired": shot.fired, "killed": False, "exit": None, "error": error}
    return out, states


def check(
    rat: Rat, path: WritePath, fault: Fault, state: dict[str, Any], outcome: dict[str, Any]
) -> dict[str, Any]:
    """The invariants of one case after its fault, then after the path's recovery."""
    checks = Checks()
    states: dict[str, str | None] = {}
    catalog = rat.session.catalog
    for t in state["tables"]:
        table = load_table(catalog, t["id"])
        new_head = t["new_head"] if path.moves_head else t["old_head"]
        now, found = state_of(table, t["branch"], t["old_head"], new_head)
        checks.check(found)
        states[t["id"]] = now
        missing = checks.check(missing_files(table))
        if now is not None and not missing:  # rows cannot be read back when files are missing
            checks.check(rows_match(table, t["branch"], t["columns"], t[now], now))
        if now is not None and "delete_files" in t:
            checks.check(delete_files_match(table, t["branch"], t["delete_files"][now], now))
    # A killed process cannot undo; on the SQL catalogs a publish is one transaction, so even a kill
    # leaves every table old or every table new.
    if path.atomic and (fault.kind != "kill" or supports_atomic(catalog)):
        mixed = len(set(states.values())) > 1
        checks.check([f"not all or nothing after {outcome['error']}: {states}"] if mixed else [])
    succeeded = not outcome["killed"] and outcome["error"] is None
    if path.moves_head and succeeded:
        checks.check(
            [f"the write reported success but left {states}"] if set(states.values()) != {NEW} else []
        )
    if fault.kind == "conflict" and not path.atomic:
        checks.check([f"a lost race was not retried: {outcome['error']}"] if not succeeded else [])
    if path.registry and not checks.violations:  # the registry is compared with rows read back
        for t in state["tables"]:
            checks.check(registry_agrees(rat, t["id"]))
    recovered = None
    if path.recover is not None:
        try:
            path.recover(rat, state)
            recovered = "ok"
        except Exception as e:
            recovered = _error(e)
            checks.check([f"recovery failed: {recovered}"])
        rat.session.use_branch(None)
        for t in state["tables"]:
            table = load_table(catalog, t["id"])
            if not checks.check(missing_files(table)):
                checks.check(rows_match(table, t["branch"], t["columns"], t[NEW], "new (after recovery)"))
            if "delete_files" in t:
                checks.check(
                    delete_files_match(table, t["branch"], t["delete_files"][NEW], "new (after recovery)")
                )
            if path.registry and not checks.violations:
                checks.check(registry_agrees(rat, t["id"]))
    return {"states": states, "recovered": recovered, "checks": checks.run, "violations": checks.violations}


def main(plan_file: str, results_file: str) -> None:
    """Run every case of the plan; write ``{key: result}``."""
    plan = json.loads(Path(plan_file).read_text())
    folder = Path(plan_file).parent / "cases"
    folder.mkdir(exist_ok=True)
    settings = Settings.from_env()
    cases = plan["cases"]
    kills = [c for c in cases if c["fault"]["kind"] == "kill"]
    errors = [c for c in cases if c["fault"]["kind"] != "kill"]
    outcomes = run_kills(settings, kills, folder)
    lh = Lakehouse(settings)
    rat = Rat(lh)
    error_outcomes, states = run_errors(rat, errors)
    outcomes.update(error_outcomes)
    results: dict[str, Any] = {}
    for case in cases:
        key = case["key"]
        result: dict[str, Any] = {**outcomes[key], "path": case["path"], "fault": case["fault"]}
        state_file = folder / f"{key}.state.json"
        state = states.get(key) or (json.loads(state_file.read_text()) if state_file.exists() else None)
        if state is None:
            result.update(states={}, checks=0, violations=["the case did not prepare its tables"])
        else:
            try:
                result.update(check(rat, PATHS[case["path"]], _fault(case["fault"]), state, outcomes[key]))
            except Exception as e:
                result.update(states={}, checks=0, violations=[f"checking failed: {_error(e)}"])
                traceback.print_exc()
        results[key] = result
    lh.close()
    Path(results_file).write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
