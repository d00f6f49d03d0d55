"""File pruning: which conditions of a query tell, for sure, that a data file holds no row it reads.

A reference ``{ns.t}`` is read through the list of its snapshot's data files. When the query filters
the reference's rows with simple conditions (see :mod:`ratatouille.sql.conditions`), they become an
Iceberg row filter, and Iceberg's planning drops the files whose partition values or column
statistics (min / max / null counts) show that no row can match. The engine still applies the whole
WHERE to the files it reads: the filter only has to hold for every row the query keeps, never the
other way round. So anything not proven (an unknown column, a type that compares differently in
ClickHouse and Iceberg, an alias that shadows a column, an outer join) reads all files.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..sqltext import find_placeholders, substitute
from .conditions import Cond, all_of, any_of, condition
from .iceberg_filter import table_filter

if TYPE_CHECKING:
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.schema import Schema
    from sqlglot import exp

_ENABLED: contextvars.ContextVar[bool] = contextvars.ContextVar("ratatouille_pruning", default=True)
_MARKER = "__rat_ref_"

__all__ = ["predicate_filter", "pruning_disabled", "pruning_enabled", "reference_filters", "table_filter"]


@contextmanager
def pruning_disabled() -> Iterator[None]:
    """Read every data file of each reference inside the block (benchmarks, result comparisons)."""
    token = _ENABLED.set(False)
    try:
        yield
    finally:
        _ENABLED.reset(token)


def pruning_enabled() -> bool:
    """False inside :func:`pruning_disabled`."""
    return _ENABLED.get()


# -- SQL text -> conditions per reference ---------------------------------------------------------------


def reference_filters(sql: str) -> dict[str, Cond | None]:
    """The condition every row read through each ``{ns.t}`` reference of ``sql`` satisfies.

    Keys are the references as written (``str(TableRef)``); None means "nothing known: read all files".
    A reference written several times gets the ``OR`` of its uses, so one file list serves them all.
    The analysis is cached per SQL text.

    Args:
        sql: SQL with ``{ns.t}`` references, as the user wrote it.
    """
    return dict(_reference_filters(sql))


@functools.lru_cache(maxsize=256)
def _reference_filters(sql: str) -> tuple[tuple[str, Cond | None], ...]:
    found = [f for f in find_placeholders(sql) if f.table is not None]
    keys = [str(f.table) for f in found]
    if not found:
        return ()
    marker = _MARKER
    while marker in sql:  # the stand-in names can never be names of the query itself
        marker = "_" + marker
    index = {f.start: i for i, f in enumerate(found)}
    text = substitute(sql, found, lambda f: f"{marker}{index[f.start]}")
    uses: dict[int, Cond | None] = {}
    try:
        uses = _use_conditions(text, marker, strings="\\" not in sql)
    except Exception:  # a query sqlglot cannot read is read whole, never refused here
        uses = {}
    per_key: dict[str, list[Cond | None]] = {}
    for i, key in enumerate(keys):
        per_key.setdefault(key, []).append(uses.get(i))
    return tuple((key, any_of(conds)) for key, conds in per_key.items())


def _use_conditions(text: str, marker: str, strings: bool) -> dict[int, Cond | None]:
    """Conditions per use (the n-th placeholder) of the SQL where placeholders became ``marker<n>``."""
    import sqlglot
    from sqlglot import exp

    statements = sqlglot.parse(text, read="clickhouse")
    if len(statements) != 1 or statements[0] is None:
        return {}
    tree = statements[0]
    expression_names, table_names = _names_other_than_columns(tree)
    shadowing = expression_names | table_names
    uses: dict[int, Cond | None] = {}
    for select in tree.find_all(exp.Select):
        from_ = select.args.get("from_") or select.args.get("from")
        if from_ is None:
            continue
        joins: list[exp.Join] = list(select.args.get("joins") or [])
        sources = [from_.this, *(j.this for j in joins)]
        for position, source in enumerate(sources):
            use = _use_index(source, marker)
            if use is None or not _join_keeps_filter(joins, position):
                continue
            table_alias = source.args.get("alias")
            alias = _name(table_alias.this, strings) if table_alias is not None else None
            sole = len(sources) == 1

            def column_of(col: exp.Column, alias: str | None = alias, sole: bool = sole) -> str | None:
                name = _name(col.this, strings)
                if name is None or col.args.get("db") or col.args.get("catalog"):
                    return None
                if col.args.get("table"):
                    # A qualified column names the table's column even where an alias has its name,
                    # unless an expression has the table's alias as its own.
                    qualifier = _name(col.args["table"], strings)
                    return (
                        name
                        if alias is not None and qualifier == alias and alias not in expression_names
                        else None
                    )
                # ClickHouse lets an alias of the query shadow a column: such a name may be anything.
                return name if sole and name not in shadowing else None

            clauses = [select.args.get("prewhere"), select.args.get("where")]
            uses[use] = all_of(condition(c.this, column_of, strings) for c in clauses if c is not None)
    return uses


def _name(node: exp.Expr | None, strings: bool) -> str | None:
    """The name of an identifier, or None.

    None too for a quoted name when the SQL has backslash escapes: ClickHouse and sqlglot may not
    decode them alike.
    """
    from sqlglot import exp

    if type(node) is not exp.Identifier or (node.quoted and not strings):
        return None
    return str(node.this)


def _use_index(source: exp.Expr, marker: str) -> int | None:
    from sqlglot import exp

    if type(source) is not exp.Table or any(k not in ("this", "alias") for k, v in source.args.items() if v):
        return None  # FINAL, SAMPLE, a database prefix...: not a plain use
    alias = source.args.get("alias")
    if alias is not None and alias.args.get("columns"):
        return None
    name = source.name
    if not name.startswith(marker) or not name[len(marker) :].isdigit():
        return None
    return int(name[len(marker) :])


def _join_keeps_filter(joins: list[exp.Join], position: int) -> bool:
    """True when a WHERE on the source at ``position`` (0: FROM) only drops rows of that source.

    Inner and cross joins, and LEFT joins whose preserved side is this (FROM) source. Not outer joins
    on its nullable side (ClickHouse fills unmatched rows with defaults, which a WHERE may keep), nor
    ANY / ASOF / SEMI / ANTI / ARRAY / GLOBAL / PASTE joins, whose rows depend on which rows are read.
    """
    for join in joins:
        if any(k not in ("this", "on", "using", "side", "kind") for k, v in join.args.items() if v):
            return False
        side, kind = str(join.side or "").upper(), str(join.kind or "").upper()
        if side == "" and kind in ("", "INNER", "CROSS"):
            continue
        if side == "LEFT" and kind in ("", "OUTER") and position == 0:
            continue
        return False
    return True


def _names_other_than_columns(tree: exp.Expr) -> tuple[set[str], set[str]]:
    """Names a column reference could resolve to instead of a table's column.

    Returns the names of expressions (aliases, CTEs, lambda parameters, alias column lists) and the
    names of tables (their aliases). ClickHouse resolves an unqualified name to an expression alias
    before a column, and ``t.c`` to the element ``c`` of an expression aliased ``t``.
    """
    from sqlglot import exp

    expressions: set[str] = set()
    tables: set[str] = set()
    for node in tree.find_all(exp.Alias, exp.TableAlias, exp.Lambda):
        if isinstance(node, exp.Alias):
            expressions.add(node.alias)
        elif isinstance(node, exp.TableAlias):
            (expressions if isinstance(node.parent, exp.CTE) else tables).add(node.name)
            expressions.update(c.name for c in node.args.get("columns") or [])
        else:
            expressions.update(p.name for p in node.expressions)
    return expressions, tables


def predicate_filter(
    predicate: str, schema: Schema, table_schemas: Sequence[Schema] = ()
) -> BooleanExpression:
    """An Iceberg filter true of every row for which a bare SQL predicate over the table is true.

    The predicate is what follows ``WHERE`` (as in ``DELETE WHERE user_id IN (42, 43)``), its columns
    unqualified. The filter is a superset: it selects the files that may hold matching rows (AlwaysTrue
    when nothing is proven), so it is for pruning only, never to delete rows by itself.

    Args:
        predicate: A boolean ClickHouse SQL expression.
        schema: The table's schema.
        table_schemas: All schemas of the table (a column promoted in them is only used for
            ``IS [NOT] NULL``).
    """
    from pyiceberg.expressions import AlwaysTrue

    try:
        cond = _predicate_condition(predicate)
    except Exception:  # unreadable means unproven: no pruning
        return AlwaysTrue()
    return table_filter(cond, schema, table_schemas, schema)


@functools.lru_cache(maxsize=256)
def _predicate_condition(predicate: str) -> Cond | None:
    import sqlglot
    from sqlglot import exp

    statements = sqlglot.parse(predicate, read="clickhouse")
    if len(statements) != 1 or statements[0] is None:
        return None
    node = statements[0]
    if isinstance(node, exp.Query) or any(True for _ in node.find_all(exp.Query)):
        return None  # a subquery is not a condition on the table's columns

    escapes = "\\" in predicate
    expression_names, _ = _names_other_than_columns(node)  # ClickHouse allows `(a + 1) AS b` anywhere

    def column_of(col: exp.Column) -> str | None:
        plain = not (col.args.get("table") or col.args.get("db") or col.args.get("catalog"))
        name = _name(col.this, not escapes) if plain else None
        return name if name not in expression_names else None

    return condition(node, column_of, strings=not escapes)
