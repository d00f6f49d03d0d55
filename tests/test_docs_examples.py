"""The code blocks of README.md and docs/*.md run as written, page by page, on a fresh lakehouse.

The convention (docs/architecture.md, "Documentation examples", points here):

* Fenced blocks run in the page's order. A ```python block is a notebook cell: all the blocks of a page
  run in one IPython shell with ``%load_ext ratatouille`` done, so magics (``%rat_ingest``,
  ``%%rat_sql``...) work and variables carry over. A ```sql block whose first line is a cell magic
  (``%%rat_sql``) is a cell too. In a ```bash (or ```sh) block, each line that starts with ``rat `` is
  run through the command line on the same lakehouse; other lines (``make``, ``docker``...) are not run.
* Each page starts on a fresh embedded lakehouse (``rat`` is connected to it) in an empty working folder.
* A block that is not meant to run says so in its info string: ```python no-run (pseudo-code, output,
  a server or a service the test does not have). Blocks of other languages (text, toml, json, console,
  none) never run.
* A page whose examples use data they do not make themselves gets it from ``SETUP`` below, run first.
* A ``rat`` line fails on an exception or a status other than 0, except a ``--check`` line, which may
  report findings with status 1.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ratatouille import rat
from ratatouille.cli import run

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
NO_RUN = "no-run"


@dataclass(frozen=True)
class Block:
    """A fenced code block: its first line's number (1-based), language, other info words, and text."""

    line: int
    language: str
    flags: tuple[str, ...]
    code: str

    @property
    def runs(self) -> bool:
        if NO_RUN in self.flags:
            return False
        if self.language == "python":
            return True
        if self.language == "sql":
            return self.code.lstrip().startswith("%%")
        return self.language in ("bash", "sh")


def fenced_blocks(text: str) -> list[Block]:
    """The fenced blocks of a Markdown text (``` or ~~~, closed by a fence at least as long)."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = re.match(r"^ {0,3}(`{3,}|~{3,})(.*)$", lines[i])
        if opening is None:
            i += 1
            continue
        fence, info = opening.group(1), opening.group(2).split()
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            j += 1
        language = info[0].lower() if info else ""
        blocks.append(Block(i + 2, language, tuple(info[1:]), "\n".join(lines[i + 1 : j]) + "\n"))
        i = j + 1
    return blocks


def _page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


# Data (tables, files) a page's examples read without making it: run before the page's first block, in a
# namespace of its own (a name an example uses is defined by the page itself).
_SALES = """
import pandas as pd
from pathlib import Path

_landing = Path(rat.settings.landing)
_landing.mkdir(parents=True, exist_ok=True)
_sales = pd.DataFrame({
    "id": [1, 2, 3, 4],
    "region": ["north", "south", "east", "west"],
    "price": [10.0, 5.5, 2.0, 3.0],
    "qty": [1, 3, 4, 2],
    "order_ts": [pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")] * 4,
})
"""
_SALES_TABLES = (
    _SALES
    + """
_people = pd.DataFrame({
    "email": [f"a{i}@example.com" for i in range(4)],
    "phone": ["0600000000"] * 4,
    "address": [{"street": "rue A", "city": "Lyon"}] * 4,
})
rat.ice_ingest_df(_sales, "bronze.sales")
rat.ice_ingest_df(pd.concat([_sales, _people], axis=1), "silver.sales")
rat.transform("SELECT *, price * qty AS total FROM {silver.sales}", "silver.sales")
"""
)
_SALES_FILES = (
    _SALES
    + """
_sales[["id", "price", "qty"]].to_excel(_landing / "data.xlsx", index=False)
_sales.to_excel(_landing / "sales.xlsx", sheet_name="Data", index=False)
"""
)
_EVENTS = """
import pandas as pd
from pathlib import Path

_events = pd.DataFrame({
    "id": range(6),
    "user_id": [42, 43, 44, 42, 43, 44],
    "email": ["A@example.com"] * 6,
    "kind": ["click", "view", "buy"] * 2,
    "event_ts": pd.date_range("2024-03-04", periods=6, freq="12h"),
})
_events["ts"] = _events["event_ts"]
_folder = Path(rat.settings.landing) / "events"
_folder.mkdir(parents=True)
_events.iloc[:3].to_csv(_folder / "2024-03-04.csv", index=False)
_events.iloc[3:].to_csv(_folder / "2024-03-05.csv", index=False)
"""
_EVENTS_TABLES = (
    _EVENTS
    + """
rat.ice_ingest_df(_events, "bronze.events")
rat.ice_ingest_df(
    pd.DataFrame({"id": [1, 2], "name": ["Ana", "Bo"], "updated_at": pd.Timestamp("2024-03-01")}),
    "bronze.customers",
)
"""
)
SETUP: dict[str, str] = {
    "README.md": _SALES_FILES,
    "docs/catalog.md": _SALES_TABLES,
    "docs/checks.md": _SALES_TABLES,
    "docs/dev-mode.md": _SALES_TABLES,
    "docs/ingestion.md": _SALES_FILES
    + """
_sales.to_excel(_landing / "sales_2024-03.xlsx", sheet_name="Data", index=False)
(_landing / "pos").mkdir()
_sales.to_csv(_landing / "pos" / "store_1.csv", index=False)
(_landing / "erp").mkdir()
(_landing / "erp" / "export.txt").write_text("A001   3\\nB002  12\\n", encoding="latin-1")
""",
    "docs/pipelines.md": _SALES_TABLES + _EVENTS_TABLES,
    "docs/tables.md": _EVENTS,
    "docs/magics.md": _SALES_TABLES
    + _SALES_FILES
    + """
Path("data").mkdir()
_sales.to_csv("data/orders_2024.csv", index=False)
""",
}


@pytest.fixture(scope="module")
def ishell(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The process's IPython shell (IPython allows one), history off."""
    import os

    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    os.environ.setdefault("IPYTHONDIR", str(tmp_path_factory.mktemp("ipython")))
    config = Config()
    config.HistoryManager.enabled = False
    return InteractiveShell.instance(config=config, colors="nocolor")


@pytest.fixture
def page_shell(ishell: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``rat`` on a fresh lakehouse, the shell with ``%load_ext ratatouille``, working in ``tmp_path``."""
    from ratatouille_jupyter import load_ipython_extension

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RAT_NOTEBOOK", raising=False)
    session = rat.connect(home=tmp_path / "home")
    before = set(ishell.user_ns)
    ishell.config.pop("RatMagics", None)
    ishell.run_line_magic("load_ext", "ratatouille")
    load_ipython_extension(ishell)  # default options, whatever an earlier page set with %config
    yield ishell
    for name in set(ishell.user_ns) - before:
        del ishell.user_ns[name]
    rat.dev(None)
    session.close()


def _run_cell(shell: Any, code: str, where: str) -> None:
    result = shell.run_cell(code, store_history=False)
    error = result.error_before_exec or result.error_in_exec
    if error is not None:
        raise AssertionError(f"{where}: {type(error).__name__}: {error}") from error


def _run_shell_block(block: Block, where: str) -> None:
    for offset, line in enumerate(block.code.splitlines()):
        if not line.startswith("rat "):
            continue
        argv = shlex.split(line, comments=True)[1:]
        at = f"{where.rsplit(':', 1)[0]}:{block.line + offset}"
        try:
            status = run(argv, rat)
        except Exception as e:
            raise AssertionError(f"{at}: {line}\n{type(e).__name__}: {e}") from e
        allowed = (0, 1) if "--check" in argv else (0,)
        assert status in allowed, f"{at}: {line}\nexit status {status}"


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_page_examples_run(page: Path, page_shell: Any) -> None:
    """Every runnable block of the page, in order, on one fresh lakehouse."""
    name = _page_id(page)
    setup = SETUP.get(name)
    if setup is not None:
        exec(setup, {"rat": rat})
    for block in fenced_blocks(page.read_text(encoding="utf-8")):
        if not block.runs:
            continue
        where = f"{name}:{block.line}"
        if block.language in ("bash", "sh"):
            _run_shell_block(block, where)
        else:
            _run_cell(page_shell, block.code, where)


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


def test_fenced_blocks_reads_info_strings_and_nested_fences() -> None:
    text = (
        "intro\n```python no-run\nx = 1\n```\n"
        "````markdown\n```mermaid\ngraph\n```\n````\n"
        "~~~bash\nrat tables\n~~~\n"
    )
    blocks = fenced_blocks(text)
    assert [(b.line, b.language, b.flags) for b in blocks] == [
        (3, "python", ("no-run",)),
        (6, "markdown", ()),
        (11, "bash", ()),
    ]
    assert blocks[1].code == "```mermaid\ngraph\n```\n"
    assert [b.runs for b in blocks] == [False, False, True]


def test_every_page_with_code_runs_some_of_it() -> None:
    """A parser change that silently ran nothing would pass every page: count what runs."""
    runnable = {_page_id(p): sum(b.runs for b in fenced_blocks(p.read_text(encoding="utf-8"))) for p in PAGES}
    assert runnable["docs/getting-started.md"] >= 2 and runnable["docs/magics.md"] >= 10
    assert sum(runnable.values()) >= 40


def test_code_is_not_hidden_in_blocks_without_a_language() -> None:
    """A notebook example in a block without a language would never run: it must say ```python."""
    looks_like_code = re.compile(r"^(%|rat\.|from ratatouille|import )", re.M)
    hidden = [
        f"{_page_id(page)}:{block.line}"
        for page in PAGES
        for block in fenced_blocks(page.read_text(encoding="utf-8"))
        if block.language == "" and looks_like_code.search(block.code)
    ]
    assert not hidden, f"blocks of code without a language (write ```python, or ```python no-run): {hidden}"
