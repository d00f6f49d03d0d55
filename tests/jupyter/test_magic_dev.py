"""``%rat_dev`` mirrors ``rat.dev_*`` in a notebook."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError

from ratatouille import rat
from tests.jupyter.conftest import run_cell


def test_dev_flow(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    rat.ice_ingest_df(pd.DataFrame({"id": [1, 2], "qty": [1, 2]}), "bronze.sales")
    run_cell(shell, "%rat_dev start feature/x")
    assert "dev branch 'feature/x' active" in capsys.readouterr().out
    run_cell(
        shell, "%%rat_sql target=silver.sales merge_keys=id\nSELECT id, qty * 2 AS total FROM {bronze.sales}"
    )
    status = run_cell(shell, "%rat_dev")
    assert status.table.tolist() == ["silver.sales"]
    assert rat.df("silver.sales@main").empty  # created on the branch only
    diff = run_cell(shell, "%rat_dev diff silver.sales")
    assert diff.added == 2
    branches = run_cell(shell, "%rat_dev branches")
    assert branches.branch.tolist() == ["feature/x"]
    run_cell(shell, "%rat_dev merge")
    assert "published 'feature/x'" in capsys.readouterr().out
    run_cell(shell, "%rat_dev main")
    assert rat.session.branch == "main"
    assert sorted(rat.df("silver.sales").total) == [2, 4]
    run_cell(shell, "%rat_dev drop feature/x")
    assert run_cell(shell, "%rat_dev branches").empty


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("%rat_dev start main", "main"),
        ("%rat_dev start", "usage"),
        ("%rat_dev merge", "no dev branch is active"),
        ("%rat_dev merge --force", "unknown flag"),
        ("%rat_dev frobnicate", "unknown command"),
        ("%rat_dev diff", "usage"),
        ("%rat_dev drop nope", "no table has a branch"),
        ("%rat_dev expire days=x", "days= takes a number"),
    ],
)
def test_dev_mistakes_are_one_line(shell: Any, line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        run_cell(shell, line)
