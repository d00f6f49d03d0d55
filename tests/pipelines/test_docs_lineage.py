"""``rat docs`` draws each namespace's lineage (from the pipelines' static analysis) as a Mermaid diagram."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from ratatouille.cli import run as rat_cli
from ratatouille.config import Settings
from ratatouille.documenting.dictionary import lineage_diagram, lineage_edges
from ratatouille.sdk import Rat
from ratatouille.session import Lakehouse
from tests.pipelines.notebooks import write_notebook


def test_rat_docs_draws_the_pipelines_lineage(settings: Settings, pipelines: Path, tmp_path: Path) -> None:
    lh = Lakehouse(settings)
    lh.write(pa.table({"id": [1]}), "bronze.x")
    lh.write(pa.table({"id": [1]}), "silver.y")
    lh.write(pa.table({"id": [1]}), "gold.z")
    out = tmp_path / "dict"
    rat = Rat(lh)
    assert rat_cli(["docs", "--out", str(out)], rat) == 0
    assert "mermaid" not in (out / "silver.md").read_text()  # no pipeline, no diagram

    write_notebook(pipelines / "make_y.ipynb", [
        "from ratatouille import rat",
        'rat.transform("SELECT id FROM {bronze.x}", "silver.y")',
    ])  # fmt: skip
    assert rat_cli(["docs", "--out", str(out)], rat) == 0
    silver = (out / "silver.md").read_text()
    assert "## Lineage\n\n```mermaid\nflowchart LR\n" in silver
    assert '    bronze_x["bronze.x"]\n    silver_y["silver.y"]\n    bronze_x --> silver_y\n' in silver
    assert "class bronze_x other" in silver  # another namespace's table: dashed
    assert "bronze_x --> silver_y" in (out / "bronze.md").read_text()  # its downstream edge
    assert "mermaid" not in (out / "gold.md").read_text()
    lh.close()


def test_diagram_ids_are_sanitized_and_unique() -> None:
    edges = lineage_edges({"s.a_b": ["s.a-b", "s.a_b", "x.end"], "s.c": []})
    assert edges == [("s.a-b", "s.a_b"), ("x.end", "s.a_b")]
    diagram = lineage_diagram("s", edges)
    assert diagram is not None
    assert '    s_a_b["s.a-b"]\n    s_a_b_2["s.a_b"]\n    x_end["x.end"]\n' in diagram
    assert "    s_a_b --> s_a_b_2\n    x_end --> s_a_b_2\n" in diagram
    assert lineage_diagram("other", edges) is None
