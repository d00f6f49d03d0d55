"""Files in the landing zone or at a URI: list, read, write (Parquet), and the S3 buckets.

Paths are looked up as :mod:`ratatouille.ingest.sources` documents: ``landing/...`` is the landing zone
(a folder under the lakehouse home, or an S3 prefix), ``s3://`` and absolute paths are taken as given.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import pandas as pd

from .errors import InvalidInput, NotFound
from .frames import to_arrow
from .ingest.sources import (
    candidates,
    landing_root,
    list_files,
    resolve_files,
    resolve_one,
    s3_filesystem,
    short_name,
    target_location,
)

if TYPE_CHECKING:
    from .session import Lakehouse


def ls(session: Lakehouse, path: str = "") -> list[str]:
    """Every file under ``path`` (the landing zone when empty), recursively, as paths ``rat`` accepts.

    S3 listings are paginated: all keys are returned, not the first 1,000.
    """
    settings = session.settings
    if not path.strip():
        return [short_name(settings, f.location) for f in list_files(landing_root(settings))]
    try:
        return [f.display for f in resolve_files(settings, path)]
    except NotFound:
        from pyarrow import fs as pafs

        # An existing but empty folder lists as empty; a path that is nowhere is an error.
        for loc in candidates(settings, path):
            if loc.fs.get_file_info(loc.path).type == pafs.FileType.Directory:
                return []
        raise


def buckets(session: Lakehouse) -> list[str]:
    """The S3 buckets the settings' credentials can list; empty when no S3 is configured."""
    from pyarrow import fs as pafs

    settings = session.settings
    uses_s3 = settings.s3_endpoint or settings.uses_s3 or settings.landing.startswith("s3://")
    if not uses_s3:
        return []
    fs = s3_filesystem(settings)
    infos = fs.get_file_info(pafs.FileSelector("", recursive=False))
    return sorted(i.base_name for i in infos if i.type == pafs.FileType.Directory)


def read_file(session: Lakehouse, path: str) -> tuple[io.BytesIO, str]:
    """A file's bytes and its extension (lower case, no dot: ``"xlsx"``; ``"gz"`` for ``x.csv.gz``)."""
    found = resolve_one(session.settings, path)
    name = found.name
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return io.BytesIO(found.read_bytes()), ext


def read(session: Lakehouse, path: str, where: str = "", limit: int | None = None) -> pd.DataFrame:
    """Parquet files (a file, a folder or a glob) as a DataFrame.

    Args:
        session: The lakehouse session.
        path: Where the files are.
        where: A ClickHouse SQL condition on the files' columns (run by the engine).
        limit: At most this many rows.
    """
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise InvalidInput(f"limit must be a non-negative integer, got {limit!r}")
    files = [f for f in resolve_files(session.settings, path) if f.name.lower().endswith((".parquet", ".pq"))]
    if not files:
        raise NotFound(f"no Parquet file at {path!r}")
    if where.strip():
        return _read_sql(session, files, where, limit)
    import pyarrow.dataset as ds

    dataset = ds.dataset([f.location.path for f in files], format="parquet", filesystem=files[0].location.fs)
    table = dataset.head(limit) if limit is not None else dataset.to_table()
    frame: pd.DataFrame = table.to_pandas()
    return frame


def _read_sql(session: Lakehouse, files: list[Any], where: str, limit: int | None) -> pd.DataFrame:
    import pyarrow.parquet as pq

    from .arrowtypes import arrow_to_clickhouse, nullable
    from .sqltext import quote_identifier, quote_literal

    first = files[0].location
    with first.fs.open_input_file(first.path) as f:
        schema = pq.read_schema(f)
    structure = quote_literal(
        ", ".join(f"{quote_identifier(fl.name)} {nullable(arrow_to_clickhouse(fl.type))}" for fl in schema)
    )
    paths = [f.location.uri for f in files]
    source = session.engine.file_source(paths, structure)
    sql = f"SELECT * FROM {source} WHERE {where}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    frame: pd.DataFrame = session.engine.query_arrow(sql).to_pandas()
    return frame


def write(session: Lakehouse, df: Any, path: str) -> str:
    """Write a DataFrame (or Arrow table) as one Parquet file; return where it went.

    ``landing/...`` and other relative paths go into the landing zone; ``s3://`` and absolute paths
    are taken as given. A missing ``.parquet`` extension is added.
    """
    import pyarrow.parquet as pq

    if not isinstance(path, str) or not path.strip() or path.endswith("/"):
        raise InvalidInput(f"write needs a file path such as 'landing/exports/x.parquet', got {path!r}")
    if not path.lower().endswith((".parquet", ".pq")):
        path = f"{path}.parquet"
    table = to_arrow(df)
    loc = target_location(session.settings, path)
    parent = loc.path.rsplit("/", 1)[0]
    if not loc.is_s3:
        loc.fs.create_dir(parent, recursive=True)
    with loc.fs.open_output_stream(loc.path, compression=None) as out:
        pq.write_table(table, out)
    return short_name(session.settings, loc)
