"""Errors of file ingestion: a bad file names itself (and its row or sheet); an internal restart signal."""

from __future__ import annotations

import pyarrow as pa

from ..errors import CommitOutcomeUnknown as CommitOutcomeUnknown  # re-exported: ingestion raised it first
from ..errors import InvalidInput


class BadFile(InvalidInput):
    """A file cannot be ingested as it is: empty, truncated, ragged, mis-encoded, mislabelled...

    Attributes:
        path: The file, as the user can find it.
        reason: What is wrong, without the file name.
        row: The 1-based row (the header row counts) where the problem is, when known.
        sheet: The Excel sheet, when it matters.
    """

    def __init__(self, path: str, reason: str, *, row: int | None = None, sheet: str | None = None) -> None:
        where = []
        if sheet is not None:
            where.append(f"sheet {sheet!r}")
        if row is not None:
            where.append(f"row {row}")
        at = f" ({', '.join(where)})" if where else ""
        super().__init__(f"{path}{at}: {reason}")
        self.path = path
        self.reason = reason
        self.row = row
        self.sheet = sheet


class Restart(Exception):
    """A column turned out to need a wider type than the rows already written used.

    Raised by the typing step and caught by the ingestion loop, which discards the uncommitted data
    files and reads the input again with the wider type. Types only widen, so restarts are finite.

    Attributes:
        column: The column.
        new_type: The type it needs.
    """

    def __init__(self, column: str, new_type: pa.DataType) -> None:
        super().__init__(f"column {column!r} needs {new_type}")
        self.column = column
        self.new_type = new_type
