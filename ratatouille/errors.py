"""The one exception tree of ratatouille.

Every error a user can cause derives from :class:`RatError`. Adapters map these once at their edge: the
magics turn them into a one-line ``UsageError``, the REST handlers into a 4xx status. Anything else that
escapes is a bug and keeps its traceback.
"""

from __future__ import annotations


class RatError(Exception):
    """Base class of every error ratatouille raises on purpose."""

    #: HTTP status an adapter should map this error to.
    http_status: int = 400


class InvalidInput(RatError, ValueError):
    """The caller passed something that cannot work: a bad name, option, type, key or file."""


class NotFound(RatError, LookupError):
    """A table, namespace, snapshot, branch, file or temp table does not exist."""

    http_status = 404


class AlreadyExists(RatError):
    """Something that must be new already exists."""

    http_status = 409


class Conflict(RatError):
    """A concurrent change prevents the operation (for example main moved under a branch)."""

    http_status = 409


class Incomplete(RatError):
    """An operation on several tables failed midway and could not be undone on every table.

    The message names the tables left changed, with the snapshot ids to put them back by hand.

    Attributes:
        changed: Table -> the snapshot id its main was left at (or may have been left at).
        restored: The tables put back as they were.
    """

    http_status = 500

    def __init__(self, message: str, *, changed: dict[str, int], restored: list[str]) -> None:
        super().__init__(message)
        self.changed = changed
        self.restored = restored


class CommitOutcomeUnknown(RatError):
    """A commit failed and whether it landed cannot be told now; its files are kept (see the message)."""

    http_status = 503


class NotInstalled(RatError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""

    http_status = 501


class ConfigError(RatError):
    """The settings (environment variables or ``ratatouille.toml``) are invalid.

    A server answers 503: it runs, but cannot serve the lakehouse until its settings are fixed.
    """

    http_status = 503


class EngineError(RatError):
    """The SQL engine refused a query (syntax error, unknown column, type error...).

    Attributes:
        sql: The SQL text as the user wrote it (table references not expanded), when known.
        line: The 1-based line of the user's SQL the engine points at, when it can be told.
    """

    def __init__(self, message: str, *, sql: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.sql = sql
        self.line = line


class CheckFailed(RatError):
    """Data-quality checks of severity ``error`` found violating rows (raised only when asked to).

    Attributes:
        results: Every result of the run (``CheckResult``), the passing ones included.
    """

    http_status = 422

    def __init__(self, message: str, *, results: list[object]) -> None:
        super().__init__(message)
        self.results = results
