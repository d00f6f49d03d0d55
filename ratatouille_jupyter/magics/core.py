"""The ratatouille magics and their session options (``%config RatMagics.<option> = value``)."""

from __future__ import annotations

from typing import Any

from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from traitlets import Bool, Enum, Float, Int, Unicode

from ..provenance import CellTracker


@magics_class
class RatMagics(Magics):
    """The notebook magics and their ``%config`` options.

    ``%%rat_sql``, ``%rat_sql``, ``%rat_ingest``, ``%rat_tables``, ``%rat_history``, ``%rat_doc``,
    ``%rat_dev``, ``%rat_cache`` and ``%rat_check`` / ``%%rat_check`` (``%rat_pipeline``: ``pipeline.py``).

    Args:
        shell: The IPython shell.
        rat: The SDK object the magics work through (``ratatouille.rat``).
    """

    display_limit = Int(1000, help="Rows of a result shown in the notebook (the variable holds all).").tag(
        config=True
    )
    result_type = Enum(["pandas", "arrow"], "pandas", help="What a query result is: pandas or arrow.").tag(
        config=True
    )
    last_var = Unicode("_sqldf", help="Variable holding the last %%rat_sql result ('' for none).").tag(
        config=True
    )
    progress = Bool(True, help="Show a progress line for queries that run longer than progress_delay.").tag(
        config=True
    )
    progress_delay = Float(0.5, help="Seconds before the progress line appears.").tag(config=True)
    interactive = Bool(True, help="Show results as interactive tables (itables); False: static HTML.").tag(
        config=True
    )
    chart_toggle = Bool(
        True, help="Send a sample of each result for the Table/Chart toggle of the JupyterLab extension."
    ).tag(config=True)
    itables_connected = Bool(
        False, help="Load the table library from the internet (True) instead of embedding it in the notebook."
    ).tag(config=True)
    notebook = Unicode("", help="Notebook path stamped on snapshots ('' = detect it).").tag(config=True)

    def __init__(self, shell: Any, rat: Any, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.rat = rat
        self.cells = CellTracker(shell)

    @property
    def user_ns(self) -> dict[str, Any]:
        """The notebook's namespace."""
        assert self.shell is not None
        namespace: dict[str, Any] = self.shell.user_ns
        return namespace

    # no_var_expand: IPython would paste {name} and $name into the line as text; here {name} is a bound
    # parameter, and regexes ({4}) and paths must reach the magic as typed.
    @no_var_expand
    @line_cell_magic
    def rat_sql(self, line: str, cell: str | None = None) -> Any:
        """Run ClickHouse SQL on the lakehouse; show the result, or write it to a table.

        Usage::

            %%rat_sql [target=ns.table] [mode=append|overwrite|merge] [merge_keys=a,b]
                      [branch=NAME] [limit=ROWS] [name=VAR] [result=pandas|arrow] [--preview]
                      [chart=bar|line|area|scatter|histogram x=COL [y=COL] [color=COL]]
            SELECT ... FROM {bronze.sales} WHERE qty > {min_qty}

            %rat_sql [options] SELECT ...

        ``{ns.table}`` reads a table (``{ns.table@branch}``, ``@snapshot_id``, ``@2024-06-01``);
        ``{name}`` binds the notebook variable ``name`` as a query parameter (never pasted as text).
        Without ``target`` the result is shown and assigned to ``name`` and to ``_sqldf``; with it, the
        result is written (merge when ``merge_keys`` is given, else overwrite) and the write is shown.
        ``chart=`` shows the result as a chart instead of a table (bar, line and area sum ``y`` per ``x``
        or count rows; a scatter samples at most 5,000 points; a histogram counts ``x`` in bins).
        ``--preview`` shows the SQL that would run. Interrupt the kernel to cancel a running query.
        """
        from .sql import run_sql

        return run_sql(self, line, cell)

    @no_var_expand
    @line_magic
    def rat_ingest(self, line: str) -> Any:
        """Ingest one file into an Iceberg table.

        Usage::

            %rat_ingest SOURCE ns.table [sheet=NAME|INDEX] [mode=append|overwrite]
                        [extract_from_filename=REGEX] [parser=NAME] [name=VAR] [reader options]

        ``SOURCE`` is a path (``landing/...`` is the landing zone), a glob-free URI, or ``s3://...``.
        ``name=VAR`` assigns the ingested rows (a DataFrame) to ``VAR``.
        """
        from .ingest import run_ingest

        return run_ingest(self, line)

    @no_var_expand
    @line_magic
    def rat_tables(self, line: str) -> Any:
        """List the tables: ``%rat_tables [namespace]`` (rows and last update on the active branch)."""
        from .catalog import run_tables

        return run_tables(self, line)

    @no_var_expand
    @line_magic
    def rat_history(self, line: str) -> Any:
        """Show the snapshots of a table, newest first, with provenance: ``%rat_history ns.table``."""
        from .catalog import run_history

        return run_history(self, line)

    @no_var_expand
    @line_magic
    def rat_doc(self, line: str) -> Any:
        """Show a table's documentation, or set some of it.

        Usage::

            %rat_doc ns.table
            %rat_doc ns.table [description="..."] [owner=NAME] [tags=a,b] [pii=col,col] [col.NAME="..."]

        ``tags=`` and ``pii=`` replace the table's; ``col.NAME=`` documents a column (``col.a.b=`` a nested
        field); an empty value (``description=""``) clears. Values not given stay as they are.
        """
        from .doc import run_doc

        return run_doc(self, line)

    @no_var_expand
    @line_magic
    def rat_dev(self, line: str) -> Any:
        """Dev mode (branches isolating this notebook's reads and writes).

        Usage::

            %rat_dev [status]                 the active branch and its tables
            %rat_dev start NAME [TABLE ...]   work on branch NAME from now on
            %rat_dev main                     back to main
            %rat_dev diff TABLE [key=a,b]     what the branch changed against main
            %rat_dev merge [NAME] [--rebase]  publish: fast-forward main on every table of the branch
            %rat_dev drop [NAME]              remove the branch
            %rat_dev branches [TABLE]         every branch, per table
            %rat_dev expire [days=7]          expire old snapshots (branch heads are kept)
        """
        from .dev import run_dev

        return run_dev(self, line)

    @no_var_expand
    @line_magic
    def rat_cache(self, line: str) -> Any:
        """The snapshot cache: ``%rat_cache`` shows it, ``%rat_cache clear`` drops every entry.

        Usage::

            %rat_cache         a summary line, then one row per cached snapshot (table, snapshot_id, MB, hits)
            %rat_cache clear   drop every cached snapshot; says how many

        Queries read the snapshots they use from the cache when it holds them (``RAT_CACHE_MB`` bounds it;
        0 turns it off); a ``%%rat_sql`` result says ``from cached snapshots (...)`` when it did.
        """
        from .cache import run_cache

        return run_cache(self, line)

    @no_var_expand
    @line_cell_magic
    def rat_check(self, line: str, cell: str | None = None) -> Any:
        """Run data-quality checks; show one line per check and the violating rows of failures.

        Usage::

            %rat_check [severity=error|warn] [name=NAME] [branch=NAME] ns.table not_null(id) unique(id)
                       accepted_values(region, ['north', 'south']) row_count(>0) fresh(order_ts, 24h)

            %%rat_check [table=ns.table] [severity=error|warn] [name=NAME] [branch=NAME]
            SELECT ... FROM {ns.table} WHERE ...   -- the rows that violate the rule

        A failed check is a result (✗ and its first rows), not an error. Results are kept as the last of
        each check (``rat.check_results()``). Returns the list of results.
        """
        from .check import run_check

        return run_check(self, line, cell)
