"""``%rat_ingest``, ``%rat_tables``, ``%rat_history`` in an in-process shell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError

from ratatouille import rat
from ratatouille_jupyter.display import IngestSummary
from tests.jupyter.conftest import run_cell

needs_ingest = pytest.mark.skipif(not hasattr(rat, "ice_ingest"), reason="rat.ice_ingest is not there yet")


@needs_ingest
def test_ingest_a_file_with_provenance(shell: Any, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "sales_2024.csv").write_text('id,region,qty\n1,north,2\n2,"it\'s, south",0\n')
    shell.run_line_magic("config", "RatMagics.notebook = 'ingest.ipynb'")
    # The regex keeps its braces: the magics do not let IPython expand {...} or $names in their line.
    out = run_cell(
        shell,
        "%rat_ingest data/sales_2024.csv bronze.sales name=raw "
        "extract_from_filename='sales_(?P<year>\\d{4})'",
        cell_id="c1",
    )
    assert isinstance(out, IngestSummary)
    assert (out["rows"], out["target"], out["mode"], out["branch"]) == (2, "bronze.sales", "append", "main")
    assert out["snapshot_id"] == int(rat.ice_history("bronze.sales").snapshot_id.iloc[-1])
    line = shell.display_formatter.format(out)[0]["text/plain"]
    assert line.startswith(
        "ingested 2 rows from data/sales_2024.csv into bronze.sales on main (append) · snapshot "
    )
    raw = shell.user_ns["raw"]
    assert isinstance(raw, pd.DataFrame) and raw.region.tolist() == ["north", "it's, south"]
    assert "year" in raw.columns
    history = rat.ice_history("bronze.sales")
    assert history.notebook.iloc[-1] == "ingest.ipynb" and history.cell.iloc[-1].endswith("c1")

    again = shell.run_line_magic("rat_ingest", "data/sales_2024.csv bronze.sales mode=overwrite")
    assert again["mode"] == "overwrite"
    assert len(rat.df("bronze.sales")) == 2


@needs_ingest
def test_ingest_mistakes_are_one_line(shell: Any) -> None:
    with pytest.raises(UsageError) as e:
        shell.run_line_magic("rat_ingest", "missing.csv bronze.sales")
    assert "no file 'missing.csv'" in str(e.value) and "\n" not in str(e.value)


def test_tables_and_history(shell: Any) -> None:
    empty = shell.run_line_magic("rat_tables", "")
    assert list(empty.columns) == ["namespace", "table", "rows", "snapshots", "updated"] and empty.empty
    rat.ice_ingest_df(pd.DataFrame({"id": [1, 2]}), "bronze.a")
    rat.ice_ingest_df(pd.DataFrame({"id": [3]}), "bronze.a")
    rat.ice_ingest_df(pd.DataFrame({"x": [1]}), "silver.b")
    tables = shell.run_line_magic("rat_tables", "")
    assert tables[["namespace", "table", "rows", "snapshots"]].values.tolist() == [
        ["bronze", "a", 3, 2],
        ["silver", "b", 1, 1],
    ]
    assert shell.run_line_magic("rat_tables", "silver").table.tolist() == ["b"]
    history = shell.run_line_magic("rat_history", "bronze.a")
    assert list(history.columns[:3]) == ["snapshot_id", "timestamp", "operation"]
    assert history.total_rows.tolist() == [3, 2]  # newest first


@pytest.mark.parametrize(
    ("magic", "line", "message"),
    [
        ("rat_history", "", "usage: %rat_history namespace.table"),
        ("rat_history", "bronze.a bronze.b", "usage: %rat_history"),
        ("rat_history", "bronze.nope", "table bronze.nope does not exist"),
        ("rat_history", "nonamespace", "invalid table name"),
        ("rat_tables", "a b", "usage: %rat_tables [namespace]"),
        ("rat_tables", "bad-name", "invalid namespace"),
    ],
)
def test_catalog_mistakes(shell: Any, magic: str, line: str, message: str) -> None:
    with pytest.raises(UsageError) as e:
        shell.run_line_magic(magic, line)
    assert message in str(e.value)
