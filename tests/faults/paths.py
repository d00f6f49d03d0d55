"""The write paths under test, each as prepare (the state before), run (the write) and recover (redo it).

``prepare`` makes the tables of one case (names unique to the case) and returns its state as JSON-able
data: per table the branch to watch, the head before, the head after when known in advance, and the rows
of both states (the model). ``run`` performs the write exactly as a user does (``rat.*`` calls, the
pipeline runner). ``recover``, where the path has one, is what a user does after a failure (re-run the
batch, publish again); afterwards every table must be in its new state.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ratatouille.sdk import Rat

from .injection import Fault
from .invariants import head_of

NAMESPACE = "faults"
COLUMNS = ["id", "v"]
State = dict[str, Any]


def frame(ids: range | list[int], prefix: str) -> pd.DataFrame:
    """Rows ``(id, f"{prefix}{id}")``."""
    return pd.DataFrame({"id": list(ids), "v": [f"{prefix}{i}" for i in ids]})


def model(ids: range | list[int], prefix: str) -> list[list[Any]]:
    """The model rows of :func:`frame`."""
    return [[i, f"{prefix}{i}"] for i in ids]


def head(rat: Rat, identifier: str, branch: str = "main") -> int | None:
    """A branch's head snapshot id."""
    return head_of(rat.session.catalog.load_table(identifier), branch)


def entry(
    rat: Rat, identifier: str, old: list[list[Any]], new: list[list[Any]], **extra: Any
) -> dict[str, Any]:
    """One table's part of a case state."""
    return {"id": identifier, "branch": "main", "old_head": head(rat, identifier), "new_head": None,
            "columns": COLUMNS, "old": old, "new": new, **extra}  # fmt: skip


@dataclass(frozen=True)
class WritePath:
    """One write path.

    Attributes:
        name: Its name in the figures.
        prepare: Makes the case's tables; returns its state.
        run: The write.
        recover: What a user does after a failure, or None.
        moves_head: The write moves a head (expiry does not).
        atomic: Several tables change together: a failed write must change none (errors, not kills).
        registry: The write records ingested files in the registry.
    """

    name: str
    prepare: Callable[[Rat, str], State]
    run: Callable[[Rat, State], Any]
    recover: Callable[[Rat, State], Any] | None = None
    moves_head: bool = True
    atomic: bool = False
    registry: bool = False


# -- single-table writes ---------------------------------------------------------------------------------


def _seeded(rat: Rat, tag: str, name: str, new: list[list[Any]]) -> State:
    ident = f"{NAMESPACE}.{name}_{tag}"
    rat.ice_ingest_df(frame(range(10), "a"), ident)
    return {"tables": [entry(rat, ident, model(range(10), "a"), new)]}


def _ident(state: State, n: int = 0) -> str:
    return str(state["tables"][n]["id"])


APPEND = WritePath(
    "append",
    lambda rat, tag: _seeded(rat, tag, "append", model(range(10), "a") + model(range(10, 20), "b")),
    lambda rat, s: rat.ice_ingest_df(frame(range(10, 20), "b"), _ident(s), mode="append"),
)
OVERWRITE = WritePath(
    "overwrite",
    lambda rat, tag: _seeded(rat, tag, "overwrite", model(range(100, 105), "o")),
    lambda rat, s: rat.ice_ingest_df(frame(range(100, 105), "o"), _ident(s), mode="overwrite"),
)
MERGE = WritePath(
    "merge",
    lambda rat, tag: _seeded(rat, tag, "merge", model(range(5), "a") + model(range(5, 15), "m")),
    lambda rat, s: rat.ice_merge(frame(range(5, 15), "m"), _ident(s), ["id"]),
)
DELETE = WritePath(
    "delete",
    lambda rat, tag: _seeded(rat, tag, "delete", model(range(5, 10), "a")),
    lambda rat, s: rat.ice_delete(_ident(s), "id < 5"),
)


def _prepare_compaction(rat: Rat, tag: str) -> State:
    ident = f"{NAMESPACE}.compaction_{tag}"
    for i in range(6):
        rat.ice_ingest_df(frame(range(i * 5, i * 5 + 5), "a"), ident)
    rows = model(range(30), "a")
    return {"tables": [entry(rat, ident, rows, rows)]}


COMPACTION = WritePath("compaction", _prepare_compaction, lambda rat, s: rat.ice_compact(_ident(s)))


def _prepare_compaction_deletes(rat: Rat, tag: str) -> State:
    """Three files, then a position delete file (two rows of one file) and an equality delete file.

    The equality delete file removes two ids: one in the file with position deletes, one in another.
    """
    import pyarrow.parquet as pq

    from ratatouille.testing import commit_equality_deletes, commit_position_deletes

    ident = f"{NAMESPACE}.compaction_deletes_{tag}"
    for i in range(3):
        rat.ice_ingest_df(frame(range(i * 5, i * 5 + 5), "a"), ident)
    catalog = rat.session.catalog
    table = catalog.load_table(ident)
    first = sorted(t.file.file_path for t in table.scan().plan_files())[0]
    with table.io.new_input(first).open() as stream:
        ids = pq.read_table(stream, columns=["id"]).column("id").to_pylist()
    other = next(i for i in range(15) if i not in ids)  # a row of another file
    commit_position_deletes(table, {first: [0, 2]})
    commit_equality_deletes(catalog.load_table(ident), {"id": [ids[1], other]})
    gone = {ids[0], ids[2], ids[1], other}
    rows = model([i for i in range(15) if i not in gone], "a")
    # Old: both delete files still applied; new: compacted, the same rows and no delete file.
    return {"tables": [entry(rat, ident, rows, rows, delete_files={"old": 2, "new": 0})]}


def _compact(rat: Rat, state: State) -> Any:
    return rat.ice_compact(_ident(state))


COMPACTION_DELETES = WritePath("compaction_deletes", _prepare_compaction_deletes, _compact, recover=_compact)


def _prepare_expiry(rat: Rat, tag: str) -> State:
    ident = f"{NAMESPACE}.expiry_{tag}"
    for i in range(4):
        rat.ice_ingest_df(frame(range(i * 5, i * 5 + 5), "a"), ident)
    rat.ice_ingest_df(frame(range(50, 55), "z"), ident, mode="overwrite")  # older files: only history
    rows = model(range(50, 55), "z")
    state = {"tables": [entry(rat, ident, rows, rows)]}
    state["tables"][0]["new_head"] = state["tables"][0]["old_head"]
    return state


EXPIRY = WritePath(
    "expiry",
    _prepare_expiry,
    lambda rat, s: rat.ice_expire(_ident(s), older_than="0s", retain_last=1),
    moves_head=False,
)


# -- ingestion -------------------------------------------------------------------------------------------


def _prepare_ingest(rat: Rat, tag: str) -> State:
    ident = f"{NAMESPACE}.ingest_{tag}"
    prefix = f"faults/{tag}/"
    for i in range(3):
        rat.write(frame(range(i * 10, i * 10 + 10), f"f{i}-"), f"{prefix}part{i}.parquet")
    rat.ice_ingest(f"{prefix}part0.parquet", ident, track=True)  # one file in before the batch
    new = [row for i in range(3) for row in model(range(i * 10, i * 10 + 10), f"f{i}-")]
    return {"tables": [entry(rat, ident, new[:10], new)], "prefix": prefix}


def _ingest_batch(rat: Rat, state: State) -> Any:
    return rat.ice_ingest_batch(state["prefix"], _ident(state), skip_existing=True)


INGEST = WritePath("ingest", _prepare_ingest, _ingest_batch, recover=_ingest_batch, registry=True)


# -- publishing a branch of three tables -------------------------------------------------------------------


def _prepare_publish(rat: Rat, tag: str) -> State:
    branch = f"dev_{tag}"
    idents = [f"{NAMESPACE}.publish_{tag}_{x}" for x in "abc"]
    for ident in idents:
        rat.ice_ingest_df(frame(range(10), "a"), ident)
    old = model(range(10), "a")
    news = [old + model(range(10, 15), "b"), model(range(5), "a") + model(range(5, 10), "m"), old[3:]]
    tables = [entry(rat, ident, old, new) for ident, new in zip(idents, news, strict=True)]
    rat.dev_start(branch)
    rat.ice_ingest_df(frame(range(10, 15), "b"), idents[0], mode="append")
    rat.ice_merge(frame(range(5, 10), "m"), idents[1], ["id"])
    rat.ice_delete(idents[2], "id < 3")
    for t in tables:
        t["new_head"] = head(rat, t["id"], branch)
    rat.dev(None)
    return {"tables": tables, "branch": branch}


def _publish(rat: Rat, state: State) -> Any:
    return rat.dev_merge(state["branch"])


PUBLISH = WritePath("publish", _prepare_publish, _publish, recover=_publish, atomic=True)


# -- a pipeline run: its notebook's writes on the run's branch, then the runner's publish ------------------


def _prepare_pipeline(rat: Rat, tag: str) -> State:
    from tests.pipelines.notebooks import write_notebook

    idents = [f"{NAMESPACE}.pipeline_{tag}_{x}" for x in "ab"]
    for ident in idents:
        rat.ice_ingest_df(frame(range(10), "a"), ident)
    old = model(range(10), "a")
    news = [old + model(range(10, 15), "p"), model(range(5), "a") + model(range(5, 12), "q")]
    notebook = Path(rat.settings.pipelines_dir) / f"faults_{tag}.ipynb"
    write_notebook(notebook, ["from ratatouille import rat"], pipeline={"retries": 0})
    return {
        "tables": [entry(rat, ident, old, new) for ident, new in zip(idents, news, strict=True)],
        "notebook": str(notebook),
        "run_id": str(uuid.uuid4()),
    }


def _run_pipeline(rat: Rat, state: State) -> Any:
    """The runner, with the notebook's kernel replaced by the same writes in this process."""
    from ratatouille.session import Lakehouse
    from ratatouille_jupyter.pipelines import engine, runner
    from ratatouille_jupyter.pipelines.spec import load_spec

    a, b = _ident(state, 0), _ident(state, 1)

    def execute(notebook: Path, output: Path, *, branch: str, context: dict[str, str], **_: Any) -> Any:
        kernel = Lakehouse(rat.settings)
        kernel.use_branch(branch)
        kernel.context = dict(context)
        kernel.write(frame(range(10, 15), "p").pipe(_arrow), a, mode="append")
        kernel.write(frame(range(5, 12), "q").pipe(_arrow), b, mode="merge", merge_keys=["id"])
        kernel.close()
        return engine.Outcome(True, output)

    spec = load_spec(Path(state["notebook"]))
    assert spec is not None
    real = engine.execute
    engine.execute = execute  # type: ignore[assignment]
    try:
        record = runner.run_pipeline(spec, rat.settings, run_id=state["run_id"])
    finally:
        engine.execute = real
    if not record.ok:
        raise RuntimeError(f"the pipeline run failed: {record.error}")
    return record.status


def _arrow(df: pd.DataFrame) -> Any:
    import pyarrow as pa

    return pa.Table.from_pandas(df, preserve_index=False)


def _recover_pipeline(rat: Rat, state: State) -> Any:
    """Run the pipeline again when nothing landed on main, else finish publishing its branch."""
    from ratatouille.branches import publish, tables_on
    from ratatouille_jupyter.pipelines.layout import run_branch
    from ratatouille_jupyter.pipelines.spec import load_spec

    spec = load_spec(Path(state["notebook"]))
    assert spec is not None
    branch = run_branch(spec.key, state["run_id"], 1)
    if all(head(rat, t["id"]) == t["old_head"] for t in state["tables"]):
        return _run_pipeline(rat, {**state, "run_id": str(uuid.uuid4())})  # nothing landed: run again
    if tables_on(rat.session, branch):
        return publish(rat.session, branch)  # killed while publishing: finish the publish
    return None


PIPELINE = WritePath("pipeline", _prepare_pipeline, _run_pipeline, recover=_recover_pipeline, atomic=True)

_ALL = (APPEND, OVERWRITE, MERGE, DELETE, INGEST, PUBLISH, PIPELINE, COMPACTION, COMPACTION_DELETES, EXPIRY)
PATHS = {p.name: p for p in _ALL}

# -- the cases: (path, fault) -----------------------------------------------------------------------------

_COMMIT_FAULTS = [
    Fault("files_written", "kill"),
    Fault("commit_started", "kill", after=True),
    Fault("commit_returned", "kill", after=True),
    Fault("files_written", "conn_lost"),
    Fault("commit_started", "conflict"),
    Fault("commit_started", "unknown"),
    Fault("commit_started", "conn_lost"),
    Fault("commit_returned", "unknown", after=True),
    Fault("commit_returned", "conn_lost", after=True),
]
_EXTRA = {
    "ingest": [
        Fault("registry_updated", "kill"),
        Fault("registry_updated", "kill", after=True),
        Fault("registry_updated", "conn_lost"),
    ],
    "expiry": [Fault("files_deleted", "kill"), Fault("files_deleted", "conn_lost")],
}
_PUBLISH_FAULTS = [
    Fault("publish_table", "kill", after=True, nth=1),
    Fault("publish_table", "kill", after=True, nth=2),
    Fault("publish_table", "conflict", nth=2),
    Fault("publish_table", "unknown", nth=2),
    Fault("publish_table", "unknown", after=True, nth=2),
    Fault("publish_table", "conn_lost", nth=2),
    Fault("publish_table", "conn_lost", after=True, nth=2),
]
_PIPELINE_FAULTS = [
    Fault("commit_returned", "kill", after=True),  # the notebook's first write on the run's branch
    Fault("commit_returned", "unknown", after=True),
    Fault("publish_table", "kill", after=True, nth=1),
    Fault("publish_table", "conflict", nth=2),
    Fault("publish_table", "unknown", after=True, nth=2),
    Fault("publish_table", "conn_lost", nth=2),
]


def cases() -> list[tuple[str, Fault]]:
    """Every (write path, fault) case, in a stable order."""
    out: list[tuple[str, Fault]] = []
    for name in PATHS:
        if name == "publish":
            faults = _PUBLISH_FAULTS
        elif name == "pipeline":
            faults = _PIPELINE_FAULTS
        else:
            faults = _COMMIT_FAULTS + _EXTRA.get(name, [])
        out.extend((name, f) for f in faults)
    return out


def case_id(path: str, fault: Fault) -> str:
    """The test id of a case."""
    return f"{path}-{fault.label}"
