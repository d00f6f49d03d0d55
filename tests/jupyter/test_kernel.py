"""The same flows in a real kernel: notebooks run by nbclient, interrupt and completion over the wire.

Kernels inherit the test's environment: each test points ``RAT_HOME`` at a fresh folder.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.jupyter.conftest import kernel_env

pytestmark = pytest.mark.timeout(180)
TIMES = "\u00d7"


def make_notebook(*cells: str | tuple[str, list[str]]) -> Any:
    """A notebook of code cells; a ``(source, tags)`` pair tags its cell."""
    from nbformat.v4 import new_code_cell, new_notebook

    nb_cells = []
    for cell in cells:
        source, tags = cell if isinstance(cell, tuple) else (cell, [])
        nb_cells.append(new_code_cell(source, metadata={"tags": tags} if tags else {}))
    return new_notebook(
        cells=nb_cells,
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )


def execute(nb: Any, cwd: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """Run a notebook in a fresh kernel (cells tagged raises-exception may fail; others must not)."""
    from nbclient import NotebookClient

    for key, value in kernel_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("RAT_NOTEBOOK", raising=False)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    ).execute()
    return nb


def outputs(cell: Any, kind: str) -> list[Any]:
    return [o for o in cell.outputs if o.output_type == kind]


def text_of(cell: Any) -> str:
    parts = []
    for o in cell.outputs:
        if o.output_type == "stream":
            parts.append(o.text)
        elif "data" in o:
            parts.append(o.data.get("text/plain", ""))
        elif o.output_type == "error":
            parts.append(f"{o.ename}: {o.evalue}")
    return "\n".join(parts)


def test_magic_flows_in_a_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "raw.csv").write_text("id,name\n1,Ada\n2,O'Hara\n")
    nb = make_notebook(
        "%load_ext ratatouille\n%config RatMagics.notebook = 'flows.ipynb'",
        "import pandas as pd\n"
        "rat.ice_ingest_df(pd.DataFrame({'id': [1, 2, 3], 'region': ['n', 's', 'n'],\n"
        "    'price': [2.0, 1.0, 4.0], 'qty': [1, 0, 5]}), 'bronze.sales')",
        "min_qty = 1\nevil = \"x' OR '1'='1\"",
        "%%rat_sql target=silver.sales merge_keys=id\n"
        "SELECT *, price * qty AS total FROM {bronze.sales} WHERE qty >= {min_qty}",
        "%%rat_sql name=top\n"
        "SELECT region, sum(total) AS revenue FROM {silver.sales} GROUP BY region ORDER BY revenue DESC",
        "%rat_sql SELECT count() AS n FROM {bronze.sales} WHERE region = {evil}",
        "assert _sqldf.n[0] == 0 and list(top.region) == ['n'] and top.revenue[0] == 22.0",
        ("%%rat_sql\nSELECT * FROM {silver.nope}", ["raises-exception"]),
        ("%%rat_sql\nSELECT region\nFROM {silver.sales}\nWHERE totl > 1", ["raises-exception"]),
        ("%%rat_sql tagret=gold.x\nSELECT 1", ["raises-exception"]),
        "%rat_ingest raw.csv bronze.people",
        "%rat_history silver.sales",
        "%rat_tables",
        "h = rat.ice_history('silver.sales')\nprint(h.notebook.iloc[-1], h.cell.iloc[-1])",
    )
    nb = execute(nb, tmp_path, monkeypatch, tmp_path)
    cells = nb.cells
    write = outputs(cells[3], "execute_result")[0].data
    assert write["text/plain"].startswith(
        "merge into silver.sales on main: 2 inserted, 0 updated · snapshot "
    )
    query = outputs(cells[4], "execute_result")[0].data
    assert query["text/plain"].startswith(f"1 row {TIMES} 2 columns (region, revenue)")
    assert "itables" in query["text/html"]
    assert any("text/html" in o.data for o in outputs(cells[4], "display_data"))  # the table library, once
    assert not outputs(cells[5], "display_data")

    # IPython prints a UsageError as one line on stderr (no traceback); the cell still fails.
    errors = [text_of(c) for c in cells[7:10]]
    assert all(e.startswith("UsageError: ") and e.count("\n") == 1 for e in errors), errors
    assert errors[0] == "UsageError: table silver.nope does not exist; did you mean silver.sales?\n"
    assert "[SQL line 3: WHERE totl > 1]" in errors[1]
    assert "did you mean target?" in errors[2]

    assert text_of(cells[10]).startswith("ingested 2 rows from raw.csv into bronze.people on main (append)")
    assert "snapshot_id" in text_of(cells[11])
    assert "silver" in text_of(cells[12]) and "people" in text_of(cells[12])
    assert text_of(cells[13]) == f"flows.ipynb In[{cells[3].execution_count}]\n"


def test_seed_quick_start_typed_into_cells(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    setup = (
        "import pathlib, pandas as pd\n"
        "from ratatouille import rat\n"
        "landing = pathlib.Path(rat.settings.landing)\n"
        "landing.mkdir(parents=True, exist_ok=True)\n"
        "pd.DataFrame({'id': [1, 2, 3], 'price': [10.0, 2.5, 4.0], 'qty': [1, 0, 5]})"
        ".to_excel(landing / 'data.xlsx', index=False)"
    )
    nb = make_notebook(
        setup,
        "from ratatouille import rat\nfrom ibis import _",
        '# Ingest a file to bronze layer\ndf, rows = rat.ice_ingest("landing/data.xlsx", "bronze.my_table")',
        "# Transform with SQL\nrat.transform(\n"
        '    sql="SELECT *, price * qty AS total FROM {bronze.my_table}",\n'
        '    target="silver.my_table",\n'
        '    merge_keys=["id"]\n)',
        "# Or transform with Python (Ibis) - same performance!\n"
        '(rat.t("bronze.my_table")\n'
        "    .filter(_.qty > 0)\n"
        "    .mutate(total=_.price * _.qty)\n"
        '    .to_iceberg("silver.my_table", merge_keys=["id"]))',
        '# Read the result\ndf = rat.df("{silver.my_table}")',
        "assert rows == 3 and sorted(df.id) == [1, 2, 3] and sorted(df.total) == [0.0, 10.0, 20.0]",
    )
    if not _has_ingest():
        pytest.skip("rat.ice_ingest is not there yet")
    nb = execute(nb, tmp_path, monkeypatch, tmp_path)
    assert "'inserted': 3" in text_of(nb.cells[3])
    assert "'updated': 2" in text_of(nb.cells[4])


def test_interrupt_cancels_and_completion_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(tmp_path), env=kernel_env(tmp_path))
    try:
        setup = "%load_ext ratatouille\nimport pandas as pd\n"
        setup += "rat.ice_ingest_df(pd.DataFrame({'a': [1]}), 'bronze.t')"
        reply = kc.execute_interactive(setup, timeout=60)
        assert reply["content"]["status"] == "ok"

        code = "%%rat_sql\nSELECT * FROM {bronze."
        matches = kc.complete(code, len(code), reply=True, timeout=30)["content"]["matches"]
        assert "bronze.t}" in matches

        msg_id = kc.execute("%%rat_sql\nSELECT sum(number) FROM numbers(1000000000000)")
        time.sleep(2.0)
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=30)
        assert reply["parent_header"]["msg_id"] == msg_id and reply["content"]["status"] == "error"
        stderr = ""
        while "UsageError" not in stderr:  # the one-line message of the interrupted cell
            msg = kc.get_iopub_msg(timeout=10)
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
                stderr += msg["content"]["text"]
        assert stderr.startswith("UsageError: cancelled after ") and "the kernel is ready" in stderr

        started = time.perf_counter()
        reply = kc.execute_interactive("%rat_sql SELECT 41 + 1 AS answer", timeout=30)
        assert reply["content"]["status"] == "ok" and time.perf_counter() - started < 10
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _has_ingest() -> bool:
    from ratatouille import rat

    return hasattr(rat, "ice_ingest")


def test_sql_completion_and_inspect_over_the_wire(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """complete_request answers columns with their types (JupyterLab reads ``_jupyter_types_experimental``)
    and inspect_request (Shift+Tab) on a table reference answers its schema.
    """
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(tmp_path), env=kernel_env(tmp_path))
    try:
        setup = "%load_ext ratatouille\nimport pandas as pd\nmin_qty = 2\n"
        setup += "rat.ice_ingest_df(pd.DataFrame({'id': [1], 'region': ['n']}), 'silver.sales')"
        reply = kc.execute_interactive(setup, timeout=60)
        assert reply["content"]["status"] == "ok"

        code = "%%rat_sql\nSELECT re FROM {silver.sales} WHERE id > {min_"
        at = code.index(" FROM")
        content = kc.complete(code, at, reply=True, timeout=30)["content"]
        assert content["matches"][0] == "region"
        assert content["cursor_start"] == at - 2 and content["cursor_end"] == at
        types = {m["text"]: m["type"] for m in content["metadata"]["_jupyter_types_experimental"]}
        assert types["region"] == "column: string"
        content = kc.complete(code.replace("SELECT re", "SELECT rep"), at + 1, reply=True, timeout=30)[
            "content"
        ]
        types = {m["text"]: m["type"] for m in content["metadata"]["_jupyter_types_experimental"]}
        assert types["replaceAll"] == "function"
        content = kc.complete(code, len(code), reply=True, timeout=30)["content"]
        assert content["matches"] == ["min_qty}"]

        content = kc.inspect(code, code.index("sales}") + 2, reply=True, timeout=30)["content"]
        assert content["found"] and content["status"] == "ok"
        assert content["data"]["text/plain"].startswith("silver.sales · 1 row · last snapshot ")
        assert "| `region` | `string` |" in content["data"]["text/markdown"]
        content = kc.inspect("len", 3, reply=True, timeout=30)["content"]  # Python names: IPython's answer
        assert content["found"] and "len" in content["data"]["text/plain"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
