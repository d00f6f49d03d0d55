"""What a notebook reads and writes, found by reading its cells (never by running them).

Writes (each becomes a Dagster asset):

* ``%%rat_sql target=ns.t`` and ``%rat_sql target=ns.t ...``;
* ``%rat_ingest SOURCE ns.t``;
* ``rat.transform(sql, target)``, ``rat.to_iceberg(expr, target)``, ``rat.ice_ingest(src, table)``,
  ``rat.ice_ingest_batch(prefix, table)``, ``rat.ice_ingest_df(df, table)``, ``rat.ice_merge(df, table,
  keys)``, and ``<expression>.to_iceberg(target)`` on any Ibis wrapper.

Reads (each becomes a dependency): every ``{ns.t}`` reference in SQL (a ``%%rat_sql`` body, a ``%rat_sql``
line, and every string literal of Python code), and the table named in ``rat.df``, ``rat.ice_read``,
``rat.t`` and ``rat.ice_time_travel``.

Checks (each becomes a Dagster asset check of its table): ``%rat_check [severity=] [name=] ns.t
shortcuts...``, ``%%rat_check table= severity= name=`` and ``rat.check("...")`` with literal arguments,
named as the run names them (the shortcut as written, ``name=``, or ``sql_<hash of the SQL>``).

A table name given as a string literal, or as a variable assigned a string literal at the top level of
any cell (the ``parameters`` cell included), is found; a name computed at run time (an f-string, a
function call) cannot be, and is reported as a warning naming the cell.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

from ratatouille.errors import InvalidInput
from ratatouille.sqltext import TableRef, find_references

# Method name -> (position, keyword) of the table argument, on ``rat``.
_RAT_WRITES = {
    "transform": (1, "target"),
    "to_iceberg": (1, "target"),
    "ice_ingest": (1, "table"),
    "ice_ingest_batch": (1, "table"),
    "ice_ingest_df": (1, "table"),
    "ice_merge": (1, "table"),
}
_RAT_READS = {"df": (0, "ref"), "ice_read": (0, "table"), "t": (0, "ref"), "ice_time_travel": (0, "table")}
_SQL_MAGIC = "rat_sql"
_INGEST_MAGIC = "rat_ingest"
_CHECK_MAGIC = "rat_check"
# One leading option of a magic line: --flag, key=value, key="quoted value" or key='quoted value'.
_LEADING_OPTION = re.compile(
    r"""\s*(--[A-Za-z_]+|[A-Za-z_]+=(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\S*))(?=\s|$)"""
)


@dataclass
class Lineage:
    """The tables of a notebook.

    Attributes:
        writes: ``ns.t`` -> the 1-based position of the first cell writing it.
        reads: ``ns.t`` -> the 1-based position of the first cell reading it.
        warnings: Things that could not be told statically, each naming its cell.
        checks: ``(ns.t, check name)`` -> its severity, for each data-quality check found.
    """

    writes: dict[str, int] = field(default_factory=dict)
    reads: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    checks: dict[tuple[str, str], str] = field(default_factory=dict)

    def write(self, table: str, cell: int) -> None:
        """Record a write."""
        self.writes.setdefault(table, cell)

    def read(self, table: str, cell: int) -> None:
        """Record a read."""
        self.reads.setdefault(table, cell)

    @property
    def upstream(self) -> list[str]:
        """Tables read and not written by the notebook itself (its dependencies), sorted."""
        return sorted(set(self.reads) - set(self.writes))


def analyse(cells: list[tuple[int, str]]) -> Lineage:
    """Find the tables read and written by code cells ``(1-based position, source)``."""
    from IPython.core.inputtransformer2 import TransformerManager

    transformer = TransformerManager()
    lineage = Lineage()
    parsed: list[tuple[int, ast.Module]] = []
    for position, source in cells:
        try:
            parsed.append((position, ast.parse(transformer.transform_cell(source))))
        except (SyntaxError, ValueError) as e:
            lineage.warnings.append(f"cell {position}: not analysed ({type(e).__name__}: {e})")
    constants = _string_constants(parsed)
    for position, tree in parsed:
        _Visitor(lineage, position, constants, transformer).visit(tree)
    lineage.warnings.sort(key=lambda w: int(w.split(":", 1)[0].removeprefix("cell ")))
    return lineage


def top_level_assignments(tree: ast.Module) -> Iterator[tuple[str, ast.expr]]:
    """``(name, value)`` of each top-level ``name = value`` / ``name: T = value`` of a module, in order."""
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                yield target.id, value


def _string_constants(parsed: list[tuple[int, ast.Module]]) -> dict[str, str]:
    """Top-level ``name = "text"`` assignments of every cell (the first assignment wins)."""
    out: dict[str, str] = {}
    for _, tree in parsed:
        for name, value in top_level_assignments(tree):
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                out.setdefault(name, value.value)
    return out


class _Visitor(ast.NodeVisitor):
    def __init__(
        self, lineage: Lineage, position: int, constants: dict[str, str], transformer: object
    ) -> None:
        self.lineage = lineage
        self.position = position
        self.constants = constants
        self.transformer = transformer

    def warn(self, text: str) -> None:
        self.lineage.warnings.append(f"cell {self.position}: {text}")

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and "{" in node.value:
            self.sql_reads(node.value)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            if _is_ipython(func.value) and func.attr in ("run_line_magic", "run_cell_magic"):
                self.magic(node)
            elif _is_rat(func.value) and func.attr in _RAT_WRITES:
                self.table_arg(node, *_RAT_WRITES[func.attr], write=True, call=f"rat.{func.attr}")
            elif _is_rat(func.value) and func.attr in _RAT_READS:
                self.table_arg(node, *_RAT_READS[func.attr], write=False, call=f"rat.{func.attr}")
            elif _is_rat(func.value) and func.attr == "check":
                self.check_call(node)
            elif func.attr == "to_iceberg":
                self.table_arg(node, 0, "target", write=True, call=".to_iceberg")
        self.generic_visit(node)

    def table_arg(self, node: ast.Call, index: int, keyword: str, *, write: bool, call: str) -> None:
        arg = next((k.value for k in node.keywords if k.arg == keyword), None)
        if arg is None and len(node.args) > index and not isinstance(node.args[index], ast.Starred):
            arg = node.args[index]
        if arg is None:
            return
        text = self.static_string(arg)
        if text is None:
            if write:
                self.warn(f"the table written by {call} is computed at run time: it is not an asset")
            return
        if not write and "{" in text:
            return  # SQL text: its references are read by visit_Constant
        try:
            table = TableRef.parse(text).identifier
        except InvalidInput:
            if write:
                self.warn(f"{call} writes {text!r}, which is not a 'namespace.table' name")
            return
        (self.lineage.write if write else self.lineage.read)(table, self.position)

    def static_string(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return self.constants.get(node.id)
        return None

    def magic(self, node: ast.Call) -> None:
        args = [self.static_string(a) for a in node.args]
        if len(args) < 2 or args[0] is None or args[1] is None:
            return
        name, line = args[0].lstrip("%"), args[1]
        body = args[2] if len(args) > 2 else None
        if name == _SQL_MAGIC:
            self.sql_magic(line, body)
        elif name == _INGEST_MAGIC and body is None:
            self.ingest_magic(line)
        elif name == _CHECK_MAGIC:
            options, rest = _leading_options(line)
            if body is None:
                self.checks(rest, None, options.get("severity", "error"), options.get("name"), "%rat_check")
            else:
                table = options.get("table")
                self.checks(body, table, options.get("severity", "error"), options.get("name"), "%%rat_check")
        elif body is not None:  # %%time, %%capture...: the body is Python of the same cell
            try:
                tree = ast.parse(self.transformer.transform_cell(body))  # type: ignore[attr-defined]
            except (SyntaxError, ValueError):
                return
            self.visit(tree)

    def sql_magic(self, line: str, body: str | None) -> None:
        options, sql = _leading_options(line)
        self.sql_reads(sql if body is None else body)
        target = options.get("target")
        if target:
            try:
                self.lineage.write(TableRef.parse(target).identifier, self.position)
            except InvalidInput:
                self.warn(f"%%rat_sql target={target} is not a 'namespace.table' name")

    def ingest_magic(self, line: str) -> None:
        try:
            words = [w for w in shlex.split(line) if "=" not in w]
        except ValueError:
            words = []
        if len(words) < 2:
            self.warn("%rat_ingest needs SOURCE and TABLE: not an asset")
            return
        try:
            self.lineage.write(TableRef.parse(words[1]).identifier, self.position)
        except InvalidInput:
            self.warn(f"%rat_ingest writes {words[1]!r}, which is not a 'namespace.table' name")

    def check_call(self, node: ast.Call) -> None:
        keywords = {k.arg: self.static_string(k.value) for k in node.keywords if k.arg}
        given = {k.arg for k in node.keywords if k.arg}
        text = self.static_string(node.args[0]) if node.args else keywords.get("spec_or_sql")
        if text is None or any(keywords.get(k) is None for k in given & {"table", "severity", "name"}):
            self.warn("a check of rat.check is computed at run time: it is not a Dagster asset check")
            return
        self.checks(text, keywords.get("table"), keywords.get("severity") or "error", keywords.get("name"),
                    "rat.check")  # fmt: skip

    def checks(self, text: str, table: str | None, severity: str, name: str | None, what: str) -> None:
        from dataclasses import replace

        from ratatouille.checks import looks_like_sql, parse_spec, sql_check

        try:
            if table is not None or looks_like_sql(text):
                found = [sql_check(text, table=table, severity=severity, name=name)]
            else:
                found = parse_spec(text.strip(), severity=severity)
                if name is not None and len(found) == 1:
                    found = [replace(found[0], name=name.strip())]
        except InvalidInput as e:
            self.warn(f"{what}: {e}")
            return
        for check in found:
            self.lineage.checks.setdefault((check.table, check.name), check.severity)

    def sql_reads(self, sql: str) -> None:
        for ref in find_references(sql):
            if ref.namespace != "temp":
                self.lineage.read(ref.identifier, self.position)


def _is_ipython(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "get_ipython"


def _is_rat(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "rat") or (
        isinstance(node, ast.Attribute) and node.attr == "rat"
    )


def _leading_options(line: str) -> tuple[dict[str, str], str]:
    """``key=value`` options at the start of a magic line, and the rest (the SQL of ``%rat_sql``)."""
    options: dict[str, str] = {}
    pos = 0
    while match := _LEADING_OPTION.match(line, pos):
        word = match.group(1)
        if not word.startswith("--"):
            key, _, value = word.partition("=")
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            options[key] = value
        pos = match.end()
    return options, line[pos:]
