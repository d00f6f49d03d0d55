"""The ``key=value`` options of the magics: parsing and validation, with one-line errors.

Options come before the SQL: on the ``%%rat_sql`` line (the cell body is all SQL), or at the start of a
``%rat_sql`` line (the first token that is not an option starts the SQL). Values may be quoted.
"""

from __future__ import annotations

import difflib
import keyword
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from IPython.core.error import UsageError

from ratatouille.errors import InvalidInput
from ratatouille.sqltext import TableRef, validate_branch_name

WRITE_MODES = ("append", "overwrite", "overwrite_partitions", "merge")
INGEST_MODES = ("append", "overwrite", "overwrite_partitions")
RESULT_TYPES = ("pandas", "arrow")
SQL_OPTIONS = (
    "target", "mode", "merge_keys", "partition_by", "on_rewrite", "branch", "limit", "name", "result",
    "chart", "x", "y", "color",
)  # fmt: skip
CHART_KINDS = ("bar", "line", "area", "scatter", "histogram")  # ratatouille.charts.KINDS
ON_REWRITE = ("error", "full")
SQL_FLAGS = ("preview",)
INGEST_OPTIONS = ("sheet", "mode", "extract_from_filename", "parser", "partition_by", "name")

# One leading option of a line: --flag, key=value, key="quoted value" or key='quoted value'.
_LEADING_OPTION = re.compile(
    r"""\s*(--[A-Za-z_]+|[A-Za-z_]+=(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\S*))(?=\s|$)"""
)


@dataclass
class SQLOptions:
    """Options of one ``%%rat_sql`` / ``%rat_sql`` run.

    Attributes:
        target: ``namespace.table`` to write the result to (None: show the result).
        mode: ``append``, ``overwrite``, ``overwrite_partitions`` or ``merge`` (None: merge with keys,
            else overwrite).
        merge_keys: Key columns of a merge.
        partition_by: Partition terms for a table the write creates (``day(ts),bucket(16,id)``).
        on_rewrite: ``error`` or ``full``: what a ``{ns.t@new}`` read does when its table was rewritten.
        branch: Branch to run on for this cell only.
        limit: Rows to display (None: the session's ``display_limit``).
        name: Variable the result is assigned to.
        result: ``pandas`` or ``arrow`` (None: the session's ``result_type``).
        preview: Show the SQL that would run, without running it.
        chart: Show the result as a chart of this kind (``bar``, ``line``, ``area``, ``scatter``,
            ``histogram``) instead of a table.
        x: The chart's x column.
        y: The chart's y column (summed per x for bar, line and area).
        color: The column splitting the chart's marks by color.
    """

    target: str | None = None
    mode: str | None = None
    merge_keys: list[str] | None = None
    partition_by: list[str] | None = None
    on_rewrite: str | None = None
    branch: str | None = None
    limit: int | None = None
    name: str | None = None
    result: str | None = None
    preview: bool = False
    chart: str | None = None
    x: str | None = None
    y: str | None = None
    color: str | None = None


@dataclass
class IngestOptions:
    """Options of one ``%rat_ingest`` run.

    Attributes:
        source: The file (path, ``landing/...``, URI).
        table: ``namespace.table``.
        name: Variable the ingested DataFrame is assigned to.
        call: Keyword arguments for ``rat.ice_ingest`` (``sheet``, ``mode``, ``parser``... and the rest).
    """

    source: str
    table: str
    name: str | None = None
    call: dict[str, Any] = field(default_factory=dict)


def split_sql_line(line: str) -> tuple[list[str], str]:
    """Split a ``%rat_sql`` line into its leading option tokens and the SQL after them."""
    tokens: list[str] = []
    pos = 0
    while match := _LEADING_OPTION.match(line, pos):
        tokens.append(match.group(1))
        pos = match.end()
    return tokens, line[pos:].strip()


def strip_comment(line: str) -> str:
    """``line`` without its trailing comment: from a ``#`` that starts a word outside quotes, as in a shell.

    ``%rat_tables   # every namespace`` is ``%rat_tables``; ``name="a # b"`` and ``x=a#b`` keep their ``#``.
    """
    quote = ""
    escaped = False
    for i, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line


def tokenize(line: str, what: str) -> list[str]:
    """Split an options line like a shell would (quotes group words, a ``# comment`` ends the line)."""
    try:
        return shlex.split(strip_comment(line), posix=True)
    except ValueError as e:
        raise UsageError(f"cannot read the {what} options: {e} (check the quotes)") from e


def parse_sql_options(tokens: list[str]) -> SQLOptions:
    """Validate ``%%rat_sql`` option tokens.

    Raises:
        UsageError: An unknown, repeated or invalid option, with what is accepted.
    """
    opts = SQLOptions()
    for key, value in _pairs(tokens, SQL_OPTIONS, SQL_FLAGS, "%%rat_sql").items():
        if key == "preview":
            opts.preview = True
        elif key == "target":
            opts.target = _table(value, "target")
        elif key == "mode":
            opts.mode = _choice(value, WRITE_MODES, "mode")
        elif key == "partition_by":
            opts.partition_by = _partition_by(value)
        elif key == "merge_keys":
            keys = [k.strip() for k in value.split(",") if k.strip()]
            if not keys:
                raise UsageError("merge_keys needs column names, for example merge_keys=id or id,day")
            opts.merge_keys = keys
        elif key == "on_rewrite":
            opts.on_rewrite = _choice(value, ON_REWRITE, "on_rewrite")
        elif key == "branch":
            opts.branch = _branch(value)
        elif key == "limit":
            opts.limit = _count(value, "limit")
        elif key == "name":
            opts.name = variable_name(value)
        elif key == "result":
            opts.result = _choice(value, RESULT_TYPES, "result")
        elif key == "chart":
            opts.chart = _choice(value, CHART_KINDS, "chart")
        elif key in ("x", "y", "color"):
            setattr(opts, key, value)
    if opts.target is None and (opts.mode or opts.merge_keys or opts.partition_by or opts.on_rewrite):
        raise UsageError(
            "mode=, merge_keys=, partition_by= and on_rewrite= describe a write: add target=namespace.table"
        )
    if opts.chart is None and (opts.x or opts.y or opts.color):
        raise UsageError("x=, y= and color= describe a chart: add chart=bar|line|area|scatter|histogram")
    if opts.chart is not None and opts.target is not None:
        raise UsageError("chart= shows a result; it does not go with target= (a write)")
    if opts.chart is not None and opts.x is None:
        raise UsageError(f"chart={opts.chart} needs x=COLUMN (and y=COLUMN, color=COLUMN as you like)")
    if opts.mode == "merge" and not opts.merge_keys:
        raise UsageError("mode=merge needs merge_keys=, for example merge_keys=id")
    if opts.merge_keys and opts.mode not in (None, "merge"):
        raise UsageError(f"merge_keys= only applies to mode=merge (the mode is {opts.mode})")
    return opts


def parse_ingest_options(tokens: list[str]) -> IngestOptions:
    """Validate ``%rat_ingest SOURCE TABLE [key=value ...]``.

    Known keys are checked; other ``key=value`` pairs pass through to ``rat.ice_ingest`` as options.
    """
    # The first two words are the source and the table (a source may hold "=": s3://b/day=1/f.csv).
    if len(tokens) < 2 or tokens[1].split("=", 1)[0] in INGEST_OPTIONS:
        raise UsageError(
            "usage: %rat_ingest SOURCE namespace.table [sheet=...] "
            "[mode=append|overwrite|overwrite_partitions] [partition_by=TERMS] "
            "[extract_from_filename=REGEX] [parser=NAME] [name=VAR] [other reader options]"
        )
    source, table = tokens[:2]
    opts = IngestOptions(source=source, table=_table(table, "table"))
    for key, value in _pairs(tokens[2:], None, (), "%rat_ingest").items():
        if key == "name":
            opts.name = variable_name(value)
        elif key == "mode":
            opts.call["mode"] = _choice(value, INGEST_MODES, "mode")
        elif key == "partition_by":
            opts.call["partition_by"] = _partition_by(value)
        elif key == "sheet":
            opts.call["sheet"] = int(value) if value.isdigit() else value
        else:
            opts.call[key] = _literal(value)
    return opts


def variable_name(value: str) -> str:
    """Check a Python variable name given as an option value."""
    if not value.isidentifier() or keyword.iskeyword(value):
        raise UsageError(f"name={value!r} is not a Python variable name")
    return value


def _pairs(
    tokens: list[str], known: tuple[str, ...] | None, flags: tuple[str, ...], magic: str
) -> dict[str, str]:
    """``key=value`` and ``--flag`` tokens as a dict; unknown keys (if ``known``) and repeats fail."""
    out: dict[str, str] = {}
    accepted = (*(known or ()), *(f"--{f}" for f in flags))
    for token in tokens:
        if token.startswith("--"):
            key, value = token[2:], ""
            if key not in flags:
                raise UsageError(_unknown(token, accepted, magic))
        elif "=" in token:
            key, value = token.split("=", 1)
            if known is not None and key not in known:
                raise UsageError(_unknown(key, accepted, magic))
            if not value:
                raise UsageError(f"{key}= has no value")
        else:
            hint = (
                " (the SQL goes in the cell body, below the %%rat_sql line)" if magic == "%%rat_sql" else ""
            )
            raise UsageError(f"unexpected {token!r} among the {magic} options: options are key=value{hint}")
        if key in out:
            raise UsageError(f"option {key} is given twice")
        out[key] = value
    return out


def _unknown(key: str, accepted: tuple[str, ...], magic: str) -> str:
    close = difflib.get_close_matches(key, accepted, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown {magic} option {key!r}{hint}; options are: {', '.join(accepted)}"


def _choice(value: str, choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        raise UsageError(f"{what}={value!r} is not one of: {', '.join(choices)}")
    return value


def _count(value: str, what: str) -> int:
    if not value.isdigit():
        raise UsageError(f"{what}={value!r}: expected a number of rows (0 or more)")
    return int(value)


def _table(value: str, what: str) -> str:
    try:
        return str(TableRef.parse(value))
    except InvalidInput as e:
        raise UsageError(f"{what}: {e}") from e


def _partition_by(value: str) -> list[str]:
    from ratatouille.tables.partitioning import normalize_partition_by, parse_term

    try:
        terms = normalize_partition_by(value) or []
        for term in terms:
            parse_term(term)  # the transform's syntax now; its column is checked against the table
        return terms
    except InvalidInput as e:
        raise UsageError(str(e)) from e


def _branch(value: str) -> str:
    try:
        return validate_branch_name(value)
    except InvalidInput as e:
        raise UsageError(str(e)) from e


def _literal(value: str) -> Any:
    """A pass-through option value: true/false, an integer, a float, or the text as is."""
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value
