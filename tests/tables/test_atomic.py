"""Several tables committed as one: all land or none, under conflicts, taken names and a killed process."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from pyiceberg.exceptions import CommitFailedException, TableAlreadyExistsError

from ratatouille.session import Lakehouse
from ratatouille.tables.atomic import TableCommit, commit_together, ref_commit, supports_atomic
from tests.helpers import arrow, head, settings_env

TABLES = ["silver.a", "silver.b", "silver.c"]


def _branch_everything(lh: Lakehouse) -> dict[str, tuple[int, int]]:
    """Each table with one snapshot on main and one more on branch ``b``: (main head, branch head)."""
    out = {}
    for t in TABLES:
        lh.write(arrow(id=[1]), t)
    lh.use_branch("b")
    for t in TABLES:
        lh.write(arrow(id=[2]), t)
    lh.use_branch(None)
    for t in TABLES:
        main, branch = head(lh, t), head(lh, t, "b")
        assert main is not None and branch is not None
        out[t] = (main, branch)
    return out


def _moves(lh: Lakehouse, heads: dict[str, tuple[int, int]]) -> list[TableCommit]:
    return [ref_commit(lh.catalog.load_table(t), "main", b, expected=m) for t, (m, b) in heads.items()]


def test_sql_catalogs_commit_several_tables_in_one_transaction(lakehouse: Lakehouse) -> None:
    assert supports_atomic(lakehouse.catalog)
    heads = _branch_everything(lakehouse)
    assert commit_together(lakehouse.catalog, _moves(lakehouse, heads))
    assert {t: head(lakehouse, t) for t in TABLES} == {t: b for t, (_, b) in heads.items()}


def test_a_concurrent_commit_to_one_table_leaves_every_table_as_it_was(lakehouse: Lakehouse) -> None:
    heads = _branch_everything(lakehouse)
    moves = _moves(lakehouse, heads)
    other = Lakehouse(lakehouse.settings)
    other.use_branch("side")  # a commit on another ref of silver.c: its metadata location moves
    other.write(arrow(id=[3]), "silver.c")
    other.close()
    with pytest.raises(CommitFailedException):
        commit_together(lakehouse.catalog, moves)
    assert {t: head(lakehouse, t) for t in TABLES} == {t: m for t, (m, _) in heads.items()}


def test_a_failed_requirement_changes_nothing(lakehouse: Lakehouse) -> None:
    heads = _branch_everything(lakehouse)
    (ma, ba), (mb, bb) = heads["silver.a"], heads["silver.b"]
    moves = [
        ref_commit(lakehouse.catalog.load_table("silver.a"), "main", ba, expected=ma),
        ref_commit(lakehouse.catalog.load_table("silver.b"), "main", bb, expected=bb),  # main is not there
    ]
    with pytest.raises(CommitFailedException):
        commit_together(lakehouse.catalog, moves)
    assert head(lakehouse, "silver.a") == ma and head(lakehouse, "silver.b") == mb


def test_a_rename_lands_with_the_other_tables_or_not_at_all(lakehouse: Lakehouse) -> None:
    heads = _branch_everything(lakehouse)
    lakehouse.write(arrow(id=[9]), "staged.new_one")
    lakehouse.write(arrow(id=[9]), "gold.taken")
    staged = lakehouse.catalog.load_table("staged.new_one")
    lakehouse.catalog.create_namespace_if_not_exists("gold")

    taken = [*_moves(lakehouse, heads), TableCommit(staged, (), (), rename_to=("gold", "taken"))]
    with pytest.raises(TableAlreadyExistsError):
        commit_together(lakehouse.catalog, taken)
    assert {t: head(lakehouse, t) for t in TABLES} == {t: m for t, (m, _) in heads.items()}
    assert lakehouse.catalog.table_exists("staged.new_one")

    free = [*_moves(lakehouse, heads), TableCommit(staged, (), (), rename_to=("gold", "fresh"))]
    assert commit_together(lakehouse.catalog, free)
    assert {t: head(lakehouse, t) for t in TABLES} == {t: b for t, (_, b) in heads.items()}
    assert not lakehouse.catalog.table_exists("staged.new_one")
    assert lakehouse.query_arrow("SELECT id FROM {gold.fresh}").to_pylist() == [{"id": 9}]


KILLED = textwrap.dedent(
    """
    import json, os, signal, sys
    from sqlalchemy.orm import Session
    from ratatouille.session import Lakehouse
    from ratatouille.tables.atomic import commit_together, ref_commit

    heads = json.loads(sys.argv[1])
    lh = Lakehouse()
    moves = [ref_commit(lh.catalog.load_table(t), "main", b, expected=m) for t, (m, b) in heads.items()]
    real = Session.execute
    calls = []

    def execute(self, *args, **kwargs):
        result = real(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == 2:  # two of three pointers updated, not committed: the process dies
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    Session.execute = execute
    commit_together(lh.catalog, moves)
    """
)


def test_a_process_killed_between_two_tables_changes_none(lakehouse: Lakehouse) -> None:
    import json

    heads = _branch_everything(lakehouse)
    env = settings_env(lakehouse.settings)
    proc = subprocess.run([sys.executable, "-c", KILLED, json.dumps(heads)], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert {t: head(lakehouse, t) for t in TABLES} == {t: m for t, (m, _) in heads.items()}
    # and the catalog is not left locked: the same move succeeds afterwards
    assert commit_together(lakehouse.catalog, _moves(lakehouse, heads))
    assert {t: head(lakehouse, t) for t in TABLES} == {t: b for t, (_, b) in heads.items()}
