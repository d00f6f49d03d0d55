"""Inputs that carry their own types: Parquet files (streamed by row group) and custom parsers' DataFrames."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pandas as pd
import pyarrow as pa

from ..errors import InvalidInput, RatError
from ..frames import to_arrow
from .base import Chunk
from .errors import BadFile
from .options import IngestOptions, ParserFunc
from .progress import Progress
from .sources import SourceFile


class ParquetReader:
    """Reads a Parquet file in record batches within the memory bound."""

    def __init__(self, source: SourceFile, options: IngestOptions) -> None:
        self.source = source
        self.display = source.display
        self.options = options

    def chunks(self, progress: Progress) -> Iterator[Chunk]:
        """The file's record batches."""
        import pyarrow.parquet as pq

        loc = self.source.location
        try:
            with loc.fs.open_input_file(loc.path) as f:
                pf = pq.ParquetFile(f)
                rows = pf.metadata.num_rows
                if rows == 0:
                    raise BadFile(self.display, "the Parquet file holds no rows")
                meta = pf.metadata
                raw_bytes = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
                per_row = max(1, raw_bytes // rows)
                batch_rows = max(1024, self.options.chunk_bytes // per_row)
                first = 1
                for batch in pf.iter_batches(batch_size=batch_rows):
                    progress.advance(batch.num_rows)
                    columns = {n: batch.column(i) for i, n in enumerate(batch.schema.names)}
                    yield Chunk(columns, batch.num_rows, first, typed=True)  # type: ignore[arg-type]
                    first += batch.num_rows
        except BadFile:
            raise
        except (pa.ArrowInvalid, OSError) as e:
            raise BadFile(self.display, f"the Parquet file is damaged or truncated ({e})") from e


class ParserReader:
    """Runs a custom parser ``func(BytesIO, filename) -> DataFrame`` on a file."""

    def __init__(self, source: SourceFile, name: str, func: ParserFunc) -> None:
        self.source = source
        self.display = source.display
        self.name = name
        self.func = func

    def chunks(self, progress: Progress) -> Iterator[Chunk]:
        """The parser's DataFrame, as one chunk."""
        data = io.BytesIO(self.source.read_bytes())
        try:
            df = self.func(data, self.source.name)
        except RatError:
            raise
        except Exception as e:  # a user's parser may raise anything: name the file and the parser
            raise BadFile(self.display, f"parser {self.name!r} failed: {type(e).__name__}: {e}") from e
        if not isinstance(df, pd.DataFrame | pa.Table):
            raise BadFile(self.display, f"parser {self.name!r} returned {type(df).__name__}, not a DataFrame")
        try:
            table = to_arrow(df)
        except InvalidInput as e:
            raise BadFile(self.display, f"parser {self.name!r} returned unusable data: {e}") from e
        if table.num_rows == 0:
            raise BadFile(self.display, f"parser {self.name!r} returned no rows")
        progress.update_to(self.source.size)
        columns = {n: table.column(i) for i, n in enumerate(table.column_names)}
        yield Chunk(columns, table.num_rows, 1, typed=True)  # type: ignore[arg-type]
