"""``%rat_dev``: dev mode (Iceberg branches) from a notebook, mirroring ``rat.dev_*``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
from IPython.core.error import UsageError

from .errors import user_errors
from .options import tokenize

if TYPE_CHECKING:
    from .core import RatMagics

USAGE = (
    "usage: %rat_dev [status] | start NAME [TABLE ...] | main | diff TABLE [key=a,b] | "
    "merge [NAME] [--rebase] | drop [NAME] | branches [TABLE] | expire [days=N]"
)


def run_dev(magics: RatMagics, line: str) -> Any:
    """Dispatch one ``%rat_dev`` command; return what the notebook shows."""
    args = tokenize(line, "%rat_dev")
    command, rest = (args[0], args[1:]) if args else ("status", [])
    rat = magics.rat
    with user_errors():
        if command == "status":
            _no_more(rest)
            return _status(rat.dev_status())
        if command == "start":
            if not rest:
                raise UsageError("usage: %rat_dev start NAME [TABLE ...]")
            result = rat.dev_start(rest[0], tables=rest[1:] or None)
            branched = f"; branched now: {', '.join(result['branched'])}" if result["branched"] else ""
            print(f"dev branch {rest[0]!r} active: reads and writes of this notebook go to it{branched}")
            return None
        if command in ("main", "off", "stop"):
            _no_more(rest)
            rat.dev(None)
            print("back on main")
            return None
        if command == "diff":
            table, options = _positional(rest, 1, "diff TABLE [key=a,b] [branch=NAME]")
            keys = options.get("key")
            return rat.dev_diff(table[0], branch=options.get("branch"), key=keys.split(",") if keys else None)
        if command == "merge":
            flags = [a for a in rest if a.startswith("--")]
            unknown = [f for f in flags if f != "--rebase"]
            if unknown:
                raise UsageError(f"unknown flag {unknown[0]}: {USAGE}")
            names = [a for a in rest if not a.startswith("--")]
            result = rat.dev_merge(names[0] if names else None, rebase="--rebase" in flags)
            published = result["published"]
            print(
                f"published {result['branch']!r}: "
                + (", ".join(f"{t} -> {s}" for t, s in published.items()) or "nothing new on the branch")
            )
            return None
        if command == "drop":
            removed = rat.dev_drop(rest[0] if rest else None)
            print(f"dropped from {', '.join(removed)}; active branch: {rat.session.branch}")
            return None
        if command == "branches":
            return rat.dev_branches(rest[0] if rest else None)
        if command == "expire":
            _, options = _positional(rest, 0, "expire [days=N]")
            import datetime as dt

            try:
                days = float(options.get("days", "7"))
            except ValueError as e:
                raise UsageError("days= takes a number, for example days=7") from e
            return pd.Series(rat.expire(dt.timedelta(days=days)), name="expired")
    raise UsageError(f"unknown command {command!r}; {USAGE}")


def _status(status: dict[str, Any]) -> pd.DataFrame | None:
    if not status["tables"]:
        suffix = " (no dev branch)" if status["branch"] == "main" else ""
        print(f"active branch: {status['branch']}{suffix}")
        return None
    print(f"active branch: {status['branch']}")
    frame: pd.DataFrame = pd.DataFrame(status["tables"]).drop(columns=["branch"])
    return frame


def _no_more(rest: list[str]) -> None:
    if rest:
        raise UsageError(f"unexpected {' '.join(rest)!r}; {USAGE}")


def _positional(rest: list[str], count: int, usage: str) -> tuple[list[str], dict[str, str]]:
    positional = [a for a in rest if "=" not in a]
    options = dict(a.split("=", 1) for a in rest if "=" in a)
    if len(positional) != count or set(options) - {"key", "branch", "days"}:
        raise UsageError(f"usage: %rat_dev {usage}")
    return positional, options
