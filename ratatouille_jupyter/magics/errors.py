"""The one place where ratatouille's errors become one-line notebook messages.

A :class:`~ratatouille.errors.RatError` is a user mistake (unknown table, SQL error, bad option): it is
shown as IPython's ``UsageError``, one line, with the engine's reason and the SQL line it points at.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from IPython.core.error import UsageError

from ratatouille.errors import EngineError, RatError

_SNIPPET = 100


def one_line(error: RatError) -> str:
    """The message of a user error, with the SQL line for engine errors."""
    message = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, EngineError) and error.line is not None and error.sql:
        lines = error.sql.split("\n")
        if 0 < error.line <= len(lines):
            text = " ".join(lines[error.line - 1].split())
            if len(text) > _SNIPPET:
                text = text[: _SNIPPET - 1] + "…"
            return f"{message} [SQL line {error.line}: {text}]"
        return f"{message} [SQL line {error.line}]"
    return message


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn ratatouille's errors raised in the block into a one-line ``UsageError``."""
    try:
        yield
    except RatError as e:
        raise UsageError(one_line(e)) from None
