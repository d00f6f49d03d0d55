"""How results look in a notebook: an interactive table with what the query did, write and ingest summaries.

A query result is a :class:`RatFrame`: a pandas DataFrame whose notebook view is an itables table headed
by the row and column counts, the elapsed time, the rows and bytes the engine read and the tables the
snapshot cache served, with a notice when only the first rows are shown. Anything derived from it is a
plain DataFrame again. :class:`CacheView` is what ``%rat_cache`` shows.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

_CSS = (
    "<style>.rat-summary{font-family:var(--jp-ui-font-family,sans-serif);font-size:12px;"
    "color:var(--jp-ui-font-color1,#333);margin:2px 0 6px}"
    ".rat-notice{font-size:12px;color:var(--jp-warn-color0,#a05a00);margin-top:4px}"
    ".rat-ok{color:var(--jp-success-color0,#2e7d32)}</style>"
)
_MAX_NAMED_COLUMNS = 8
_MAX_NAMED_CACHED = 3
_itables_ready = False


@dataclass
class ResultInfo:
    """What produced a result, for its header.

    Attributes:
        elapsed_s: Wall time of the query.
        read_rows: Rows the engine read (0 when not reported).
        read_bytes: Bytes the engine read.
        branch: The branch the query read.
        limit: Rows shown.
        variables: Variables that hold the full result.
        cached: Tables whose snapshot the snapshot cache served (``QueryStats.cached``).
        interactive: itables (True) or a static HTML table (False).
        connected: itables loads DataTables from the internet (True) or from the notebook (False).
        chart_toggle: Add a sample for the result's Table/Chart toggle (``RESULT_MIME``).
    """

    elapsed_s: float = 0.0
    read_rows: int = 0
    read_bytes: int = 0
    branch: str = "main"
    limit: int = 1000
    variables: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    interactive: bool = True
    connected: bool = False
    chart_toggle: bool = True


class RatFrame(pd.DataFrame):
    """A query result: a DataFrame shown with what the query did.

    Operations on it return plain DataFrames, and it pickles as a plain DataFrame.
    """

    _metadata = ["rat_info"]
    rat_info: ResultInfo

    @property
    def _constructor(self) -> Any:
        return pd.DataFrame

    def __reduce__(self) -> Any:
        return pd.DataFrame(self).__reduce__()

    def _repr_html_(self) -> str:
        return result_html(self, len(self), self._info())

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return chart_bundle(pd.DataFrame(self), self._info())

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(result_text(self, len(self), self._info()))

    def _info(self) -> ResultInfo:
        return getattr(self, "rat_info", None) or ResultInfo()


def as_rat_frame(df: pd.DataFrame, info: ResultInfo) -> RatFrame:
    """Wrap a DataFrame (no copy) with its query information."""
    frame = RatFrame(df)
    frame.rat_info = info
    return frame


class ArrowResult:
    """The notebook view of an Arrow result (the table itself stays a ``pyarrow.Table``)."""

    def __init__(self, table: Any, info: ResultInfo) -> None:
        self.table = table
        self.info = info

    def _head(self) -> pd.DataFrame:
        head: pd.DataFrame = self.table.slice(0, self.info.limit).to_pandas()
        return head

    def _repr_html_(self) -> str:
        return result_html(self._head(), self.table.num_rows, self.info, types=_arrow_types(self.table))

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return chart_bundle(self.table, self.info)

    def __repr__(self) -> str:
        return result_text(self._head(), self.table.num_rows, self.info, types=_arrow_types(self.table))


def chart_bundle(data: Any, info: ResultInfo) -> dict[str, Any]:
    """The result's sample for its Table/Chart toggle, as ``{RESULT_MIME: ...}`` ({} when there is none).

    JupyterLab with the ratatouille extension shows the table (``text/html``) with a Table/Chart toggle;
    other front ends do not know the type and show ``text/html``.
    """
    from ratatouille.charts import RESULT_MIME, result_sample
    from ratatouille.errors import InvalidInput

    names = [str(c) for c in getattr(data, "column_names", None) or data.columns]
    if not info.chart_toggle or not len(data) or not names:
        return {}
    try:
        sample = result_sample(data)
    except InvalidInput:  # a frame Arrow cannot hold (mixed types): the table alone
        return {}
    sample["summary"] = summary_line(len(data), names, info)
    return {RESULT_MIME: sample}


def summary_line(rows: int, columns: list[str], info: ResultInfo) -> str:
    """``12 rows x 3 columns (a, b, c) · 0.012 s · read 1,000 rows, 8.0 KB · branch dev``.

    ``from cached snapshots (ns.t, ...)`` comes before the branch when the snapshot cache served tables.
    """
    names = ", ".join(str(c) for c in columns[:_MAX_NAMED_COLUMNS])
    if len(columns) > _MAX_NAMED_COLUMNS:
        names += ", …"
    shape = f"{plural(rows, 'row')} × {plural(len(columns), 'column')}"  # noqa: RUF001
    parts = [shape + (f" ({names})" if names else ""), seconds(info.elapsed_s)]
    if info.read_rows or info.read_bytes:
        parts.append(f"read {plural(info.read_rows, 'row')}, {size(info.read_bytes)}")
    if info.cached:
        tables = list(dict.fromkeys(info.cached))  # a table read twice is named once
        named = ", ".join(tables[:_MAX_NAMED_CACHED]) + (", …" if len(tables) > _MAX_NAMED_CACHED else "")
        parts.append(f"from cached snapshots ({named})")
    if info.branch != "main":
        parts.append(f"branch {info.branch}")
    return " · ".join(parts)


def truncation_notice(shown: int, total: int, info: ResultInfo) -> str:
    """The notice under a table that shows only its first rows ('' when everything is shown)."""
    if shown >= total:
        return ""
    where = f"; the full result is in {' and '.join(info.variables)}" if info.variables else ""
    return f"Showing the first {shown:,} of {total:,} rows{where}."


def result_html(df: pd.DataFrame, total: int, info: ResultInfo, types: list[str] | None = None) -> str:
    """The HTML view of a result: summary, table, truncation notice."""
    head = df.iloc[: info.limit]
    title = html.escape(", ".join(f"{c}: {t}" for c, t in zip(df.columns, types or _types(df), strict=False)))
    summary = html.escape(summary_line(total, list(df.columns), info))
    parts = [_CSS, f'<div class="rat-summary" title="{title}">{summary}</div>']
    if len(head.columns) and info.limit:
        parts.append(_table_html(pd.DataFrame(head), info))
    notice = truncation_notice(len(head), total, info)
    if notice:
        parts.append(f'<div class="rat-notice">{html.escape(notice)}</div>')
    return "<div class='rat-result'>" + "".join(parts) + "</div>"


def result_text(df: pd.DataFrame, total: int, info: ResultInfo, types: list[str] | None = None) -> str:
    """The plain-text view of a result (terminals, logs)."""
    head = pd.DataFrame(df.iloc[: min(info.limit, 20)])
    lines = [summary_line(total, list(df.columns), info)]
    if len(head.columns) and info.limit:
        lines.append(head.to_string(max_cols=20))
    notice = truncation_notice(len(head), total, info)
    if notice:
        lines.append(notice)
    return "\n".join(lines)


def _table_html(df: pd.DataFrame, info: ResultInfo) -> str:
    if not info.interactive:
        return str(df.to_html(max_rows=info.limit, border=0))
    import itables

    # maxBytes=0: the row limit above already bounds the output, and its notice is the only one shown.
    # margin:0 keeps the table under its (left-aligned) summary line.
    html_table = itables.to_html_datatable(
        df,
        connected=info.connected,
        maxBytes=0,
        display_logo_when_loading=False,
        style="table-layout:auto;width:auto;margin:0;caption-side:bottom",
    )
    return str(html_table)


def ensure_itables(connected: bool) -> None:
    """Load the DataTables library into the notebook once per kernel (offline mode), keeping pandas' repr."""
    global _itables_ready
    if _itables_ready or connected:
        return
    import itables
    from itables import javascript

    # init_notebook_mode also sets how every DataFrame renders: keep whatever the user chose.
    everywhere = getattr(pd.DataFrame, "_repr_html_", None) is getattr(javascript, "_datatables_repr_", None)
    itables.init_notebook_mode(all_interactive=everywhere, connected=False)
    _itables_ready = True


class WriteSummary(dict[str, Any]):
    """What a write did (``rat.transform``'s dict), shown as one line."""

    def line(self) -> str:
        """``merge into silver.sales on main: 3 inserted, 1 updated · snapshot 123 · 0.1 s``."""
        if self.get("mode") == "merge":
            counts = f"{self.get('inserted', 0):,} inserted, {self.get('updated', 0):,} updated"
        else:
            counts = f"{self.get('rows', 0):,} rows"
        parts = [f"{self.get('mode')} into {self.get('target')} on {self.get('branch')}: {counts}",
                 f"snapshot {self.get('snapshot_id')}"]  # fmt: skip
        if self.get("created"):
            parts.append("table created")
        if self.get("columns_added") and not self.get("created"):
            parts.append("new columns: " + ", ".join(self["columns_added"]))
        if "elapsed_s" in self:
            parts.append(seconds(float(self["elapsed_s"])))
        return " · ".join(parts)

    def _repr_html_(self) -> str:
        line = html.escape(self.line())
        return f'{_CSS}<div class="rat-summary"><span class="rat-ok">✔</span> {line}</div>'

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.line())


class IngestSummary(WriteSummary):
    """What ``%rat_ingest`` did."""

    def line(self) -> str:
        """``ingested 120 rows from data/sales.csv into bronze.sales on main (append) · snapshot 12``."""
        parts = [f"ingested {self.get('rows', 0):,} rows from {self.get('source')} into {self.get('target')} "
                 f"on {self.get('branch')} ({self.get('mode')})"]  # fmt: skip
        if self.get("snapshot_id") is not None:
            parts.append(f"snapshot {self.get('snapshot_id')}")
        if "elapsed_s" in self:
            parts.append(seconds(float(self["elapsed_s"])))
        return " · ".join(parts)


class CacheView:
    """What ``%rat_cache`` shows: the snapshot cache's summary line and its entries.

    Attributes:
        info: The cache's state (a ``ratatouille.engine.cache.CacheInfo``).
        entries: One row per cached snapshot (table, snapshot_id, MB, hits), least recently used first.
    """

    def __init__(self, info: Any) -> None:
        self.info = info
        self.entries = pd.DataFrame(
            [(table, snapshot_id, round(n / 2**20, 2), hits) for table, snapshot_id, n, hits in info.tables],
            columns=["table", "snapshot_id", "MB", "hits"],
        )

    def _repr_html_(self) -> str:
        parts = [_CSS, f'<div class="rat-summary">{html.escape(self.info.summary())}</div>']
        if len(self.entries):
            parts.append(str(self.entries.to_html(index=False, border=0)))
        return "<div class='rat-cache'>" + "".join(parts) + "</div>"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))

    def __repr__(self) -> str:
        lines = [self.info.summary()]
        if len(self.entries):
            lines.append(self.entries.to_string(index=False))
        return "\n".join(lines)


class SQLPreview(str):
    """The SQL a cell would run (``--preview``), with its bound parameters."""

    parameters: dict[str, tuple[str, Any]]
    note: str

    def __new__(
        cls, sql: str, parameters: dict[str, tuple[str, Any]] | None = None, note: str = ""
    ) -> SQLPreview:
        """The SQL text, with ``parameters`` as {name: (ClickHouse type, value)} and a ``note``."""
        obj = super().__new__(cls, sql)
        obj.parameters = parameters or {}
        obj.note = note
        return obj

    def text(self) -> str:
        """The SQL, then the parameters and what would be written, as SQL comments."""
        lines = [str(self)]
        for name, (ch_type, value) in self.parameters.items():
            lines.append(f"-- {{{name}:{ch_type}}} = {value!r}")
        if self.note:
            lines.append(f"-- {self.note}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre class='rat-preview'>{html.escape(self.text())}</pre>"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.text())


def plural(n: int, word: str) -> str:
    """``1 row``, ``2,000 rows``."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def seconds(value: float) -> str:
    """``0.012 s``, ``3.4 s``, ``2 min 5 s``."""
    if value < 10:
        return f"{value:.3f} s" if value < 1 else f"{value:.1f} s"
    if value < 120:
        return f"{value:.0f} s"
    return f"{int(value // 60)} min {int(value % 60)} s"


def size(n: int) -> str:
    """Bytes, human-readable."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _types(df: pd.DataFrame) -> list[str]:
    return [str(t) for t in df.dtypes]


def _arrow_types(table: Any) -> list[str]:
    return [str(f.type) for f in table.schema]
