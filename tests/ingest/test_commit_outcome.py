"""An ingestion whose commit fails with an unknown outcome never deletes files the table may point at.

The catalog's commit is wrapped to fail after committing (the catalog applied it, then answered 5xx or
the process was interrupted) or before (it never arrived): either way the table stays readable, its rows
are right, and the registry agrees with the table (nothing ingested twice, nothing marked ingested that
the table lacks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from pyiceberg.exceptions import CommitStateUnknownException

from ratatouille.ingest.errors import CommitOutcomeUnknown
from ratatouille.ingest.registry import Registry
from ratatouille.sdk import Rat

from .conftest import Landing


class FailingCommit:
    """Makes the catalog's next commit raise ``error``, after applying it when ``lands``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, rat: Rat) -> None:
        self.monkeypatch = monkeypatch
        self.catalog = rat.session.catalog
        self.real = type(self.catalog).commit_table
        self.armed: tuple[BaseException, bool] | None = None
        self.then: Callable[[], None] | None = None

        def commit_table(catalog: Any, *args: Any, **kwargs: Any) -> Any:
            return self._commit(catalog, *args, **kwargs)

        monkeypatch.setattr(type(self.catalog), "commit_table", commit_table)

    def arm(self, error: BaseException, *, lands: bool, then: Callable[[], None] | None = None) -> None:
        self.armed = (error, lands)
        self.then = then

    def _commit(self, catalog: Any, *args: Any, **kwargs: Any) -> Any:
        if self.armed is None:
            return self.real(catalog, *args, **kwargs)
        error, lands = self.armed
        self.armed = None
        if lands:
            self.real(catalog, *args, **kwargs)
        if self.then is not None:
            self.then()
        raise error


@pytest.fixture
def failing(monkeypatch: pytest.MonkeyPatch, rat: Rat) -> Iterator[FailingCommit]:
    yield FailingCommit(monkeypatch, rat)


def _check_consistent(rat: Rat, table: str, rows: int) -> None:
    """Every data file of the head exists, the table has ``rows`` rows, and the registry agrees."""
    t = rat.session.catalog.load_table(table)
    for task in t.scan().plan_files():
        assert t.io.new_input(task.file.file_path).exists(), task.file.file_path
    assert int(rat.query(f"SELECT count() AS n FROM {{{table}}}")["n"][0]) == rows
    registry = Registry(rat.session.settings, rat.session.catalog)
    with registry.engine.connect() as conn:
        query = sa.select(registry.t.c.snapshot_id, registry.t.c.content_hash).where(
            registry.t.c.table_name == table, registry.t.c.status == "ok"
        )
        ok = conn.execute(query).all()
        holds = registry._holder(conn, t, "main")
        assert all(holds(sid, "main") for sid, _ in ok), "a file is marked ingested the table lacks"
    assert len({h for _, h in ok}) == len(ok)


def _batch(landing: Landing, name: str, ids: list[int]) -> str:
    for i in ids:
        landing.put(f"{name}/f{i}.csv", f"id\n{i}\n{i + 100}\n")
    return f"landing/{name}/*.csv"


@pytest.mark.parametrize("error", [CommitStateUnknownException("503 Unavailable"), KeyboardInterrupt()])
def test_a_commit_that_landed_counts_as_done(
    rat: Rat, landing: Landing, failing: FailingCommit, error: BaseException
) -> None:
    glob = _batch(landing, "landed", [1, 2])
    failing.arm(error, lands=True)  # the very first commit: it creates the table
    if isinstance(error, Exception):
        _, stats = rat.ice_ingest_batch(glob, "bronze.landed")
        assert stats["rows"] == 4 and stats["files"] == 2
    else:
        with pytest.raises(KeyboardInterrupt):
            rat.ice_ingest_batch(glob, "bronze.landed")
    _check_consistent(rat, "bronze.landed", 4)
    assert set(rat.ingestion_history("bronze.landed")["status"]) == {"ok"}
    _, stats = rat.ice_ingest_batch(glob, "bronze.landed", skip_existing=True)
    assert stats["already_ingested"] == 2 and stats["rows"] == 0
    # On an existing table too.
    glob = _batch(landing, "landed", [3])
    failing.arm(error, lands=True)
    if isinstance(error, Exception):
        assert rat.ice_ingest_batch(glob, "bronze.landed", skip_existing=True)[1]["rows"] == 2
    else:
        with pytest.raises(KeyboardInterrupt):
            rat.ice_ingest_batch(glob, "bronze.landed", skip_existing=True)
    _check_consistent(rat, "bronze.landed", 6)
    _, stats = rat.ice_ingest_batch(glob, "bronze.landed", skip_existing=True)
    assert stats["already_ingested"] == 3 and stats["rows"] == 0


@pytest.mark.parametrize("error", [CommitStateUnknownException("502 Bad Gateway"), KeyboardInterrupt()])
def test_a_commit_that_did_not_land_writes_nothing(
    rat: Rat, landing: Landing, failing: FailingCommit, error: BaseException
) -> None:
    rat.ice_ingest_batch(_batch(landing, "lost", [1]), "bronze.lost")
    before = rat.session.catalog.load_table("bronze.lost").metadata.current_snapshot_id
    glob = _batch(landing, "lost", [2, 3])
    failing.arm(error, lands=False)
    with pytest.raises(type(error)) as raised:
        rat.ice_ingest_batch(glob, "bronze.lost", skip_existing=True)
    if isinstance(error, Exception):
        assert "did not land" in "".join(getattr(raised.value, "__notes__", []))
    assert rat.session.catalog.load_table("bronze.lost").metadata.current_snapshot_id == before
    _check_consistent(rat, "bronze.lost", 2)
    _, stats = rat.ice_ingest_batch(glob, "bronze.lost", skip_existing=True)
    assert stats["already_ingested"] == 1 and stats["rows"] == 4
    _check_consistent(rat, "bronze.lost", 6)


@pytest.mark.parametrize(("lands", "expire"), [(True, False), (False, False), (True, True)])
def test_a_commit_that_cannot_be_checked_keeps_files_and_claims(
    rat: Rat,
    landing: Landing,
    failing: FailingCommit,
    monkeypatch: pytest.MonkeyPatch,
    lands: bool,
    expire: bool,
) -> None:
    rat.ice_ingest_batch(_batch(landing, "unk", [1]), "bronze.unk")
    glob = _batch(landing, "unk", [2])
    catalog = rat.session.catalog

    def catalog_down() -> None:
        def load_table(*_: Any, **__: Any) -> Any:
            raise ConnectionError("catalog unreachable")

        monkeypatch.setattr(catalog, "load_table", load_table)

    failing.arm(CommitStateUnknownException("504 Gateway Timeout"), lands=lands, then=catalog_down)
    with pytest.raises(CommitOutcomeUnknown, match=r"cannot be told.*files are kept.*skip_existing=True"):
        rat.ice_ingest_batch(glob, "bronze.unk", skip_existing=True)
    monkeypatch.undo()  # the catalog answers again
    _check_consistent(rat, "bronze.unk", 4 if lands else 2)
    if expire:  # the commit's snapshot expires before the registry looks at it again
        rat.ice_ingest_df(pd.DataFrame({"id": [99]}), "bronze.unk")
        rat.ice_expire("bronze.unk", older_than="0s", retain_last=1)
    _, stats = rat.ice_ingest_batch(glob, "bronze.unk", skip_existing=True)
    assert stats["already_ingested"] == (2 if lands else 1) and stats["rows"] == (0 if lands else 2)
    _check_consistent(rat, "bronze.unk", 5 if expire else 4)
    registry = Registry(rat.session.settings, catalog)
    table = catalog.load_table("bronze.unk")
    hashes = list(rat.ingestion_history()["content_hash"])
    assert len(registry.ingested("bronze.unk", table, "main", hashes)) == 2


@pytest.mark.parametrize("created", [True, False])
def test_a_process_that_died_after_its_commit_is_recognized(
    rat: Rat, landing: Landing, created: bool
) -> None:
    if not created:
        rat.ice_ingest_batch(_batch(landing, "died", [1]), "bronze.died")
    glob = _batch(landing, "died", [2, 3])
    rat.ice_ingest_batch(glob, "bronze.died", skip_existing=True)
    # As if the process was killed between the commit and recording it: claims left running, and one
    # made before the commit created the table has no table uuid yet.
    registry = Registry(rat.session.settings, rat.session.catalog)
    with registry.engine.begin() as conn:
        values: dict[str, Any] = {"status": "running", "snapshot_id": None, "worker": "elsewhere:1"}
        if created:
            values["table_uuid"] = ""
        conn.execute(sa.update(registry.t).values(**values))
    _, stats = rat.ice_ingest_batch(glob, "bronze.died", skip_existing=True)
    assert stats["already_ingested"] == (2 if created else 3) and stats["rows"] == 0
    rows = 4 if created else 6
    _check_consistent(rat, "bronze.died", rows)
    assert set(rat.ingestion_history("bronze.died")["status"]) == {"ok"}
    assert rat.ice_ingest("landing/died/f2.csv", "bronze.died", track=True)[1] == 0
    _check_consistent(rat, "bronze.died", rows)
