"""Pipelines as Dagster definitions: the only module of ratatouille that imports Dagster.

For each pipeline notebook:

* one asset per table it writes (key ``[namespace, table]``, group = the namespace), all produced by
  one multi-asset whose op runs the notebook (:func:`~.runner.run_pipeline`); a notebook that writes
  no table found statically gets one asset ``["pipelines", <key>]``;
* dependencies on the tables it reads (``{ns.t}`` references), so the assets of several notebooks form
  one lineage graph (tables no pipeline writes appear as external assets);
* a job named after the pipeline (its Dagster-safe key), and a schedule ``<key>_schedule`` when the
  metadata has one (running by default: the daemon starts it without a click).

Each asset's description is its table's (:func:`ratatouille.documenting.describe`), else the
notebook's first Markdown cell; its metadata holds the table's owner, tags and PII columns.

The data-quality checks found in the notebook (``%rat_check``, ``%%rat_check``, ``rat.check`` with
literal arguments) on the tables it writes are Dagster asset checks of those assets; each run reports
their results (passed, severity, the violating row count and a sample). A declared check the run did not
reach is reported failed (``WARN``, ``ran: false``); results of checks not found statically are in the
materializations' ``checks`` metadata.

The lakehouse's table maintenance (:func:`ratatouille.tables.maintain`, every table's policy) is the job
``rat_maintenance``, scheduled by ``rat_maintenance_schedule``: nightly at 03:00 UTC by default, or
``RAT_MAINTENANCE_SCHEDULE`` (a cron expression; ``off`` for none) in ``RAT_MAINTENANCE_TIMEZONE``.

The op config ``{"parameters": {...}}`` sets run parameters (the launchpad, or ``rat pipelines run -p``).
Every materialization and failure carries the executed notebook (``View notebook`` in the UI), the
run's branch, and on failure the failing cell.
"""

import logging
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext

from ratatouille.config import Settings
from ratatouille.documenting import TableDoc, describe
from ratatouille.errors import ConfigError, RatError

from .layout import op_name
from .runner import run_pipeline
from .spec import Discovery, PipelineSpec, discover, json_ready

#: Asset key prefix of a notebook that writes no table found statically.
NOTEBOOK_ASSET_PREFIX = "pipelines"
MAINTENANCE_JOB = "rat_maintenance"
DEFAULT_MAINTENANCE_CRON = "0 3 * * *"
_log = logging.getLogger("ratatouille.pipelines")


def table_key(table: str) -> dg.AssetKey:
    """The asset key of ``namespace.table``."""
    return dg.AssetKey(table.split(".", 1))


def asset_keys(spec: PipelineSpec) -> list[dg.AssetKey]:
    """The asset keys a pipeline materializes."""
    if not spec.writes:
        return [dg.AssetKey([NOTEBOOK_ASSET_PREFIX, spec.key])]
    return [table_key(t) for t in spec.writes]


def check_name(name: str, taken: set[str]) -> str:
    """A Dagster-safe check name for a ratatouille check name (``not_null(id)`` -> ``not_null_id``)."""
    base = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", name)).strip("_") or "check"
    safe, n = base, 2
    while safe in taken:
        safe, n = f"{base}_{n}", n + 1
    taken.add(safe)
    return safe


def check_specs(spec: PipelineSpec) -> dict[tuple[str, str], dg.AssetCheckSpec]:
    """(table, check name) -> the Dagster asset check, for the checks found on tables the notebook writes."""
    out: dict[tuple[str, str], dg.AssetCheckSpec] = {}
    taken: dict[str, set[str]] = {}
    for table, name, severity in spec.checks:
        if table in spec.writes:
            safe = check_name(name, taken.setdefault(table, set()))
            out[(table, name)] = dg.AssetCheckSpec(
                safe, asset=table_key(table), description=f"{name} ({severity})", metadata={"check": name}
            )
    return out


def table_docs(settings: Settings, tables: list[str]) -> dict[str, TableDoc]:
    """The documentation of the tables that exist (a catalog that cannot be read: none)."""
    if not tables:
        return {}
    from ratatouille.catalog import open_catalog

    try:
        catalog = open_catalog(settings)
    except Exception as e:  # the code location still loads, without the docs
        _log.warning("table docs not read: %s", e)
        return {}
    docs: dict[str, TableDoc] = {}
    for table in tables:
        try:
            docs[table] = describe(catalog, table)
        except Exception:  # not created yet, unreadable: the notebook's description
            continue
    return docs


def asset_description(spec: PipelineSpec, table: str, doc: TableDoc | None) -> str:
    """The table's description, else the notebook's first Markdown cell, else where it is written."""
    if doc is not None and doc.description:
        return doc.description
    if spec.description:
        return spec.description
    cell = f" (cell {spec.writes[table]})" if table in spec.writes else ""
    return f"Written by the pipeline notebook {spec.path.name}{cell}."


def _doc_metadata(doc: TableDoc | None) -> dict[str, Any]:
    if doc is None:
        return {}
    out: dict[str, Any] = {}
    if doc.owner:
        out["owner"] = doc.owner
    if doc.tags:
        out["tags"] = dg.MetadataValue.json(list(doc.tags))
    if doc.pii:
        out["pii_columns"] = dg.MetadataValue.json(list(doc.pii))
    return out


def _check_result(key: dg.AssetKey, safe: str, result: dict[str, Any] | None) -> dg.AssetCheckResult:
    if result is None:
        return dg.AssetCheckResult(
            asset_key=key,
            check_name=safe,
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"ran": False},
            description="the run did not reach this check",
        )
    sample = result.get("sample") or []
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=safe,
        passed=bool(result.get("passed")),
        severity=dg.AssetCheckSeverity.ERROR
        if result.get("severity") == "error"
        else dg.AssetCheckSeverity.WARN,
        metadata={
            "count": int(result.get("count") or 0),
            "sample": dg.MetadataValue.json(sample),
            "branch": str(result.get("branch") or ""),
            "snapshot_id": str(result.get("snapshot_id") or ""),
            "sql": dg.MetadataValue.md(f"```sql\n{result.get('sql', '')}\n```"),
        },
    )


def pipeline_asset(spec: PipelineSpec, settings: Settings) -> dg.AssetsDefinition:
    """The multi-asset that runs one pipeline notebook."""
    keys = asset_keys(spec)
    docs = table_docs(settings, list(spec.writes))
    outs = {
        "__".join(key.path): dg.AssetOut(
            key=key,
            group_name=key.path[0],
            description=asset_description(spec, table := ".".join(key.path), docs.get(table)),
            metadata={"pipeline": spec.name, "notebook": str(spec.path), **_doc_metadata(docs.get(table))},
            kinds={"iceberg", "notebook"} if spec.writes else {"notebook"},
        )
        for key in keys
    }
    declared = check_specs(spec)

    @dg.multi_asset(
        name=op_name(spec.key),
        outs=outs,
        deps=[table_key(t) for t in spec.reads],
        check_specs=list(declared.values()),
        config_schema={"parameters": dg.Field(dg.Permissive(), default_value={}, is_required=False)},
        description=f"Runs {spec.path} papermill-style on its own branch; publishes when it succeeds.",
        op_tags={"ratatouille/pipeline": spec.name},
    )
    def _run(context: AssetExecutionContext) -> Iterator[dg.MaterializeResult[Any] | dg.AssetCheckResult]:
        config = context.op_execution_context.op_config or {}

        def say(text: str) -> None:
            context.log.info(text)
            _log.info(text)

        try:
            record = run_pipeline(
                spec, settings, config.get("parameters") or {}, run_id=context.run.run_id, text=True, log=say
            )
        except RatError as e:
            raise dg.Failure(description=f"pipeline {spec.name}: {e}") from e
        notebook = dg.MetadataValue.notebook(record.output)
        results = {(c.get("table"), c.get("name")): c for c in record.checks}
        for (table, name), check in declared.items():
            if (table, name) in results or record.ok:
                yield _check_result(table_key(table), check.name, results.get((table, name)))
        if not record.ok:
            raise dg.Failure(
                description=record.message(),
                metadata={
                    "failed_cell": record.failed_cell if record.failed_cell is not None else "unknown",
                    "error": record.error,
                    "cell_source": record.source,
                    "kept_branch": record.kept_branch or "",
                    "executed_notebook": notebook,
                    "attempts": record.attempts,
                    "failed_checks": dg.MetadataValue.json(record.failed_checks),
                },
            )
        for key in keys:
            table = ".".join(key.path)
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "snapshot_id": record.published.get(table, ""),
                    "changed": table in record.published,
                    "executed_notebook": notebook,
                    "run_branch": record.branch,
                    "attempts": record.attempts,
                    "parameters": dg.MetadataValue.json(json_ready(record.parameters)),
                    "checks": dg.MetadataValue.json(
                        [
                            {k: c.get(k) for k in ("name", "status", "count")}
                            for c in record.checks
                            if c.get("table") == table
                        ]
                    ),
                },
            )

    return _run


def maintenance_job(settings: Settings) -> dg.JobDefinition:
    """The job that applies every table's maintenance policy (compaction, expiry, orphan sweep)."""

    @dg.op(name=f"{MAINTENANCE_JOB}_tables", description="Applies each table's maintenance policy.")
    def _maintain(context: dg.OpExecutionContext) -> dict[str, Any]:
        from ratatouille.sdk import Rat
        from ratatouille.session import Lakehouse

        session = Lakehouse(settings)  # explicit settings: on main whatever RAT_BRANCH says
        try:
            report = Rat(session).ice_maintain()
        finally:
            session.close()
        for table, done in report.items():
            context.log.info(f"{table}: {done}")
        failed = {table: done["error"] for table, done in report.items() if "error" in done}
        if failed:
            raise dg.Failure(
                description=f"maintenance failed on {', '.join(sorted(failed))}",
                metadata={"errors": dg.MetadataValue.json(failed)},
            )
        return report

    @dg.job(name=MAINTENANCE_JOB, description="Table maintenance: compaction, snapshot expiry, orphan sweep",
            tags={"ratatouille/maintenance": "policy"})  # fmt: skip
    def _job() -> None:
        _maintain()

    return _job


def maintenance_schedule(
    job: dg.JobDefinition, environ: Mapping[str, str] | None = None
) -> dg.ScheduleDefinition | None:
    """The nightly maintenance schedule (``RAT_MAINTENANCE_SCHEDULE``; ``off`` for none).

    Raises:
        ConfigError: The cron expression is not valid.
    """
    env = os.environ if environ is None else environ
    cron = " ".join(env.get("RAT_MAINTENANCE_SCHEDULE", DEFAULT_MAINTENANCE_CRON).split())
    if cron.lower() in ("", "off", "none"):
        return None
    if len(cron.split()) != 5:
        raise ConfigError(f"RAT_MAINTENANCE_SCHEDULE must be a cron expression of 5 fields, got {cron!r}")
    timezone = env.get("RAT_MAINTENANCE_TIMEZONE", "UTC") or "UTC"
    return dg.ScheduleDefinition(
        name=f"{MAINTENANCE_JOB}_schedule",
        job=job,
        cron_schedule=cron,
        execution_timezone=timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Table maintenance, {cron} ({timezone})",
    )


def build_definitions(
    settings: Settings | None = None, root: Path | None = None, discovery: Discovery | None = None
) -> dg.Definitions:
    """The Dagster definitions of every pipeline (see the module docstring).

    Args:
        settings: The lakehouse; :meth:`Settings.from_env` when omitted.
        root: The pipelines folder; the settings' when omitted.
        discovery: An existing discovery to use instead of searching again.

    Returns:
        The definitions; notebooks that cannot be loaded are logged and listed in its metadata.
    """
    settings = settings or Settings.from_env()
    found = discovery or discover(settings, root)
    assets: list[dg.AssetsDefinition] = []
    jobs: list[Any] = []
    schedules: list[dg.ScheduleDefinition] = []
    for name in sorted(found.pipelines):
        spec = found.pipelines[name]
        assets.append(pipeline_asset(spec, settings))
        job = dg.define_asset_job(
            spec.key,
            selection=dg.AssetSelection.assets(*asset_keys(spec)),
            description=f"Pipeline notebook {spec.path.name}",
            tags={"ratatouille/pipeline": spec.name},
        )
        jobs.append(job)
        if spec.config.schedule:
            schedules.append(
                dg.ScheduleDefinition(
                    name=f"{spec.key}_schedule",
                    job=job,
                    cron_schedule=spec.config.schedule,
                    execution_timezone=spec.config.timezone,
                    default_status=dg.DefaultScheduleStatus.RUNNING,
                    description=f"{spec.config.schedule} ({spec.config.timezone})",
                )
            )
    maintenance = maintenance_job(settings)
    jobs.append(maintenance)
    nightly = maintenance_schedule(maintenance)
    if nightly is not None:
        schedules.append(nightly)
    for name, reason in sorted(found.errors.items()):
        _log.warning("pipeline %s cannot be loaded: %s", name, reason)
    metadata: dict[str, Any] = {"pipelines_dir": str(found.root)}
    metadata.update({f"cannot load {name}": reason for name, reason in sorted(found.errors.items())})
    return dg.Definitions(assets=assets, jobs=jobs, schedules=schedules, metadata=metadata)


def init_instance(home: Path) -> None:
    """Create (or migrate) the storage of the Dagster instance in ``home`` before processes share it.

    The webserver and the daemon each create a fresh SQLite storage on start; started together on a new
    home they race, and one fails. Creating it once first avoids that.
    """
    instance = dg.DagsterInstance.from_config(str(home))
    instance.dispose()


def execute_in_process(
    spec: PipelineSpec,
    settings: Settings,
    parameters: dict[str, Any] | None = None,
    instance: dg.DagsterInstance | None = None,
    discovery: Discovery | None = None,
    log_level: str = "INFO",
) -> tuple[bool, str]:
    """Run one pipeline's job in this process, recorded in ``instance`` (Dagster's home when omitted).

    Args:
        spec: The pipeline.
        settings: The lakehouse.
        parameters: Run parameters (op config).
        instance: Dagster's instance; ``DagsterInstance.get()`` (``DAGSTER_HOME``) when omitted.
        discovery: The pipelines, when already discovered.
        log_level: Level of Dagster's console log.

    Returns:
        (success, Dagster run id).
    """
    defs = build_definitions(settings, discovery=discovery)
    job = defs.resolve_job_def(spec.key)
    run_config = {
        "ops": {op_name(spec.key): {"config": {"parameters": parameters or {}}}},
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
    owned = instance is None
    instance = instance or dg.DagsterInstance.get()
    try:
        result = job.execute_in_process(run_config=run_config, instance=instance, raise_on_error=False)
        return result.success, result.run_id
    finally:
        if owned:
            instance.dispose()
