"""Examples of the README and the docs that a new user copies: they run as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from ratatouille import Rat
from ratatouille.cli import run
from ratatouille.config import Settings
from ratatouille.session import Lakehouse

ROOT = Path(__file__).resolve().parent.parent


def _blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def test_getting_started_runs_as_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The Python block, then every `rat query` of the shell block, on the same lakehouse."""
    page = ROOT / "docs" / "getting-started.md"
    python = next(b for b in _blocks(page, "python") if "rat.ice_ingest_df(sales" in b)
    rat = Rat(Lakehouse(Settings.for_home(tmp_path)))
    exec(python.replace("from ratatouille import rat\n", ""), {"rat": rat})
    queries = [line for b in _blocks(page, "bash") for line in b.splitlines() if line.startswith("rat query")]
    assert queries
    for line in queries:
        assert run(shlex.split(line)[1:], rat) == 0, line
    assert "rows)" in capsys.readouterr().out


def test_readme_defines_the_parameter_it_uses() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    used = set(re.findall(r"\{([a-z_][a-z0-9_]*)\}", text))
    for name in used:
        assert re.search(rf"^{name} = ", text, re.M), f"README uses {{{name}}} without defining {name}"


def test_magics_table_lists_every_magic() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    from ratatouille_jupyter.extension import load_ipython_extension

    shell = InteractiveShell.instance()
    load_ipython_extension(shell)
    registered = {
        name
        for kind in ("line", "cell")
        for name in shell.magics_manager.magics[kind]
        if name.startswith("rat_")
    }
    table = (ROOT / "docs" / "magics.md").read_text(encoding="utf-8").split("\n## ")[0]
    listed = set(re.findall(r"^\| `%%?(rat_[a-z_]+)", table, re.M))
    assert registered == listed


def test_the_quoting_example_of_the_options_is_accepted() -> None:
    from ratatouille_jupyter.magics.options import parse_sql_options, tokenize

    text = (ROOT / "docs" / "magics.md").read_text(encoding="utf-8")
    example = re.search(r"quote values with spaces:\s*`([^`]+)`", text)
    assert example is not None
    options = parse_sql_options(tokenize(example.group(1), "%%rat_sql"))
    assert options.partition_by and len(options.partition_by) == 2
