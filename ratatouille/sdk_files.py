"""File and ingestion calls of ``rat``, thin over :mod:`ratatouille.ingest` and :mod:`ratatouille.files`."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .sdk_base import FacadeBase


class FilesMixin(FacadeBase):
    """File and ingestion calls of ``rat``."""

    def ice_ingest(
        self,
        source: str,
        table: str,
        sheet: int | str | list[int | str] | None = 0,
        mode: str = "append",
        extract_from_filename: str | None = None,
        parser: str | Any = None,
        **options: Any,
    ) -> tuple[pd.DataFrame, int]:
        """Ingest one file (CSV, TSV, Excel, JSON, NDJSON, Parquet) into a table; return ``(df, rows)``.

        Adds ``_source_file`` and ``_ingested_at``; ``extract_from_filename`` is a regex whose named groups
        become columns. Options (``format``, ``header``, ``delimiter``, ``encoding``, ``null_markers``,
        ``schema``, ``dtypes``, ``track``, ``memory_mb``, ``progress``...) are in docs/ingestion.md.
        """
        from .ingest import ingest_file

        return ingest_file(self.session, source, table, sheet, mode, extract_from_filename, parser, **options)

    def ice_ingest_batch(
        self,
        source_prefix: str,
        table: str,
        sheet: int | str | list[int | str] | None = 0,
        mode: str = "append",
        extract_from_filename: str | None = None,
        parser: str | Any = None,
        file_filter: str | Any = None,
        skip_existing: bool = False,
        on_error: str = "raise",
        **options: Any,
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Ingest every file under a prefix (or matching a glob) in one commit; return ``(df, stats)``.

        ``stats`` has ``files, rows, errors, skipped, already_ingested``. All or nothing unless
        ``on_error="skip"``, which commits the good files and lists the failed ones in ``errors``.
        """
        from .ingest import ingest_batch

        return ingest_batch(self.session, source_prefix, table, sheet, mode, extract_from_filename, parser,
                            file_filter, skip_existing, on_error, **options)  # fmt: skip

    def ingestion_history(self, table: str | None = None) -> pd.DataFrame:
        """The ingested-files registry (successes and failures), newest first."""
        from .ingest import history

        return history(self.session, table)

    def reset_ingestion(self, table: str | None = None) -> int:
        """Forget which files were ingested into a table (or all tables); return the records removed."""
        from .ingest import reset

        return reset(self.session, table)

    def parsers(self) -> dict[str, str]:
        """Built-in formats and custom parsers: ``{name: description}``."""
        from .ingest import available_parsers

        return available_parsers()

    def register_parser(self, name: str, func: Any, description: str | None = None) -> None:
        """Register ``func(data: BytesIO, filename) -> DataFrame`` as parser ``name`` (for this process)."""
        from .ingest import register_parser

        register_parser(name, func, description)

    def read(self, path: str, where: str = "", limit: int | None = None) -> pd.DataFrame:
        """Parquet files (globs allowed) from the landing zone or a URI."""
        from .files import read

        return read(self.session, path, where=where, limit=limit)

    def write(self, df: Any, path: str) -> str:
        """Write one Parquet file into the landing zone or a URI; return the path written."""
        from .files import write

        return write(self.session, df, path)

    def ls(self, path: str = "") -> list[str]:
        """Every file under a path (the landing zone by default); S3 listings are not cut at 1,000."""
        from .files import ls

        return ls(self.session, path)

    def buckets(self) -> list[str]:
        """The S3 buckets reachable with the settings (empty without S3)."""
        from .files import buckets

        return buckets(self.session)

    def read_file(self, path: str) -> tuple[Any, str]:
        """A file's bytes (``BytesIO``) and extension."""
        from .files import read_file

        return read_file(self.session, path)
