"""Ingestion: files into one table, typed, tracked, streamed within the memory bound, in one commit."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from ..errors import InvalidInput, RatError
from ..sqltext import TableRef
from . import parsers
from .base import Reader
from .columns import Plan
from .commit import StreamWriter
from .errors import BadFile, Restart
from .lineage import claim_token
from .options import IngestOptions
from .progress import Progress
from .registry import CLAIMS_PROPERTY, FileRecord, Registry
from .sniff import detect
from .sources import SourceFile

if TYPE_CHECKING:
    from ..session import Lakehouse

METADATA_COLUMNS = ("_source_file", "_ingested_at")
SHEET_COLUMN = "_sheet"
MAX_RESTARTS = 20


@dataclass
class Outcome:
    """What an ingestion did.

    Attributes:
        preview: The ingested rows (all of them when they fit an eighth of the memory bound, else the first).
        rows: Rows committed.
        files: Files considered.
        ingested: Files committed.
        already_ingested: Files skipped because the registry says they are in the table already.
        errors: ``{"file": ..., "error": ...}`` for each file that failed.
        snapshot_id: The commit's snapshot, None when nothing was committed.
        truncated: The preview holds only the first rows.
    """

    preview: pd.DataFrame
    rows: int = 0
    files: int = 0
    ingested: int = 0
    already_ingested: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    snapshot_id: int | None = None
    truncated: bool = False


def make_reader(source: SourceFile, options: IngestOptions) -> Reader:
    """The reader for a file: a custom parser when asked, else by format."""
    if options.parser is not None:
        from .typed import ParserReader

        if callable(options.parser):
            return ParserReader(source, getattr(options.parser, "__name__", "parser"), options.parser)
        return ParserReader(source, options.parser, parsers.get(options.parser))
    with source.open_stream() as f:
        head = bytes(f.read(8192))
    kind = detect(source.display, source.name, head, options.format)
    if kind.format in ("csv", "tsv"):
        from .text import CsvReader

        return CsvReader(source, kind.format, kind.gzip, options)
    if kind.format in ("json", "ndjson"):
        from .jsonfmt import JsonReader

        return JsonReader(source, kind.format, kind.gzip, options)
    if kind.format in ("xlsx", "xls"):
        from .excel import ExcelReader

        return ExcelReader(source, kind.format, options)
    from .typed import ParquetReader

    return ParquetReader(source, options)


def content_hash(source: SourceFile, progress: Progress) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with source.open_stream() as f:
        while block := f.read(8 << 20):
            digest.update(block)
            progress.update_to(progress.done + len(block))
    return digest.hexdigest()


class _Preview:
    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.tables: list[pa.Table] = []
        self.bytes = 0
        self.truncated = False

    def add(self, table: pa.Table) -> None:
        if self.truncated:
            return
        if self.bytes + table.nbytes > self.budget:
            self.truncated = True
            if not self.tables:
                self.tables.append(table.slice(0, 1000))
            return
        self.tables.append(table)
        self.bytes += table.nbytes

    def frame(self) -> pd.DataFrame:
        if not self.tables:
            return pd.DataFrame()
        frame: pd.DataFrame = pa.concat_tables(self.tables, promote_options="permissive").to_pandas()
        return frame


def _metadata(source: SourceFile, options: IngestOptions) -> dict[str, str]:
    values: dict[str, str] = {}
    if options.extract_from_filename:
        pattern = re.compile(options.extract_from_filename)
        m = pattern.search(source.name) or pattern.search(source.display)
        if m is None:
            raise BadFile(
                source.display, f"the name does not match extract_from_filename {pattern.pattern!r}"
            )
        values.update({k: v for k, v in m.groupdict().items() if v is not None})
    return values


def _with_metadata(
    typed: dict[str, pa.Array],
    rows: int,
    source: str,
    stamp: pa.Scalar,
    extra: dict[str, str],
    sheet: str | None,
    display: str,
) -> pa.Table:
    added = {**extra, "_source_file": source}
    if sheet is not None:
        added[SHEET_COLUMN] = sheet
    clash = [c for c in [*added, "_ingested_at"] if c in typed]
    if clash:
        raise BadFile(display, f"the file has a column named {clash[0]!r}, which ingestion adds: rename it")
    columns = dict(typed)
    for name, value in extra.items():
        columns[name] = pa.repeat(pa.scalar(value, pa.string()), rows)
    if sheet is not None:
        columns[SHEET_COLUMN] = pa.repeat(pa.scalar(sheet, pa.string()), rows)
    columns["_source_file"] = pa.repeat(pa.scalar(source, pa.string()), rows)
    columns["_ingested_at"] = pa.repeat(stamp, rows)
    return pa.table(columns)


def ingest(
    session: Lakehouse,
    sources: list[SourceFile],
    target: str,
    options: IngestOptions,
    *,
    mode: str = "append",
    track: bool = False,
    skip_existing: bool = False,
    on_error: str = "raise",
    short_name: Callable[[SourceFile], str] = lambda s: s.display,
) -> Outcome:
    """Ingest files into ``target`` in one commit (see docs/ingestion.md).

    Raises:
        BadFile: A file cannot be ingested (with ``on_error="raise"``; nothing is committed).
        InvalidInput: Bad options or target.
    """
    ref = TableRef.parse(target)
    if ref.is_pinned:
        raise InvalidInput(f"cannot ingest into {target}: name a table, not a snapshot or ref")
    if on_error not in ("raise", "skip"):
        raise InvalidInput(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    target = ref.identifier
    context = {**session.context}
    partition_by = list(options.partition_by) if options.partition_by else None
    writer = StreamWriter(session.catalog, target, branch=session.branch, mode=mode,
                          operation=f"ingest:{mode}", context=context, partition_by=partition_by,
                          after_commit=session.after_commit(target))  # fmt: skip
    outcome = Outcome(pd.DataFrame(), files=len(sources))
    registry = Registry(session.settings, session.catalog) if track else None
    todo = list(sources)
    hashes: dict[str, str] = {}
    claims: dict[str, int] = {}
    if registry is not None:
        total = sum(s.size for s in sources)
        with Progress("hashing", total, enabled=options.progress) as bar:
            hashes = {s.location.uri: content_hash(s, bar) for s in sources}
        table = writer._table
        done = registry.ingested(target, table, session.branch, list(hashes.values()))
        if skip_existing or len(sources) == 1:
            seen = set(done)
            todo = []
            for s in sources:
                h = hashes[s.location.uri]
                if h in seen:
                    outcome.already_ingested.append(s.display)
                else:
                    seen.add(h)  # the same content twice in one batch is ingested once
                    todo.append(s)
        records = [FileRecord(short_name(s), s.name, hashes[s.location.uri], s.size) for s in todo]
        claims = registry.claim(target, table, session.branch, records) if records else {}
    if not todo:
        return outcome
    try:
        return _run(session, writer, todo, options, outcome, registry, hashes, claims, on_error, short_name)
    except BaseException:
        writer.abort()  # deletes files only while no commit was tried
        if registry is not None and writer.outcome != "landed":
            registry.release(list(claims.values()))  # claims still running; settled ones stay
        raise


def _run(
    session: Lakehouse,
    writer: StreamWriter,
    todo: list[SourceFile],
    options: IngestOptions,
    outcome: Outcome,
    registry: Registry | None,
    hashes: dict[str, str],
    claims: dict[str, int],
    on_error: str,
    short_name: Callable[[SourceFile], str],
) -> Outcome:
    stamp = pa.scalar(dt.datetime.now(dt.UTC), pa.timestamp("us", tz="UTC"))
    plan = Plan(
        options.declared, writer.table_types, options.null_markers, bool(options.schema), writer.target
    )
    total_bytes = sum(s.size for s in todo)
    for _attempt in range(MAX_RESTARTS):
        plan.new_attempt()
        preview = _Preview(options.memory_mb * (1 << 20) // 8)
        failed: list[tuple[SourceFile, RatError]] = []
        rows_by_file: dict[str, int] = {}
        try:
            with Progress(f"ingesting into {writer.target}", total_bytes, enabled=options.progress) as bar:
                done_bytes = 0
                for source in todo:
                    savepoint = writer.savepoint()
                    try:
                        rows_by_file[source.location.uri] = _one_file(
                            source, options, plan, writer, preview, stamp, short_name(source), bar, done_bytes
                        )
                    except (BadFile, InvalidInput) as e:
                        error = e if isinstance(e, BadFile) else BadFile(source.display, str(e))
                        failed.append((source, error))
                        writer.rollback(savepoint)
                    done_bytes += source.size
                    bar.update_to(done_bytes)
        except Restart as r:
            writer.abort()
            plan.widen(r.column, r.new_type)
            continue
        break
    else:
        raise InvalidInput(
            f"could not settle the column types of {writer.target} after {MAX_RESTARTS} passes"
        )
    outcome.errors = [{"file": s.display, "error": str(err)} for s, err in failed]
    if registry is not None:
        for s, err in failed:
            registry.failed(claims[hashes[s.location.uri]], str(err))
    if failed and on_error == "raise":
        writer.abort()
        if registry is not None:
            registry.release(list(claims.values()))
        if len(failed) == 1 and len(todo) == 1:
            raise failed[0][1]
        listing = "; ".join(f"{e}" for _, e in failed)
        raise BadFile(
            failed[0][0].display,
            f"{len(failed)} of {len(todo)} files failed, nothing was "
            f"written (pass on_error='skip' to write the others): {listing}",
        )
    writer.add_columns([pa.field(n, pa.string()) for n in plan.undecided()])
    good = [s for s in todo if s.location.uri in rows_by_file]
    outcome.preview = preview.frame()
    outcome.truncated = preview.truncated
    if not good:
        return outcome
    ids: dict[int, int] = {}
    props: dict[str, str] = {}
    if registry is not None:
        ids = {claims[hashes[s.location.uri]]: rows_by_file[s.location.uri] for s in good}
        tokens = {claim_token(claims[hashes[s.location.uri]], hashes[s.location.uri]) for s in good}
        props[CLAIMS_PROPERTY] = ",".join(sorted(tokens))
    try:
        result = writer.commit(props)
    except BaseException as e:
        if registry is not None:
            _settle_claims(registry, writer, ids, e)
        raise
    if registry is not None:
        registry.succeeded(ids, result.snapshot_id, writer.committed_table)
    outcome.rows = result.rows
    outcome.ingested = len(good)
    outcome.snapshot_id = result.snapshot_id
    return outcome


def _settle_claims(
    registry: Registry, writer: StreamWriter, ids: dict[int, int], error: BaseException
) -> None:
    """Record what a commit that raised did to the claims it carried.

    Landed (an interrupt arrived as it did): successes. Tried with an unknown or negative outcome: failed,
    but kept, since the commit carries them: if it lands after all, the next lookup finds it in the table
    and turns them into successes (:meth:`Registry.ingested`). Never tried: left to the caller's release.
    """
    if writer.outcome == "landed" and writer.result is not None:
        registry.succeeded(ids, writer.result.snapshot_id, writer.committed_table)
    elif writer.outcome is not None:
        for claim_id in ids:
            registry.failed(claim_id, f"the commit failed ({type(error).__name__}: {error}); it did not land "
                            "when checked, or could not be checked")  # fmt: skip


def _one_file(
    source: SourceFile,
    options: IngestOptions,
    plan: Plan,
    writer: StreamWriter,
    preview: _Preview,
    stamp: pa.Scalar,
    short: str,
    bar: Progress,
    offset: int,
) -> int:
    extra = _metadata(source, options)
    reader = make_reader(source, options)
    multi_sheet = len(getattr(reader, "sheets", [])) > 1
    rows = 0
    checked = False
    sub = _Offset(bar, offset)
    for chunk in reader.chunks(sub):  # type: ignore[arg-type]
        if not checked:
            plan.check_columns(source.display, list(chunk.columns))
            checked = True
        typed = plan.type_chunk(chunk, source.display, written=writer.rows > 0)
        table = _with_metadata(
            typed, chunk.num_rows, short, stamp, extra, chunk.sheet if multi_sheet else None, source.display
        )
        try:
            writer.write(table)
        except InvalidInput as e:
            raise BadFile(source.display, str(e)) from e
        preview.add(table)
        rows += chunk.num_rows
    return rows


class _Offset:
    """A file's progress inside the whole ingestion's bar."""

    def __init__(self, bar: Progress, offset: int) -> None:
        self.bar = bar
        self.offset = offset

    def update_to(self, done: int) -> None:
        self.bar.update_to(self.offset + done)

    def advance(self, rows: int) -> None:
        # Row-based readers (Excel, Parquet, parsers): the bar stays in bytes and shows a row count.
        self.bar.note_rows(rows)


def describe_skip(outcome: Outcome, target: str, branch: str) -> str:
    """The message shown when a file was already ingested."""
    names = ", ".join(outcome.already_ingested)
    return (
        f"{names} already ingested into {target} on branch {branch} (same content); nothing written. "
        f"rat.ingestion_history({target!r}) shows when; rat.reset_ingestion({target!r}) forgets it."
    )
