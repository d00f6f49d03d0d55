"""Dev mode calls of ``rat``: branches that isolate a session, thin over :mod:`ratatouille.branches`."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .errors import InvalidInput
from .sdk_base import FacadeBase


class DevMixin(FacadeBase):
    """Dev mode calls of ``rat``: branches that isolate a session, thin over :mod:`ratatouille.branches`."""

    def dev(self, name: str | None = None) -> str:
        """Switch the session to dev branch ``name`` (None: back to main); return the active branch."""
        if name is None:
            self.session.use_branch(None)
        else:
            self.dev_start(name)
        return self.session.branch

    def dev_start(self, name: str, tables: list[str] | None = None) -> dict[str, Any]:
        """Start (or resume) dev branch ``name``: every read and write of the session goes to it.

        Args:
            name: The branch name (not ``main``).
            tables: Tables to branch from main now; the others join the branch on their first write.
        """
        from .branches import start

        branched = start(self.session, name, tables)
        return {"branch": name, "branched": branched}

    def dev_status(self) -> dict[str, Any]:
        """The active branch and, per table on it, how far it is ahead and whether main moved."""
        from .branches import tables_on
        from .reading import MAIN

        branch = self.session.branch
        tables = [] if branch == MAIN else [s.as_dict() for s in tables_on(self.session, branch)]
        return {"branch": branch, "tables": tables}

    def dev_diff(self, table: str, branch: str | None = None, key: list[str] | None = None) -> Any:
        """What the branch changed in ``table`` against main (counts, schema changes, examples)."""
        from .branches.diff import diff

        return diff(self.session, table, self._branch_arg(branch), key=key)

    def dev_merge(self, branch: str | None = None, rebase: bool = False) -> dict[str, Any]:
        """Publish the branch: fast-forward main on every table written on it, all or nothing."""
        from .branches import publish

        return publish(self.session, self._branch_arg(branch), rebase=rebase)

    def dev_drop(self, branch: str | None = None) -> list[str]:
        """Remove the branch from every table (the session returns to main if it was on it)."""
        from .branches import drop

        return drop(self.session, self._branch_arg(branch))

    def dev_branches(self, table: str | None = None) -> pd.DataFrame:
        """Branches other than main: one row per (branch, table), with head, fork and status."""
        from .branches import list_branches

        columns = ["branch", "table", "head", "fork", "main_head", "ahead", "main_moved"]
        rows = [s.as_dict() for s in list_branches(self.session, table)]
        return pd.DataFrame(rows, columns=columns)

    def dev_context(self, name: str, tables: list[str] | None = None) -> Any:
        """A context manager: work on branch ``name`` inside the block, back to the previous branch after."""
        from contextlib import contextmanager

        @contextmanager
        def scope() -> Any:
            previous = self.session.branch
            self.dev_start(name, tables)
            try:
                yield self
            finally:
                self.session.use_branch(previous)

        return scope()

    def expire(self, older_than: Any = None, table: str | None = None) -> dict[str, int]:
        """Expire snapshots older than a timedelta or datetime (default 7 days); heads are kept."""
        import datetime as dt

        from .branches import expire

        return expire(self.session, older_than or dt.timedelta(days=7), table)

    def _branch_arg(self, branch: str | None) -> str:
        from .reading import MAIN

        name = branch or self.session.branch
        if name == MAIN:
            raise InvalidInput("no dev branch is active: name one, or start one with rat.dev_start(name)")
        return name
