"""Inspection (Shift+Tab) of a table name in the kernel: its schema, row count and last snapshot."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .tables import TableInfo, TableNames, TableSchemas

_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")


class TableInspector:
    """Inspection (Shift+Tab) of a table name: its schema, row count and last snapshot.

    ``silver.sales`` and ``{silver.sales}`` are tables; any other name goes to IPython's own inspection.

    Installed over the shell's ``object_inspect_mime`` (what ipykernel calls for an ``inspect_request``
    with the token at the cursor), and removed by :meth:`uninstall`.
    """

    def __init__(self, shell: Any, names: TableNames, schemas: TableSchemas) -> None:
        self._shell = shell
        self._names = names
        self._schemas = schemas
        self._had_own = "object_inspect_mime" in vars(shell)
        self._previous = shell.object_inspect_mime

    def install(self) -> None:
        """Answer the shell's inspections from now on."""
        self._shell.object_inspect_mime = self.object_inspect_mime

    def uninstall(self) -> None:
        """Give the shell its previous inspection back."""
        if vars(self._shell).get("object_inspect_mime") != self.object_inspect_mime:
            return  # someone wrapped it after us: leave their wrapper in place
        if self._had_own:
            self._shell.object_inspect_mime = self._previous
        else:
            del self._shell.object_inspect_mime

    def object_inspect_mime(self, oname: str, *args: Any, **kwargs: Any) -> dict[str, str]:
        """The bundle of a table, else what the shell answers."""
        identifier = self.table_of(oname)
        if identifier is not None:
            info = self._schemas.info(identifier)
            if info is not None:
                return table_bundle(info)
        result: dict[str, str] = self._previous(oname, *args, **kwargs)
        return result

    def table_of(self, oname: str) -> str | None:
        """The table ``oname`` names, when it is one and not a notebook variable's attribute."""
        name = oname.strip().strip("{}").split("@", 1)[0].strip()
        if not _TABLE_NAME.match(name) or name.split(".", 1)[0] in self._shell.user_ns:
            return None
        if name.startswith("temp.") or not self._names.known(name):
            return None
        return name


def table_bundle(info: TableInfo) -> dict[str, str]:
    """``text/plain``, ``text/markdown`` and ``text/html`` views of a table's schema and freshness."""
    import html

    d = info.doc
    if d.snapshot_id is None:
        fresh = "never written"
    else:
        when = d.updated.strftime("%Y-%m-%d %H:%M:%S UTC") if isinstance(d.updated, dt.datetime) else "?"
        rows = "? rows" if d.rows is None else f"{d.rows:,} row{'' if d.rows == 1 else 's'}"
        fresh = f"{rows} · last snapshot {d.snapshot_id} ({when}, {info.operation or '?'})"
    plain = [f"{d.identifier} · {fresh}"]
    markdown = [f"**{d.identifier}** · {fresh}", ""]
    html_parts = [f"<b>{html.escape(d.identifier)}</b> · {html.escape(fresh)}"]
    if d.description:
        plain += [d.description]
        markdown += [d.description, ""]
        html_parts.append(f"<p>{html.escape(d.description)}</p>")
    width = max([len("column")] + [len(c.name) for c in d.columns])
    kinds = max([len("type")] + [len(c.type) for c in d.columns])
    plain += ["", f"{'column'.ljust(width)}  {'type'.ljust(kinds)}  description"]
    plain += [f"{c.name.ljust(width)}  {c.type.ljust(kinds)}  {c.doc or ''}".rstrip() for c in d.columns]
    markdown += ["| column | type | description |", "|---|---|---|"]
    markdown += [f"| `{c.name}` | `{c.type}` | {_md_cell(c.doc)} |" for c in d.columns]
    rows_html = "".join(
        f"<tr><td><code>{html.escape(c.name)}</code></td><td><code>{html.escape(c.type)}</code></td>"
        f"<td>{html.escape(c.doc or '')}</td></tr>"
        for c in d.columns
    )
    html_parts.append(
        "<table><thead><tr><th>column</th><th>type</th><th>description</th></tr></thead>"
        f"<tbody>{rows_html}</tbody></table>"
    )
    return {
        "text/plain": "\n".join(plain),
        "text/markdown": "\n".join(markdown),
        "text/html": "".join(html_parts),
    }


def _md_cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")
