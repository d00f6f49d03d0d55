"""Pipelines as Dagster definitions: the only module of ratatouille that imports Dagster.

For each pipeline notebook:

* one asset per table it writes (key ``[namespace, table]``, group = the namespace), all produced by
  one multi-asset whose op runs the notebook (:func:`~.runner.run_pipeline`); a notebook that writes
  no table found statically gets one asset ``["pipelines", <key>]``;
* dependencies on the tables it reads (``{ns.t}`` references), so the assets of several notebooks form
  one lineage graph (tables no pipeline writes appear as external assets);
* a job named after the pipeline (its Dagster-safe key), and a schedule ``<key>_schedule`` when the
  metadata has one (running by default: the daemon starts it without a click).

The lakehouse's table maintenance (:func:`ratatouille.tables.maintain`, every table's policy) is the job
``rat_maintenance``, scheduled by ``rat_maintenance_schedule``: nightly at 03:00 UTC by default, or
``RAT_MAINTENANCE_SCHEDULE`` (a cron expression; ``off`` for none) in ``RAT_MAINTENANCE_TIMEZONE``.

The op config ``{"parameters": {...}}`` sets run parameters (the launchpad, or ``rat pipelines run -p``).
Every materialization and failure carries the executed notebook (``View notebook`` in the UI), the
run's branch, and on failure the failing cell.
"""

import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext

from ratatouille.config import Settings
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


def pipeline_asset(spec: PipelineSpec, settings: Settings) -> dg.AssetsDefinition:
    """The multi-asset that runs one pipeline notebook."""
    keys = asset_keys(spec)
    outs = {
        "__".join(key.path): dg.AssetOut(
            key=key,
            group_name=key.path[0],
            description=f"Written by the pipeline notebook {spec.path.name}"
            + (f" (cell {spec.writes[table]})." if (table := ".".join(key.path)) in spec.writes else "."),
            metadata={"pipeline": spec.name, "notebook": str(spec.path)},
            kinds={"iceberg", "notebook"} if spec.writes else {"notebook"},
        )
        for key in keys
    }

    @dg.multi_asset(
        name=op_name(spec.key),
        outs=outs,
        deps=[table_key(t) for t in spec.reads],
        config_schema={"parameters": dg.Field(dg.Permissive(), default_value={}, is_required=False)},
        description=f"Runs {spec.path} papermill-style on its own branch; publishes when it succeeds.",
        op_tags={"ratatouille/pipeline": spec.name},
    )
    def _run(context: AssetExecutionContext) -> Iterator[dg.MaterializeResult[Any]]:
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
