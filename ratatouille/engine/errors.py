"""Engine errors: ClickHouse messages cleaned to their reason, positions kept, credentials removed."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..errors import EngineError

if TYPE_CHECKING:
    from ..config import Settings

_ERROR_CODE_RE = re.compile(r"^Code:\s*\d+\.\s*(?:DB::Exception:\s*)?")
_ERROR_TRAILER_RE = re.compile(r"\s*\((?:[A-Z_]+)\)(?:\s*\(version [^)]*\))?\s*$")
_LINE_RE = re.compile(r"\(line (\d+), col (\d+)\)")
_POSITION_RE = re.compile(r"failed at position (\d+)")
_SYNTAX_RE = re.compile(r"Syntax error: failed at position \d+ \(([^)]*)\)")


class EngineSQLError(EngineError):
    """An error the engine reported for a query, with its position in the SQL that ran."""

    def __init__(self, message: str, *, position: int | None, line: int | None) -> None:
        super().__init__(message, line=line)
        self.position = position


def clean_engine_message(raw: str) -> tuple[str, int | None, int | None]:
    """Shorten a ClickHouse error to its reason, and pull out the failing position and line."""
    text = raw.strip()
    text = _ERROR_CODE_RE.sub("", text)
    first = text.split("\n", 1)[0]
    syntax = _SYNTAX_RE.search(text)
    if syntax:
        token = syntax.group(1)
        # The client appends "FORMAT Arrow": failing there means the query ended too early.
        where = "the query ends too early" if token == "FORMAT" else f"unexpected {token!r}"
        expected = text.split("Expected one of:", 1)[1] if "Expected one of:" in text else ""
        options = [o.strip() for o in expected.split(",") if o.strip()][:6]
        hint = f" (expected one of: {', '.join(options).rstrip('.')}...)" if options else ""
        first = f"Syntax error: {where}{hint}"
    first = _ERROR_TRAILER_RE.sub("", first)
    # "In scope <query>" repeats the expanded SQL (long file lists): the reason alone is clearer.
    first = first.split(". In scope ", 1)[0]
    line_m = _LINE_RE.search(text)
    pos_m = _POSITION_RE.search(text)
    return (
        first.strip().rstrip(":").strip(),
        int(pos_m.group(1)) if pos_m else None,
        int(line_m.group(1)) if line_m else None,
    )


def scrub(text: str, settings: Settings) -> str:
    """Remove credentials from a message."""
    for secret in (settings.s3_secret_access_key, settings.s3_access_key_id):
        if secret:
            text = text.replace(secret, "****")
    return text
