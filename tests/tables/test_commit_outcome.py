"""A write whose commit fails with an unknown outcome tells the truth: landed once, or nothing written.

The catalog's commit is wrapped to fail after applying the commit (a REST catalog answering 5xx, a
connection dropped while the database committed) or before it arrived. A landed write returns its result
and is not written twice; one that did not land raises its error saying nothing was written; when the
table cannot be read to tell, the error says so, and no file the table may point at is deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy.exc
from pyiceberg.exceptions import CommitStateUnknownException

from ratatouille.errors import CommitOutcomeUnknown
from ratatouille.session import Lakehouse
from tests.helpers import arrow, head, rows


def failing_commit(
    monkeypatch: pytest.MonkeyPatch,
    lh: Lakehouse,
    error: BaseException,
    lands: bool,
    then: Callable[[], None] | None = None,
) -> None:
    """The catalog's next commit raises ``error`` (after applying it when ``lands``)."""
    cls = type(lh.catalog)
    real = cls.commit_table
    armed = [True]

    def commit_table(catalog: Any, *args: Any, **kwargs: Any) -> Any:
        if not armed[0]:
            return real(catalog, *args, **kwargs)
        armed[0] = False
        if lands:
            real(catalog, *args, **kwargs)
        if then is not None:
            then()
        raise error

    monkeypatch.setattr(cls, "commit_table", commit_table)


def _files_exist(lh: Lakehouse, table: str) -> None:
    t = lh.catalog.load_table(table)
    for task in t.scan().plan_files():
        assert t.io.new_input(task.file.file_path).exists(), task.file.file_path


WRITES: dict[str, Callable[[Lakehouse], Any]] = {
    "append": lambda lh: lh.write(arrow(id=[3], v=["c"]), "silver.t"),
    "merge": lambda lh: lh.write(arrow(id=[2, 3], v=["B", "c"]), "silver.t", mode="merge", merge_keys=["id"]),
    "overwrite": lambda lh: lh.write(arrow(id=[3], v=["c"]), "silver.t", mode="overwrite"),
    "delete": lambda lh: lh.delete("silver.t", "id = 1"),
}
AFTER = {"append": [1, 2, 3], "merge": [1, 2, 3], "overwrite": [3], "delete": [2]}
ERRORS = [
    CommitStateUnknownException("503 from the catalog"),
    sqlalchemy.exc.OperationalError("COMMIT", {}, ConnectionError("server closed the connection")),
]


@pytest.mark.parametrize("error", ERRORS, ids=["unknown", "conn_lost"])
@pytest.mark.parametrize("write", list(WRITES))
def test_a_landed_commit_with_an_unknown_outcome_is_a_success_written_once(
    lakehouse: Lakehouse, monkeypatch: pytest.MonkeyPatch, write: str, error: BaseException
) -> None:
    lakehouse.write(arrow(id=[1, 2], v=["a", "b"]), "silver.t")
    before = head(lakehouse, "silver.t")
    failing_commit(monkeypatch, lakehouse, error, lands=True)
    result = WRITES[write](lakehouse)
    monkeypatch.undo()
    now = head(lakehouse, "silver.t")
    assert now != before and result.snapshot_id == now
    t = lakehouse.catalog.load_table("silver.t")
    assert len(t.metadata.snapshots) == 2  # landed once: not retried on top of itself
    got = rows(lakehouse, "SELECT id FROM {silver.t} ORDER BY id")
    assert [r["id"] for r in got] == AFTER[write]
    _files_exist(lakehouse, "silver.t")


@pytest.mark.parametrize("write", list(WRITES))
def test_a_commit_that_did_not_land_says_nothing_was_written(
    lakehouse: Lakehouse, monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    lakehouse.write(arrow(id=[1, 2], v=["a", "b"]), "silver.t")
    before = head(lakehouse, "silver.t")
    failing_commit(monkeypatch, lakehouse, CommitStateUnknownException("503 from the catalog"), lands=False)
    with pytest.raises(CommitStateUnknownException) as caught:
        WRITES[write](lakehouse)
    monkeypatch.undo()
    assert any("did not land: nothing was written" in note for note in caught.value.__notes__)
    assert head(lakehouse, "silver.t") == before
    assert [r["id"] for r in rows(lakehouse, "SELECT id FROM {silver.t} ORDER BY id")] == [1, 2]


def test_a_new_table_whose_create_landed_unknown_is_created_once(
    lakehouse: Lakehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing_commit(monkeypatch, lakehouse, CommitStateUnknownException("503"), lands=True)
    result = lakehouse.write(arrow(id=[1, 2]), "silver.fresh")
    monkeypatch.undo()
    assert result.created and result.rows == 2
    assert rows(lakehouse, "SELECT count() AS n FROM {silver.fresh}") == [{"n": 2}]


def test_when_the_table_cannot_be_read_the_outcome_is_unknown_and_files_are_kept(
    lakehouse: Lakehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    lakehouse.write(arrow(id=[1, 2], v=["a", "b"]), "silver.t")
    cls = type(lakehouse.catalog)
    real_load = cls.load_table

    def unreachable() -> None:
        def load_table(catalog: Any, *args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("the catalog is unreachable")

        monkeypatch.setattr(cls, "load_table", load_table)

    failing_commit(monkeypatch, lakehouse, CommitStateUnknownException("503"), lands=True, then=unreachable)
    with pytest.raises(CommitOutcomeUnknown, match=r"cannot be told now.*files are kept.*ice_history"):
        lakehouse.write(arrow(id=[3], v=["c"]), "silver.t")
    monkeypatch.setattr(cls, "load_table", real_load)
    monkeypatch.undo()
    # it had landed: the table points at files that all exist
    assert [r["id"] for r in rows(lakehouse, "SELECT id FROM {silver.t} ORDER BY id")] == [1, 2, 3]
    _files_exist(lakehouse, "silver.t")
