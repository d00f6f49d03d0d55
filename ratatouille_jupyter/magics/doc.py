"""``%rat_doc ns.table [key=value ...]``: show a table's documentation, or set some of it.

Usage::

    %rat_doc ns.table                                   show it
    %rat_doc ns.table description="One row per sale" owner=ana tags=finance,daily
    %rat_doc ns.table pii=email,phone col.total="price x qty" col.address.city="town"

``description=``, ``owner=``: text; ``tags=`` and ``pii=``: comma-separated, replacing the table's;
``col.NAME=``: the description of column ``NAME`` (``a.b`` for a nested field). An empty value clears:
``description=""``, ``tags=""``, ``col.total=""``. Values with spaces are quoted. The values not given
stay as they are; a bad one (unknown column, unknown key) changes nothing.
"""

from __future__ import annotations

import difflib
import html
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from .errors import user_errors
from .options import tokenize

if TYPE_CHECKING:
    from ratatouille.documenting import TableDoc

    from .core import RatMagics

USAGE = (
    'usage: %rat_doc ns.table [description="..."] [owner=NAME] [tags=a,b] [pii=col,col] '
    '[col.NAME="..."] (an empty value clears)'
)
KEYS = ("description", "owner", "tags", "pii")
COLUMN_PREFIX = "col."


def run_doc(magics: RatMagics, line: str) -> TableDocView:
    """Show the table's documentation, after setting the values the line gives (one commit)."""
    args = tokenize(line, "%rat_doc")
    if not args or "=" in args[0]:
        raise UsageError(USAGE)
    table, call = args[0], parse_doc_options(args[1:])
    with user_errors():
        doc = magics.rat.ice_document(table, **call) if call else magics.rat.ice_doc(table)
    return TableDocView(doc)


def parse_doc_options(tokens: list[str]) -> dict[str, Any]:
    """``key=value`` tokens as keyword arguments of ``rat.ice_document``.

    Raises:
        UsageError: A token that is not ``key=value``, an unknown or repeated key.
    """
    call: dict[str, Any] = {}
    columns: dict[str, str] = {}
    for token in tokens:
        key, sep, value = token.partition("=")
        if not sep:
            raise UsageError(f"unexpected {token!r}: %rat_doc options are key=value; {USAGE}")
        if key.startswith(COLUMN_PREFIX) and len(key) > len(COLUMN_PREFIX):
            name = key[len(COLUMN_PREFIX) :]
            if name in columns:
                raise UsageError(f"option {key} is given twice")
            columns[name] = value
            continue
        if key not in KEYS:
            close = difflib.get_close_matches(key, KEYS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise UsageError(
                f"unknown %rat_doc option {key!r}{hint}; options are: {', '.join(KEYS)}, col.NAME"
            )
        if key in call:
            raise UsageError(f"option {key} is given twice")
        call[key] = [v.strip() for v in value.split(",") if v.strip()] if key in ("tags", "pii") else value
    if columns:
        call["columns"] = columns
    return call


class TableDocView:
    """What ``%rat_doc`` shows: description, owner, tags, freshness and the columns with PII badges.

    Attributes:
        doc: The table's documentation (``ratatouille.documenting.TableDoc``).
    """

    def __init__(self, doc: TableDoc) -> None:
        self.doc = doc

    def _facts(self) -> list[tuple[str, str]]:
        d = self.doc
        when = "never written" if d.updated is None else d.updated.strftime("%Y-%m-%d %H:%M:%S UTC")
        rows = "" if d.rows is None else f" · {d.rows:,} rows"
        return [
            ("owner", d.owner or "—"),
            ("tags", ", ".join(d.tags) or "—"),
            ("updated", f"{when}{rows}"),
        ]

    def _repr_html_(self) -> str:
        d, esc = self.doc, html.escape
        description = (
            "<br>".join(esc(line) for line in d.description.splitlines())
            if d.description
            else "<i>No description.</i>"
        )
        facts = "".join(f"<tr><th>{k}</th><td>{esc(v)}</td></tr>" for k, v in self._facts())
        badge = '<span style="background:#c0392b;color:#fff;border-radius:3px;padding:0 4px">PII</span>'
        rows = "".join(
            f"<tr><td><code>{esc(c.name)}</code></td><td><code>{esc(c.type)}</code></td>"
            f"<td>{esc(c.doc or '')}</td><td>{badge if c.pii else ''}</td></tr>"
            for c in d.columns
        )
        return (
            f"<div class='rat-doc'><h4>{esc(d.identifier)}</h4><p>{description}</p>"
            f"<table>{facts}</table>"
            "<table><thead><tr><th>column</th><th>type</th><th>description</th><th>PII</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div>"
        )

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))

    def __repr__(self) -> str:
        d = self.doc
        lines = [d.identifier, d.description or "(no description)", ""]
        lines += [f"{k}: {v}" for k, v in self._facts()]
        width = max([len("column")] + [len(c.name) for c in d.columns])
        kinds = max([len("type")] + [len(c.type) for c in d.columns])
        lines += ["", f"{'column'.ljust(width)}  {'type'.ljust(kinds)}  PII  description"]
        for c in d.columns:
            pii = "PII" if c.pii else "   "
            lines.append(f"{c.name.ljust(width)}  {c.type.ljust(kinds)}  {pii}  {c.doc or ''}".rstrip())
        return "\n".join(lines)
