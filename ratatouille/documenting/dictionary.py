"""The data dictionary: Markdown pages made from the tables' own documentation, and its checks.

``write_dictionary`` writes ``<out>/<namespace>.md`` (every table of the namespace: description, owner,
tags, freshness and a column table with descriptions and PII badges) and ``<out>/README.md`` (an index).
Given the lineage (table -> the tables it is made from), each namespace page opens with a Mermaid diagram
of its tables and their upstream and downstream edges.
``check_dictionary`` lists what a reviewer would ask for: tables without a description, and columns
whose name looks like personal data (:data:`PII_HINTS`) but that are not marked as PII.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .tabledoc import TableDoc, describe

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

#: Words of a column name that suggest personal data. A name is split into words at ``_``, ``-``, ``.``
#: and camelCase; a column is suspect when one of its words starts with one of these (``email``,
#: ``emailAddress``, ``phone_number``, ``birthdate``, ``home_address``), or, for the short ones in
#: :data:`PII_EXACT`, is exactly it (``ip`` but not ``zip``).
PII_HINTS = ("email", "phone", "mobile", "address", "birth", "passport", "surname", "firstname",
             "lastname", "fullname")  # fmt: skip
PII_EXACT = ("ip", "ssn", "dob", "iban")
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def looks_like_pii(column: str) -> bool:
    """True when a column's name suggests personal data (see :data:`PII_HINTS`)."""
    words = [w.lower() for w in _WORDS.findall(column.rsplit(".", 1)[-1])]
    joined = [a + b for a, b in itertools.pairwise(words)]  # first_name -> firstname
    return any(w in PII_EXACT or w.startswith(PII_HINTS) for w in [*words, *joined])


@dataclass(frozen=True)
class Problem:
    """One thing the data dictionary lacks.

    Attributes:
        table: ``namespace.table``.
        column: The column concerned, or None for the table.
        message: What is missing.
    """

    table: str
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.table if self.column is None else f"{self.table}.{self.column}"
        return f"{where}: {self.message}"


def _open(source: Any) -> tuple[Catalog, str | None]:
    """A catalog and branch from a session (``Lakehouse``, or anything with ``.catalog``) or a catalog."""
    catalog = getattr(source, "catalog", None)
    if catalog is not None and not isinstance(catalog, str):
        return catalog, getattr(source, "branch", None)
    return source, None


def documented_tables(source: Any) -> dict[str, list[TableDoc]]:
    """``{namespace: [TableDoc]}`` for every table (sorted), as the session's branch sees them."""
    from ..catalog import list_namespaces, list_tables

    catalog, branch = _open(source)
    out: dict[str, list[TableDoc]] = {}
    for ns in list_namespaces(catalog, branch):
        out[ns] = [describe(catalog, f"{ns}.{name}", branch) for name in list_tables(catalog, ns, branch)]
    return out


def check_dictionary(source: Any) -> list[Problem]:
    """What the tables' documentation lacks: descriptions, and PII marks on columns that look like PII.

    Args:
        source: A session (``Lakehouse``) or a pyiceberg catalog.
    """
    problems: list[Problem] = []
    for docs in documented_tables(source).values():
        for doc in docs:
            problems.extend(table_problems(doc))
    return problems


def table_problems(doc: TableDoc) -> list[Problem]:
    """The problems of one table's documentation."""
    problems = []
    if not doc.description:
        problems.append(
            Problem(doc.identifier, None, "no description (rat.ice_document(..., description=...))")
        )
    for column in doc.columns:
        if not column.pii and looks_like_pii(column.name):
            problems.append(
                Problem(
                    doc.identifier, column.name, "looks like personal data but is not marked PII (pii=[...])"
                )
            )
    return problems


def write_dictionary(
    source: Any, out_dir: str | Path, lineage: Mapping[str, Iterable[str]] | None = None
) -> list[Path]:
    """Write one Markdown page per namespace and an index ``README.md``; return the paths written.

    Args:
        source: A session (``Lakehouse``) or a pyiceberg catalog.
        out_dir: The folder (created when missing); pages already there are replaced.
        lineage: ``ns.t`` -> the tables it is made from (``rat docs`` takes it from the pipelines); each
            namespace page with an edge gets a Mermaid diagram of them.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = documented_tables(source)
    edges = lineage_edges(lineage or {})
    written = []
    for ns, docs in tables.items():
        path = out / f"{ns}.md"
        path.write_text(namespace_page(ns, docs, edges), encoding="utf-8")
        written.append(path)
    index = out / "README.md"
    index.write_text(index_page(tables), encoding="utf-8")
    return [*written, index]


_NOTE = "_Written by `rat docs` from the tables' own documentation: change it there, not here._"


def index_page(tables: dict[str, list[TableDoc]]) -> str:
    """The index: one row per table, linking to its namespace page."""
    lines = ["# Data dictionary", "", _NOTE, ""]
    if not any(tables.values()):
        return "\n".join([*lines, "The lakehouse has no tables yet.", ""])
    lines += ["| table | description | owner | rows | updated |", "|---|---|---|---|---|"]
    for ns, docs in tables.items():
        for doc in docs:
            link = f"[{doc.identifier}]({ns}.md#{_anchor(doc.identifier)})"
            lines.append(
                f"| {link} | {_cell(_first_line(doc.description))} | {_cell(doc.owner)} | "
                f"{_rows(doc)} | {_when(doc)} |"
            )
    problems = [p for docs in tables.values() for doc in docs for p in table_problems(doc)]
    if problems:
        lines += ["", f"{len(problems)} documentation problem(s): `rat docs --check` lists them."]
    return "\n".join([*lines, ""])


def lineage_edges(lineage: Mapping[str, Iterable[str]]) -> list[tuple[str, str]]:
    """``(upstream, downstream)`` pairs of a lineage mapping, sorted, without duplicates or self-loops."""
    return sorted(
        {(str(up), str(down)) for down, ups in lineage.items() for up in ups if str(up) != str(down)}
    )


def lineage_diagram(namespace: str, edges: Iterable[tuple[str, str]]) -> str | None:
    """A Mermaid flowchart of the edges that touch ``namespace``'s tables (None when there are none).

    Tables of other namespaces are drawn dashed; node ids are sanitized, labels are the quoted names.
    """

    def ours(table: str) -> bool:
        return table.rsplit(".", 1)[0] == namespace

    shown = [(up, down) for up, down in edges if ours(up) or ours(down)]
    if not shown:
        return None
    ids: dict[str, str] = {}
    for table in sorted({t for edge in shown for t in edge}):
        ids[table] = _node_id(table, set(ids.values()))
    lines = ["```mermaid", "flowchart LR"]
    lines += [f'    {node}["{_label(table)}"]' for table, node in ids.items()]
    lines += [f"    {ids[up]} --> {ids[down]}" for up, down in shown]
    others = [node for table, node in ids.items() if not ours(table)]
    if others:
        lines.append("    classDef other stroke-dasharray: 4 4")
        lines.append(f"    class {','.join(others)} other")
    return "\n".join([*lines, "```"])


def _node_id(table: str, taken: set[str]) -> str:
    """A Mermaid-safe node id for a table name (``bronze.x`` -> ``bronze_x``), unique among ``taken``."""
    base = re.sub(r"[^A-Za-z0-9_]", "_", table) or "t"
    if not base[0].isalpha():
        base = f"t_{base}"
    if base in ("end", "graph", "subgraph", "flowchart", "class", "classDef", "style", "click"):
        base = f"t_{base}"
    node, n = base, 2
    while node in taken:
        node, n = f"{base}_{n}", n + 1
    return node


def _label(text: str) -> str:
    """Text for a quoted Mermaid label."""
    return text.replace('"', "#quot;")


def namespace_page(namespace: str, docs: list[TableDoc], edges: Iterable[tuple[str, str]] = ()) -> str:
    """The page of one namespace: its lineage diagram (when edges touch it), every table's documentation."""
    lines = [f"# {namespace}", "", _NOTE, ""]
    diagram = lineage_diagram(namespace, edges)
    if diagram is not None:
        lines += ["## Lineage", "", diagram, ""]
    if not docs:
        lines.append("No tables.")
    for doc in docs:
        lines += [f"## {doc.identifier}", "", doc.description or "_No description._", ""]
        lines += ["| | |", "|---|---|"]
        lines.append(f"| owner | {_cell(doc.owner) or '—'} |")
        lines.append(f"| tags | {', '.join(f'`{t}`' for t in doc.tags) or '—'} |")
        lines.append(f"| rows | {_rows(doc)} |")
        snapshot = f" (snapshot {doc.snapshot_id})" if doc.snapshot_id is not None else ""
        lines.append(f"| updated | {_when(doc)}{snapshot} |")
        lines += ["", "| column | type | description | PII |", "|---|---|---|---|"]
        for c in doc.columns:
            badge = "**PII**" if c.pii else ""
            lines.append(f"| `{c.name}` | `{_cell(c.type)}` | {_cell(c.doc)} | {badge} |")
        lines.append("")
    return "\n".join([*lines, ""]).rstrip("\n") + "\n"


def _cell(text: str | None) -> str:
    """Text for one Markdown table cell: pipes escaped, lines joined."""
    if not text:
        return ""
    return "<br>".join(text.replace("|", "\\|").splitlines())


def _first_line(text: str | None) -> str | None:
    return text.strip().splitlines()[0] if text and text.strip() else None


def _rows(doc: TableDoc) -> str:
    return "—" if doc.rows is None else f"{doc.rows:,}"


def _when(doc: TableDoc) -> str:
    return "never written" if doc.updated is None else doc.updated.strftime("%Y-%m-%d %H:%M:%S UTC")


def _anchor(title: str) -> str:
    """The anchor GitHub-style renderers give a ``## title`` heading."""
    return re.sub(r"[^a-z0-9 _-]", "", title.lower()).replace(" ", "-")
