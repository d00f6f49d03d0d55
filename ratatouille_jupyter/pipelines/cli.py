"""``rat pipelines ...``: list, show, run, runs, serve.

``rat pipelines run NAME -p key=value`` exits 0 when the run succeeded, 1 when it failed (the failing
cell is printed), 2 on a usage error (unknown pipeline or parameter). By default the run goes through
Dagster in this process and is recorded in Dagster's instance (it shows in the UI next to scheduled
runs); ``--no-dagster`` runs papermill directly.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from ratatouille.config import Settings

from . import records
from .params import parse_assignments, resolve
from .serve import DEFAULT_HOST, DEFAULT_PORT
from .spec import Discovery, PipelineSpec, discover


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rat pipelines", description="Notebooks as pipelines (Dagster).")
    sub = parser.add_subparsers(dest="action", required=True)
    ls = sub.add_parser("list", help="the pipelines, their schedules and last runs")
    ls.add_argument("--json", action="store_true", help="print JSON")
    show = sub.add_parser("show", help="one pipeline: parameters, tables written and read, warnings")
    show.add_argument("name")
    run = sub.add_parser("run", help="run a pipeline now (exit status 1 when the run fails)")
    run.add_argument("name")
    run.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                     help="a parameter of the notebook's parameters cell (repeatable)")  # fmt: skip
    run.add_argument("--no-dagster", action="store_true", help="run with papermill only (no Dagster record)")
    runs = sub.add_parser("runs", help="recent runs of a pipeline")
    runs.add_argument("name")
    runs.add_argument("--limit", type=int, default=10)
    serve = sub.add_parser("serve", help="start Dagster's webserver and daemon (Ctrl-C stops both)")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"interface (default {DEFAULT_HOST})")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    serve.add_argument("--no-daemon", action="store_true", help="webserver only (no schedules, no queue)")
    return parser


def main(argv: Sequence[str], settings: Settings | None = None) -> int:
    """Run one ``rat pipelines`` command; return the exit status."""
    args = _parser().parse_args(list(argv))
    settings = settings or Settings.from_env()
    if args.action == "serve":
        from .serve import serve

        return serve(settings, args.host, args.port, daemon=not args.no_daemon)
    found = discover(settings)
    if args.action == "list":
        return _list(settings, found, args.json)
    spec = found.get(args.name)
    if args.action == "show":
        print(json.dumps(spec.as_dict(), indent=2, default=str))
        return 0
    if args.action == "runs":
        for record in records.runs(settings, spec.name, args.limit):
            print(f"{record.started}  {record.status:8}  {record.run_id}  {_summary(record)}")
        return 0
    return _run(settings, found, spec, parse_assignments(args.param), args.no_dagster)


def _summary(record: records.RunRecord) -> str:
    if record.ok:
        return f"published {', '.join(sorted(record.published)) or 'nothing'}"
    if record.status == records.RUNNING:
        return "running"
    cell = f"cell {record.failed_cell}: " if record.failed_cell else ""
    return f"{cell}{record.error}"


def _list(settings: Settings, found: Discovery, as_json: bool) -> int:
    rows: list[dict[str, Any]] = []
    for name, spec in sorted(found.pipelines.items()):
        last = records.last_run(settings, name)
        rows.append({**spec.as_dict(), "last_run": last.as_dict() if last else None})
    if as_json:
        errors = [{"name": n, "error": e} for n, e in sorted(found.errors.items())]
        listing = {"pipelines_dir": str(found.root), "pipelines": rows, "errors": errors}
        print(json.dumps(listing, default=str))
        return 0
    print(f"pipelines in {found.root}")
    if not rows and not found.errors:
        print("  none: mark a notebook there with %rat_pipeline or the metadata ratatouille.pipeline")
    for row in rows:
        last = row["last_run"]
        status = f"{last['status']} {last['started']}" if last else "never run"
        schedule = f"{row['schedule']} {row['timezone']}" if row["schedule"] else "manual"
        print(f"  {row['name']:24} {schedule:28} last: {status}")
        print(f"  {'':24} writes: {', '.join(row['writes']) or '-'}; reads: {', '.join(row['reads']) or '-'}")
    for name, reason in sorted(found.errors.items()):
        print(f"  {name:24} CANNOT LOAD: {reason}")
    if found.unmarked:
        print(f"  ({len(found.unmarked)} notebook(s) without ratatouille.pipeline metadata ignored)")
    return 0


def _run(
    settings: Settings, found: Discovery, spec: PipelineSpec, given: dict[str, str], direct: bool
) -> int:
    resolve(spec, given, text=True)  # refuse unknown names and bad values before starting anything
    if direct:
        from .runner import run_pipeline

        record = run_pipeline(spec, settings, given, text=True, log=lambda t: print(t, file=sys.stderr))
    else:
        record_or_none = _run_with_dagster(settings, found, spec, given)
        if record_or_none is None:
            print(f"rat pipelines: the Dagster run of {spec.name} failed to start", file=sys.stderr)
            return 1
        record = record_or_none
    print(record.message())
    for line in record.new_row_lines():
        print(line)
    if record.checks:
        passed = sum(1 for c in record.checks if c.get("passed"))
        warned = sum(1 for c in record.checks if c.get("status") == "warn")
        failed = len(record.failed_checks)
        print(f"{len(record.checks)} checks: {failed} failed, {warned} warnings, {passed} passed")
        for line in record.check_lines():
            print(line)
    return 0 if record.ok else 1


def _run_with_dagster(
    settings: Settings, found: Discovery, spec: PipelineSpec, given: dict[str, str]
) -> records.RunRecord | None:
    from .layout import run_folder
    from .serve import prepare_dagster_home

    os.environ["DAGSTER_HOME"] = str(prepare_dagster_home(settings))
    from .dagster_defs import execute_in_process

    handler = logging.StreamHandler(sys.stderr)
    logger = logging.getLogger("ratatouille.pipelines")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        _, run_id = execute_in_process(spec, settings, dict(given), discovery=found, log_level="CRITICAL")
    finally:
        logger.removeHandler(handler)
    return records.load(run_folder(settings, spec.name, run_id) / records.RECORD_FILE)


def entry(argv: Sequence[str] | None = None) -> int:
    """Entry point when run as ``python -m ratatouille_jupyter.pipelines.cli``."""
    from ratatouille.cli import guarded

    return guarded(lambda: main(sys.argv[1:] if argv is None else argv), "rat pipelines")


if __name__ == "__main__":
    raise SystemExit(entry())
