"""The ingestion calls behind ``rat``: one file, a batch, the registry, parsers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import InvalidInput
from ..sqltext import TableRef
from . import parsers
from .options import IngestOptions, ParserFunc
from .run import describe_skip, ingest
from .sources import SourceFile, resolve_files, resolve_one, short_name

if TYPE_CHECKING:
    from ..session import Lakehouse


def _options(
    sheet: Any, extract_from_filename: str | None, parser: Any, kwargs: dict[str, Any]
) -> IngestOptions:
    return IngestOptions.build(
        sheet=sheet, extract_from_filename=extract_from_filename, parser=parser, **kwargs
    )


def ingest_file(
    session: Lakehouse,
    source: str,
    table: str,
    sheet: Any = 0,
    mode: str = "append",
    extract_from_filename: str | None = None,
    parser: str | ParserFunc | None = None,
    *,
    track: bool = False,
    **kwargs: Any,
) -> tuple[pd.DataFrame, int]:
    """Ingest one file; return ``(df, rows)`` (see ``rat.ice_ingest``)."""
    options = _options(sheet, extract_from_filename, parser, kwargs)
    TableRef.parse(table)
    found = resolve_one(session.settings, source)
    found = SourceFile(found.location, found.size, source if isinstance(source, str) else found.display)
    outcome = ingest(
        session,
        [found],
        table,
        options,
        mode=mode,
        track=track,
        short_name=lambda s: short_name(session.settings, s.location),
    )
    df = outcome.preview
    if outcome.already_ingested:
        message = describe_skip(outcome, TableRef.parse(table).identifier, session.branch)
        print(message)
        df.attrs["status"] = "already_ingested"
        df.attrs["message"] = message
        return df, 0
    df.attrs.update(status="ingested", snapshot_id=outcome.snapshot_id, rows=outcome.rows)
    if outcome.truncated:
        df.attrs["truncated"] = True
    return df, outcome.rows


def ingest_batch(
    session: Lakehouse,
    source_prefix: str,
    table: str,
    sheet: Any = 0,
    mode: str = "append",
    extract_from_filename: str | None = None,
    parser: str | ParserFunc | None = None,
    file_filter: str | Callable[[str], bool] | None = None,
    skip_existing: bool = False,
    on_error: str = "raise",
    *,
    track: bool = True,
    **kwargs: Any,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Ingest every file under a prefix or matching a glob in one commit; return ``(df, stats)``."""
    options = _options(sheet, extract_from_filename, parser, kwargs)
    TableRef.parse(table)
    if skip_existing and not track:
        raise InvalidInput("skip_existing needs tracking (track=True)")
    files = resolve_files(session.settings, source_prefix)
    considered = [f for f in files if _keep(f, file_filter)]
    filtered = len(files) - len(considered)
    outcome = ingest(
        session,
        considered,
        table,
        options,
        mode=mode,
        track=track,
        skip_existing=skip_existing,
        on_error=on_error,
        short_name=lambda s: short_name(session.settings, s.location),
    )
    stats: dict[str, Any] = {
        "files": outcome.ingested,
        "rows": outcome.rows,
        "errors": outcome.errors,
        "skipped": filtered + len(outcome.already_ingested) + len(outcome.errors),
        "already_ingested": len(outcome.already_ingested),
        "filtered_out": filtered,
        "considered": len(considered),
        "snapshot_id": outcome.snapshot_id,
    }
    if outcome.already_ingested and not outcome.ingested:
        print(describe_skip(outcome, TableRef.parse(table).identifier, session.branch))
    return outcome.preview, stats


def _keep(f: SourceFile, file_filter: str | Callable[[str], bool] | None) -> bool:
    if file_filter is None:
        return True
    if callable(file_filter):
        return bool(file_filter(f.display))
    try:
        pattern = re.compile(file_filter)
    except re.error as e:
        raise InvalidInput(f"file_filter is not a valid regex: {e}") from e
    return bool(pattern.search(f.display) or pattern.search(f.name))


def history(session: Lakehouse, table: str | None = None) -> pd.DataFrame:
    """The registry's records (every attempt), newest first."""
    from .registry import Registry

    name = TableRef.parse(table).identifier if table is not None else None
    return Registry(session.settings, session.catalog).history(name)


def reset(session: Lakehouse, table: str | None = None) -> int:
    """Forget the registry's records of a table (or all); the files can be ingested again."""
    from .registry import Registry

    name = TableRef.parse(table).identifier if table is not None else None
    return Registry(session.settings, session.catalog).reset(name)


def available_parsers() -> dict[str, str]:
    """Built-in formats and custom parsers, ``{name: description}``."""
    return parsers.available()


def register_parser(name: str, func: ParserFunc, description: str | None = None) -> None:
    """Register a custom parser for this process."""
    parsers.register(name, func, description)
