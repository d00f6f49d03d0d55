"""The ``rat`` command line (also installed as ``ratatouille``).

``rat query "SQL"``, ``rat tables [NAMESPACE]``, ``rat history TABLE``, ``rat maintain [TABLE]``,
``rat config``, ``rat doctor``, ``rat docs [--out DIR] [--check]``.
Errors print one line and exit with status 2 (a user mistake) or 1 (anything else).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import NotInstalled, RatError

if TYPE_CHECKING:
    import pandas as pd

    from .sdk import Rat


def format_table(df: pd.DataFrame, max_rows: int = 50) -> str:
    """A DataFrame as an aligned plain-text table, with a note when rows were cut."""
    shown = df.head(max_rows)
    columns = [str(c) for c in shown.columns]
    cells = [["NULL" if _is_null(v) else str(v) for v in row] for row in shown.itertuples(index=False)]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    footer = f"({len(df)} row{'s' if len(df) != 1 else ''}"
    footer += f", first {max_rows} shown)" if len(df) > max_rows else ")"
    return "\n".join([line, rule, *body, footer])


def _is_null(value: Any) -> bool:
    try:
        return bool(value is None or value != value)
    except (TypeError, ValueError):
        return False


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rat", description="ratatouille: a Jupyter-native lakehouse")
    parser.add_argument("--version", action="version", version=f"ratatouille {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("query", help="run ClickHouse SQL with {ns.table} references")
    q.add_argument("sql")
    q.add_argument("--max-rows", type=int, default=50, help="rows to print (default 50)")
    q.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    t = sub.add_parser("tables", help="list tables (of one namespace, or all)")
    t.add_argument("namespace", nargs="?")
    h = sub.add_parser("history", help="snapshots of a table")
    h.add_argument("table")
    m = sub.add_parser("maintain", help="apply the maintenance policy of one table, or of every table")
    m.add_argument("table", nargs="?")
    m.add_argument("--json", action="store_true", help="print the full report as JSON")
    sub.add_parser("config", help="which lakehouse is in use and why, then the settings (secrets masked)")
    d = sub.add_parser("doctor", help="check the catalog, object store, engine and Dagster; print the fixes")
    d.add_argument("--json", action="store_true", help="print the checks as JSON")
    d.add_argument("--timeout", type=float, default=5.0, help="seconds per network probe (default 5)")
    w = sub.add_parser(
        "docs", help="write the data dictionary (Markdown), or check the tables' documentation"
    )
    w.add_argument("--out", default="docs/data", help="folder of the pages (default docs/data)")
    w.add_argument("--check", action="store_true", help="list documentation problems; status 1 if any")
    p = sub.add_parser("pipelines", add_help=False, help="notebooks as pipelines: list, show, run, serve")
    p.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def run(argv: Sequence[str], rat: Rat) -> int:
    """Run one command on ``rat``; return the exit status."""
    if list(argv[:1]) == ["pipelines"]:  # its own parser, imported only here (the pipelines extra)
        try:
            from ratatouille_jupyter.pipelines.cli import main as pipelines_main
        except ImportError as e:
            raise NotInstalled(f"rat pipelines needs: pip install 'ratatouille[pipelines]' ({e})") from e
        return int(pipelines_main(list(argv[1:]) or ["--help"], rat.settings))
    args = _parser().parse_args(list(argv))
    if args.command == "query":
        df = rat.query(args.sql)
        print(df.to_csv(index=False) if args.csv else format_table(df, args.max_rows))
    elif args.command == "tables":
        import pandas as pd

        spaces = [args.namespace] if args.namespace else rat.ice_namespaces()
        listing = [{"namespace": ns, "table": t} for ns in spaces for t in rat.ice_tables(ns)]
        print(format_table(pd.DataFrame(listing, columns=["namespace", "table"]), max_rows=10_000))
    elif args.command == "history":
        df = rat.ice_history(args.table)
        keep = [c for c in ("snapshot_id", "timestamp", "operation", "refs", "rows_added", "total_rows")
                if c in df.columns]  # fmt: skip
        print(format_table(df[keep], max_rows=10_000))
    elif args.command == "maintain":
        return _maintain(rat, args.table, args.json)
    elif args.command == "config":
        print(rat.settings.explain_home())
        for key, value in rat.settings.describe().items():
            print(f"{key:22} {value}")
    elif args.command == "doctor":
        from .doctor import doctor_command

        return doctor_command(rat, as_json=args.json, timeout=args.timeout)
    elif args.command == "docs":
        return _docs(rat, args.out, args.check)
    return 0


def _docs(rat: Rat, out: str, check: bool) -> int:
    """``rat docs``: write the pages and list them; with ``--check``, list the problems (status 1 if any)."""
    from .documenting import check_dictionary, write_dictionary

    if check:
        problems = check_dictionary(rat.session)
        for problem in problems:
            print(problem)
        print(f"{len(problems)} documentation problem(s)" if problems else "no documentation problems")
        return 1 if problems else 0
    for path in write_dictionary(rat.session, out, lineage=_pipeline_lineage(rat)):
        print(path)
    return 0


def _pipeline_lineage(rat: Rat) -> dict[str, list[str]] | None:
    """Table -> the tables it is made from, read statically from the pipeline notebooks.

    None when the notebook side is not installed or no pipeline is found (the pages get no diagram).
    """
    try:
        from ratatouille_jupyter.pipelines.spec import discover
    except ImportError:
        return None
    try:
        found = discover(rat.settings)
    except Exception:  # an unreadable pipelines folder: the pages without a diagram
        return None
    lineage: dict[str, list[str]] = {}
    for spec in found.pipelines.values():
        for table in spec.writes:
            lineage.setdefault(table, []).extend(spec.reads)
    return lineage or None


def _maintain(rat: Rat, table: str | None, as_json: bool) -> int:
    """``rat maintain``: one line per table; status 1 when a table failed."""
    import json

    import pandas as pd

    report = rat.ice_maintain(table)
    if as_json:
        print(json.dumps(report, indent=2, default=str))
    else:
        rows = []
        for name, done in report.items():
            rows.append({
                "table": name,
                "compacted": done.get("compaction", {}).get("rewritten", 0),
                "manifests": done.get("manifests", {}).get("manifests_after", ""),
                "expired": done.get("expiry", {}).get("expired", 0),
                "files_deleted": done.get("expiry", {}).get("deleted_files", 0),
                "orphans_deleted": done.get("orphans", {}).get("deleted", 0),
                "note": done.get("error") or done.get("skipped") or "",
            })  # fmt: skip
        columns = ["table", "compacted", "manifests", "expired", "files_deleted", "orphans_deleted", "note"]
        print(format_table(pd.DataFrame(rows, columns=columns), max_rows=10_000))
    return 1 if any("error" in done for done in report.values()) else 0


def guarded(command: Callable[[], int], prog: str = "rat") -> int:
    """Run a command-line command: a user error is one line on stderr and status 2, Ctrl-C is 130.

    The one place the command line maps :class:`RatError` (every ``rat`` subcommand goes through it).
    """
    try:
        return command()
    except RatError as e:
        print(f"{prog}: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rat`` command."""
    from . import rat

    return guarded(lambda: run(sys.argv[1:] if argv is None else argv, rat))


if __name__ == "__main__":
    raise SystemExit(main())
