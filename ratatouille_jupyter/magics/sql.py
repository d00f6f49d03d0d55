"""``%%rat_sql`` / ``%rat_sql``: run ClickHouse SQL on the lakehouse, show it, or write it to a table."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ratatouille.sdk import default_mode
from ratatouille.sqltext import _code_spans

from ..display import (
    ArrowResult,
    ResultInfo,
    SQLPreview,
    WriteSummary,
    as_rat_frame,
    ensure_itables,
    summary_line,
)
from ..progress import run_tracked
from ..provenance import cell_label, notebook_path, stamped
from .errors import user_errors
from .options import SQLOptions, parse_sql_options, split_sql_line, tokenize
from .params import BoundSQL, bind_variables

if TYPE_CHECKING:
    from .core import RatMagics


def run_sql(magics: RatMagics, line: str, cell: str | None) -> Any:
    """Run one ``%%rat_sql`` cell (``cell`` given) or ``%rat_sql`` line; see the magic's help."""
    if cell is None:
        leading, sql = split_sql_line(line)
        opts = parse_sql_options(tokenize(" ".join(leading), "%rat_sql"))
    else:
        opts, sql = parse_sql_options(tokenize(line, "%%rat_sql")), cell
    sql = statement(
        sql, "write it in the cell, below the %%rat_sql line" if cell is not None else "%rat_sql SELECT ..."
    )
    bound = bind_variables(sql, magics.user_ns)
    with user_errors(), on_branch(magics.rat.session, opts.branch):
        if opts.preview:
            return preview(magics, bound, opts)
        if opts.target is not None:
            return write(magics, bound, opts)
        return query(magics, bound, opts)


def statement(sql: str, hint: str = "") -> str:
    """The one SQL statement of a cell, without its trailing ``;`` (lines keep their numbers).

    Raises:
        UsageError: No SQL, or more than one statement.
    """
    text = sql.rstrip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    if not text.strip():
        raise UsageError("there is no SQL to run" + (f": {hint}" if hint else ""))
    if any(";" in text[a:b] for a, b in _code_spans(text)):
        raise UsageError("one SQL statement per cell: split the statements into cells")
    return text


@contextlib.contextmanager
def on_branch(session: Any, branch: str | None) -> Iterator[None]:
    """Run the block on ``branch`` (the session's branch is restored after)."""
    if branch is None:
        yield
        return
    previous = session.branch
    session.use_branch(branch)
    try:
        yield
    finally:
        session.use_branch(previous)


def query(magics: RatMagics, bound: BoundSQL, opts: SQLOptions) -> Any:
    """Run a query; show it; assign the full result to ``name`` and the last-result variable."""
    from ratatouille.engine import QueryStats

    session = magics.rat.session
    stats = QueryStats()
    started = time.perf_counter()
    table, tracker, _ = run_tracked(
        session.engine,
        lambda: session.query_arrow(bound.sql, parameters=bound.parameters or None, stats=stats),
        show_progress=magics.progress,
        delay_s=magics.progress_delay,
    )
    variables = [v for v in (opts.name, magics.last_var) if v]
    info = ResultInfo(
        elapsed_s=time.perf_counter() - started,
        read_rows=tracker.read_rows,
        read_bytes=tracker.read_bytes,
        branch=session.branch,
        limit=opts.limit if opts.limit is not None else magics.display_limit,
        variables=variables,
        cached=list(stats.cached),
        interactive=magics.interactive,
        connected=magics.itables_connected,
        chart_toggle=magics.chart_toggle,
    )
    arrow = (opts.result or magics.result_type) == "arrow"
    value: Any = table if arrow else as_rat_frame(table.to_pandas(), info)
    magics.user_ns.update(dict.fromkeys(variables, value))
    if opts.chart is not None:
        show_chart(table, opts, info)
        return None
    # Only a kernel has a front end that runs the table library (a terminal shows text).
    in_kernel = getattr(magics.shell, "kernel", None) is not None
    if info.interactive and info.limit and table.num_rows and in_kernel:
        ensure_itables(info.connected)
    if arrow:
        # A pyarrow.Table cannot carry the view: show it here, the table stays in the variables.
        from IPython.display import display

        display(ArrowResult(table, info))
        return None
    return value


def show_chart(table: Any, opts: SQLOptions, info: ResultInfo) -> None:
    """Show the result as a Vega-Lite chart (JupyterLab draws it and saves a PNG of it in the notebook)."""
    from IPython.display import display

    from ratatouille.charts import VEGALITE_MIME, chart

    assert opts.chart is not None
    drawn = chart(table, opts.chart, x=opts.x, y=opts.y, color=opts.color)
    summary = summary_line(table.num_rows, table.column_names, info)
    where = f" · the result is in {' and '.join(info.variables)}" if info.variables else ""
    bundle = {VEGALITE_MIME: drawn.spec, "text/plain": f"{summary}{where}\n{drawn.text()}"}
    display(bundle, raw=True, metadata={VEGALITE_MIME: {"embed_options": {"renderer": "svg"}}})


def write(magics: RatMagics, bound: BoundSQL, opts: SQLOptions) -> WriteSummary:
    """Run the SQL and write its result to ``opts.target``; show what was written."""
    assert opts.target is not None
    session = magics.rat.session
    mode = default_mode(opts.mode, opts.merge_keys)
    target, keys = opts.target, opts.merge_keys
    started = time.perf_counter()
    notebook = notebook_path(magics.shell, magics.notebook)
    with stamped(session, notebook, cell_label(magics.shell, magics.cells)):
        result, _, late = run_tracked(
            session.engine,
            lambda: session.transform(
                bound.sql,
                target,
                mode=mode,
                merge_keys=keys,
                parameters=bound.parameters or None,
                partition_by=opts.partition_by,
                on_rewrite=opts.on_rewrite or "error",
            ),
            show_progress=magics.progress,
            delay_s=magics.progress_delay,
        )
    summary = WriteSummary(result.to_dict())
    summary["elapsed_s"] = round(time.perf_counter() - started, 3)
    if late:
        summary["note"] = "the interrupt came after the write was committed"
        print("The interrupt came too late: the write was already committed.")
    if opts.name:
        magics.user_ns[opts.name] = summary
    return summary


def preview(magics: RatMagics, bound: BoundSQL, opts: SQLOptions) -> SQLPreview:
    """The SQL that would run (references expanded), its parameters, and what would be written."""
    session = magics.rat.session
    note = ""
    if opts.target is not None:
        mode = default_mode(opts.mode, opts.merge_keys)
        keys = f" on {', '.join(opts.merge_keys)}" if opts.merge_keys else ""
        note = f"would write to {opts.target} ({mode}{keys}) on branch {session.branch}"
    parameters = {name: (bound.types[name], value) for name, value in bound.parameters.items()}
    return SQLPreview(session.preview(bound.sql, target=opts.target), parameters, note)
