"""One pipeline run: papermill on the run's own branch, published only when the whole notebook succeeds.

A run (:func:`run_pipeline`):

1. checks its parameters against the ``parameters`` cell (an unknown name is refused before anything runs);
2. executes the notebook in a fresh kernel whose ``rat`` writes on the branch ``pipelines/<key>/<run id>``
   (tables not yet on the branch are read from main and branched on first write), every snapshot
   stamped with ``pipeline``, ``run_id``, ``notebook`` and ``cell``;
3. collects the data-quality checks the notebook ran (``rat.check``, ``%rat_check``: the kernel appends
   each result to a file of the attempt named by ``RAT_CHECKS_LOG``); an ``error`` check that failed
   fails the attempt like a failing cell (main unchanged, the branch kept); ``warn`` checks are only
   recorded;
4. when every cell ran and no error check failed, publishes the branch (main fast-forwards on every
   table it wrote, all or nothing) and drops it; when a cell or an error check failed, or the deadline
   passed, or main moved meanwhile, main is left exactly as it was and the branch is kept for
   inspection;
5. retries a failed attempt ``retries`` times (each attempt on a new branch ``...-<attempt>``);
6. drops this pipeline's kept branches older than ``keep_failed_days``, except those of its runs still in
   progress (:func:`.records.in_progress`: a run beats a heartbeat file while it goes).

The executed notebook of every attempt and a record of the run are kept under
``<home>/pipeline-runs/<pipeline>/<run id>/`` (see :mod:`.records`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ratatouille.branches import drop, publish, tables_on
from ratatouille.branches.hidden import staged_tables
from ratatouille.catalog import drop_table, list_namespaces, list_tables, load_table
from ratatouille.checks.store import RUN_LOG_ENV, read_run_log
from ratatouille.config import Settings
from ratatouille.errors import Incomplete, RatError
from ratatouille.session import Lakehouse

from . import engine
from .layout import BRANCH_PREFIX, check_run_id, pipeline_key, run_branch, run_folder, settings_env
from .params import resolve
from .records import FAILED, SUCCESS, Heartbeat, RunRecord, active_run_ids, now, this_host
from .spec import PipelineSpec

Log = Callable[[str], None]


def new_run_id() -> str:
    """A fresh run id."""
    return str(uuid.uuid4())


def kernel_env(
    settings: Settings,
    branch: str,
    context: Mapping[str, str],
    base: Mapping[str, str] | None = None,
    checks_log: Path | None = None,
) -> dict[str, str]:
    """The environment of a run's kernel.

    The lakehouse's settings as ``RAT_*``, the branch, the context, and the file the kernel reports its
    checks in (``RAT_CHECKS_LOG``).
    """
    env = settings_env(settings, base)
    env["RAT_BRANCH"] = branch
    env["RAT_CONTEXT"] = json.dumps(dict(context))
    env["RAT_NOTEBOOK"] = context.get("notebook", "")
    if checks_log is not None:
        env[RUN_LOG_ENV] = str(checks_log)
    return env


def run_pipeline(
    spec: PipelineSpec,
    settings: Settings,
    parameters: Mapping[str, Any] | None = None,
    *,
    run_id: str | None = None,
    text: bool = False,
    log: Log | None = None,
) -> RunRecord:
    """Run a pipeline transactionally (see the module docstring).

    Args:
        spec: The pipeline.
        settings: The lakehouse.
        parameters: Values for the run (checked against the ``parameters`` cell).
        run_id: The run id (a new one when omitted).
        text: The parameter values are command-line strings, converted to their defaults' types.
        log: Called with one line per step.

    Returns:
        The run's record; a failed notebook is a record with ``status == "failed"``, not an exception.

    Raises:
        InvalidInput: An unknown parameter or a value that does not convert (nothing ran).
    """
    say = log or (lambda _text: None)
    values = resolve(spec, parameters, text=text)
    run_id = check_run_id(run_id or new_run_id())
    record = RunRecord(spec.name, run_id, parameters=values, host=this_host(), pid=os.getpid())
    lh = Lakehouse(settings)
    try:
        with Heartbeat(settings, spec.name, run_id):
            record.save(settings)
            _attempts(spec, settings, lh, record, values, say)
    except BaseException as e:  # interrupted (SIGTERM, Ctrl-C): the record must not stay "running"
        if record.ended is None:
            record.status, record.ended = FAILED, now()
            record.error = record.error or f"interrupted ({type(e).__name__})"
            record.save(settings)
        raise
    finally:
        lh.close()
    return record


def _attempts(
    spec: PipelineSpec, settings: Settings, lh: Lakehouse, record: RunRecord, values: dict[str, Any], say: Log
) -> None:
    """Run the attempts, record the outcome, then drop this pipeline's expired branches."""
    attempts = 1 + spec.config.retries
    for attempt in range(1, attempts + 1):
        record.attempts = attempt
        _attempt(spec, settings, lh, record, values, say)
        if record.ok:
            for earlier in range(1, attempt):
                _drop_quietly(lh, run_branch(spec.key, record.run_id, earlier))
            break
        say(record.message())
        if record.published:  # a publish left tables changed: another attempt would build on them
            break
        if attempt < attempts:
            say(f"retrying in {spec.config.retry_delay:g} s (attempt {attempt + 1} of {attempts})")
            time.sleep(spec.config.retry_delay)
    record.ended = now()
    record.save(settings)
    try:
        expired = expire_branches(lh, spec.name, spec.config.keep_failed_days)
        if expired:
            days = spec.config.keep_failed_days
            say(f"dropped {len(expired)} kept branch(es) older than {days:g} days")
    except Exception as e:  # housekeeping never fails a run (a concurrent commit, a vanished table...)
        say(f"could not expire old run branches: {type(e).__name__}: {e}")


def _attempt(
    spec: PipelineSpec, settings: Settings, lh: Lakehouse, record: RunRecord, values: dict[str, Any], say: Log
) -> None:
    attempt = record.attempts
    branch = run_branch(spec.key, record.run_id, attempt)
    suffix = "" if attempt == 1 else f".attempt-{attempt}"
    output = run_folder(settings, spec.name, record.run_id) / f"{spec.name}{suffix}.ipynb"
    checks_log = output.with_name(f"checks{suffix}.jsonl")
    checks_log.unlink(missing_ok=True)
    context = {"pipeline": spec.name, "run_id": record.run_id, "notebook": str(spec.path)}
    record.branch, record.output = branch, str(output)
    record.failed_cell, record.error, record.source, record.kept_branch = None, "", "", None
    record.checks, record.new_rows = [], {}
    say(f"running {spec.path.name} on branch {branch} (attempt {attempt})")
    try:
        outcome = engine.execute(
            spec.path,
            output,
            parameters=values,
            env=kernel_env(settings, branch, context, checks_log=checks_log),
            branch=branch,
            context=context,
            timeout=spec.config.timeout,
            kernel_name=spec.kernel,
        )
    except Exception as e:  # the kernel did not start, the notebook could not be read...: a failed attempt
        outcome = engine.Outcome(False, output, error=f"the notebook could not run: {type(e).__name__}: {e}")
    record.checks = read_run_log(checks_log)
    failed = record.failed_checks
    if outcome.ok and failed:
        listed = ", ".join(f"{c['name']} on {c['table']} ({int(c['count']):,} violating)" for c in failed)
        outcome = engine.Outcome(False, output, error=f"{len(failed)} error check(s) failed: {listed}")
    if not outcome.ok:
        record.status, record.error = FAILED, outcome.error
        record.failed_cell, record.source = outcome.failed_cell, outcome.source
        record.kept_branch = branch if tables_on(lh, branch) else None
        return
    record.new_rows = _new_rows(lh, branch, say)
    try:
        published = _publish(lh, branch)
    except Exception as e:  # publishing is all or nothing, except the tables an Incomplete names
        cause = str(e) if isinstance(e, RatError) else f"{type(e).__name__}: {e}"
        record.status, record.error, record.kept_branch = FAILED, f"publishing failed: {cause}", branch
        if isinstance(e, Incomplete):
            record.published = {table: str(snapshot) for table, snapshot in e.changed.items()}
        return
    record.status, record.published = SUCCESS, published
    _describe_published(lh, spec, published, say)
    record.undeclared = sorted(set(published) - set(spec.writes))
    say(record.message())


def _new_rows(lh: Lakehouse, branch: str, say: Log) -> dict[str, dict[str, int]]:
    """Per table the run wrote with ``@new`` reads: the rows each such source delivered (see the record).

    The positions on the branch head against those where the branch forked from main (none for a table
    created by the run).
    """
    from ratatouille.incremental import delivered_rows, positions_of

    out: dict[str, dict[str, int]] = {}
    try:
        for state in tables_on(lh, branch):
            meta = lh.catalog.load_table(state.physical).metadata
            current = positions_of(meta.snapshot_by_id(state.head))
            if not current:
                continue
            previous = positions_of(None if state.fork is None else meta.snapshot_by_id(state.fork))
            out[state.table] = delivered_rows(lh.catalog, previous, current)
    except Exception as e:  # counting never fails a run
        say(f"could not count the new source rows: {type(e).__name__}: {e}")
    return out


def _publish(lh: Lakehouse, branch: str) -> dict[str, str]:
    """Fast-forward main to the branch on every table it wrote, then drop it; {} when nothing was written."""
    if not tables_on(lh, branch):
        return {}
    result = publish(lh, branch)
    _drop_quietly(lh, branch)  # published already: a branch left behind is dropped by the expiry
    return {table: str(snapshot) for table, snapshot in result["published"].items()}


def _describe_published(lh: Lakehouse, spec: PipelineSpec, published: Mapping[str, str], say: Log) -> None:
    """Give each published table without a description the notebook's first Markdown cell."""
    if not spec.description:
        return
    from ratatouille.documenting import describe, document

    for table in published:
        try:
            if not describe(lh.catalog, table).description:
                document(lh.catalog, table, description=spec.description)
                say(f"{table}: described by the notebook's first Markdown cell")
        except Exception as e:  # documentation never fails a published run
            say(f"could not set the description of {table}: {type(e).__name__}: {e}")


def _drop_quietly(lh: Lakehouse, branch: str) -> None:
    with contextlib.suppress(Exception):
        drop(lh, branch)


def expire_branches(lh: Lakehouse, name: str, keep_days: float) -> list[str]:
    """Drop the run branches of pipeline ``name`` whose head is older than ``keep_days``.

    The branches of its runs still in progress are kept whatever their age: a long run, or one whose
    tables were branched long ago, goes on writing on them.

    Returns:
        ``table@branch`` for each branch removed.
    """
    from ratatouille.tables.commit import manage_snapshots

    prefix = f"{BRANCH_PREFIX}/{pipeline_key(name)}/"
    # The cutoff is taken before the runs are listed: a run starting after the listing writes snapshots
    # newer than the cutoff, so its branches are never taken for old ones.
    cutoff_ms = (dt.datetime.now(dt.UTC) - dt.timedelta(days=keep_days)).timestamp() * 1000
    going = [prefix + run_id for run_id in active_run_ids(lh.settings, name)]
    removed: list[str] = []
    for namespace in list_namespaces(lh.catalog):
        for name in list_tables(lh.catalog, namespace):
            ident = f"{namespace}.{name}"
            table = load_table(lh.catalog, ident)
            old = []
            for ref_name, ref in table.metadata.refs.items():
                if not ref_name.startswith(prefix) or ref.snapshot_ref_type.value != "branch":
                    continue
                if any(_of_run(ref_name, branch) for branch in going):
                    continue
                snapshot = table.metadata.snapshot_by_id(ref.snapshot_id)
                if snapshot is None or snapshot.timestamp_ms < cutoff_ms:
                    old.append(ref_name)
            if old:
                manage = manage_snapshots(table)
                for ref_name in old:
                    manage = manage.remove_branch(ref_name)
                manage.commit()
                removed.extend(f"{ident}@{r}" for r in old)
    for staged in staged_tables(lh.catalog):  # tables the runs created: dropped with their files
        if staged.branch.startswith(prefix):
            head = lh.catalog.load_table(staged.staged).metadata.snapshot_by_name(staged.branch)
            if head is None or head.timestamp_ms < cutoff_ms:
                drop_table(lh.catalog, staged.staged)
                removed.append(f"{staged.identifier}@{staged.branch}")
    return removed


def _of_run(ref_name: str, branch: str) -> bool:
    """True when ``ref_name`` is ``branch`` (a run's first attempt) or one of its later attempts."""
    if ref_name == branch:
        return True
    attempt = ref_name.removeprefix(branch + "-")
    return attempt != ref_name and attempt.isdigit()
