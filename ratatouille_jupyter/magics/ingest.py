"""``%rat_ingest SOURCE namespace.table [options]``: one file into an Iceberg table, with provenance."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ..display import IngestSummary
from ..provenance import cell_label, notebook_path, stamped
from .errors import user_errors
from .options import parse_ingest_options, tokenize

if TYPE_CHECKING:
    from .core import RatMagics


def run_ingest(magics: RatMagics, line: str) -> IngestSummary:
    """Call ``rat.ice_ingest(source, table, **options)`` and show what was ingested."""
    opts = parse_ingest_options(tokenize(line, "%rat_ingest"))
    rat = magics.rat
    ingest = getattr(rat, "ice_ingest", None)
    if ingest is None:
        raise UsageError("this installation of ratatouille has no rat.ice_ingest")
    started = time.perf_counter()
    with user_errors():
        session = rat.session
        notebook = notebook_path(magics.shell, magics.notebook)
        with stamped(session, notebook, cell_label(magics.shell, magics.cells)):
            df, rows = ingest(opts.source, opts.table, **opts.call)
        snapshot = _head_snapshot(session, opts.table)
    if opts.name:
        magics.user_ns[opts.name] = df
    return IngestSummary(
        source=opts.source,
        target=opts.table,
        rows=int(rows),
        mode=opts.call.get("mode", "append"),
        branch=session.branch,
        snapshot_id=snapshot,
        elapsed_s=round(time.perf_counter() - started, 3),
    )


def _head_snapshot(session: Any, table: str) -> int | None:
    from ratatouille.catalog import load_table
    from ratatouille.reading import MAIN, head_snapshot_id

    loaded = load_table(session.catalog, table, session.branch)
    return head_snapshot_id(loaded, session.branch) or head_snapshot_id(loaded, MAIN)
