"""CSV and TSV: sniffed dialect, encoding and header, read by pyarrow in blocks as text columns.

Columns are read as strings and typed afterwards (:mod:`.infer`), so that a value far down the file can
never be silently turned into NULL by a type guessed from the first block.
"""

from __future__ import annotations

import codecs
import io
import re
import threading
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.csv as pv

from .base import Chunk
from .errors import BadFile
from .options import IngestOptions
from .progress import Progress
from .sniff import Dialect, column_names, decode_sample, detect_encoding, looks_like_header, sniff_dialect
from .sniff import split_rows as split_sample
from .sources import SourceFile

SAMPLE_BYTES = 1 << 20
_COLUMNS_RE = re.compile(r"Expected (\d+) columns, got (\d+)")


def position(stream: pa.NativeFile, estimate: int) -> int:
    """Bytes read so far: the file position when it has one, else an estimate."""
    try:
        return int(stream.tell())
    except OSError:
        return estimate


class _Gate(io.RawIOBase):
    """A stream that reads at most a few blocks ahead of the rows consumed.

    pyarrow's streaming CSV reader buffers up to 32 blocks in a background thread, whatever the memory
    bound. Reads through this gate block (in that background thread) once ``ahead`` blocks are waiting,
    until the consumer takes a batch, or asks for one and the reader needs more bytes to make it.
    """

    def __init__(self, inner: Any, block: int, ahead: int = 2) -> None:
        super().__init__()
        self._inner = inner
        self._block = block
        self._allowed = block * ahead
        self._read = 0
        self._waiting = False
        self._cond = threading.Condition()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        with self._cond:
            while self._read >= self._allowed and not self.closed:
                if not self._cond.wait(0.05) and self._waiting:
                    self._allowed += self._block  # the consumer needs bytes to finish a batch
        data = bytes(self._inner.read(size))
        with self._cond:
            self._read += len(data)
        return data

    def consumer_waiting(self, waiting: bool) -> None:
        """The consumer is (or stops) waiting for a batch."""
        with self._cond:
            self._waiting = waiting
            self._cond.notify_all()

    def consumed(self) -> None:
        """The consumer took a batch: one more block may be read."""
        with self._cond:
            self._allowed += self._block
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            super().close()
            self._cond.notify_all()


class CsvReader:
    """Reads one CSV or TSV file (optionally gzip-compressed).

    Args:
        source: The file.
        fmt: ``csv`` or ``tsv``.
        gzip: The bytes are gzip-compressed.
        options: The ingestion options.
    """

    def __init__(self, source: SourceFile, fmt: str, gzip: bool, options: IngestOptions) -> None:
        self.source = source
        self.display = source.display
        self.gzip = gzip
        self.options = options
        sample = self._head(SAMPLE_BYTES)
        self.encoding = detect_encoding(self.display, sample, options.encoding)
        text = decode_sample(sample, self.encoding)
        if not text.strip():
            raise BadFile(self.display, "the file is empty (no rows)")
        if "\x00" in text[:4096] and not self.encoding.startswith("utf-16"):
            raise BadFile(self.display, "this is not a text file: it holds binary data")
        self.dialect: Dialect = sniff_dialect(text, fmt, options.delimiter, options.quotechar)
        rows = [r for r in split_sample(text, self.dialect) if any(c.strip() for c in r)]
        header = options.header
        if header is None:
            header = 0 if rows and looks_like_header(rows[0], rows[1:]) else False
        elif header is True:
            header = 0
        self.header_row: int | None = None if header is False else int(header)
        skip = self.header_row if self.header_row is not None else 0
        if self.header_row is not None and len(rows) <= self.header_row:
            raise BadFile(self.display, f"there is no row {self.header_row} to take the header from")
        raw_names = rows[self.header_row] if self.header_row is not None else None
        width = max((len(r) for r in rows[skip : skip + 50]), default=0)
        self.names = column_names(raw_names, len(raw_names) if raw_names is not None else width)
        self.skip_rows = skip + (1 if self.header_row is not None else 0)

    def _open(self) -> tuple[pa.NativeFile, pa.NativeFile]:
        raw = self.source.open_stream()
        return raw, (pa.CompressedInputStream(raw, "gzip") if self.gzip else raw)

    def _head(self, size: int) -> bytes:
        raw, stream = self._open()
        try:
            return bytes(stream.read(size))
        except OSError as e:
            raise BadFile(self.display, f"the compressed data is damaged or truncated ({e})") from e
        finally:
            raw.close()

    def _reader(self, stream: pa.NativeFile, threads: bool = True, handler: Any = None) -> Any:
        enc = "utf8" if self.encoding in ("utf-8", "utf-8-sig") else self.encoding
        return pv.open_csv(
            stream,
            read_options=pv.ReadOptions(
                use_threads=threads,
                block_size=self.options.chunk_bytes,
                skip_rows=self.skip_rows,
                column_names=self.names,
                encoding=enc,
            ),
            parse_options=pv.ParseOptions(
                delimiter=self.dialect.delimiter,
                quote_char=self.dialect.quotechar,
                double_quote=self.dialect.doublequote,
                escape_char=self.dialect.escapechar or False,
                newlines_in_values=True,
                invalid_row_handler=handler,
            ),
            convert_options=pv.ConvertOptions(
                column_types={n: pa.string() for n in self.names}, strings_can_be_null=False
            ),
        )

    def chunks(self, progress: Progress) -> Iterator[Chunk]:
        """The rows in blocks of about ``options.chunk_bytes``; raises BadFile naming the row."""
        raw, stream = self._open()
        gate = _Gate(stream, self.options.chunk_bytes)
        rows_done = 0
        estimate = 0
        try:
            try:
                reader = self._reader(gate)  # type: ignore[arg-type]
            except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as e:
                raise self._explain(e) from e
            while True:
                gate.consumer_waiting(True)
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as e:
                    raise self._explain(e) from e
                finally:
                    gate.consumer_waiting(False)
                gate.consumed()
                if batch.num_rows == 0:
                    continue
                estimate += batch.nbytes
                progress.update_to(position(raw, estimate))
                first = self.skip_rows + rows_done + 1
                rows_done += batch.num_rows
                yield Chunk({n: batch.column(i) for i, n in enumerate(self.names)}, batch.num_rows, first)
        finally:
            gate.close()
            raw.close()
        if rows_done == 0:
            what = "a header row but no data rows" if self.header_row is not None else "no data rows"
            raise BadFile(self.display, f"the file has {what}")

    # -- errors -----------------------------------------------------------------------------------------

    def _explain(self, e: Exception) -> BadFile:
        message = str(e)
        if isinstance(e, UnicodeDecodeError) or "invalid UTF8" in message:
            return self._encoding_error()
        if isinstance(e, OSError) and self.gzip:
            return BadFile(self.display, f"the gzip data is damaged or truncated ({message})")
        if m := _COLUMNS_RE.search(message):
            return self._ragged(int(m.group(1)), int(m.group(2)))
        return BadFile(self.display, f"cannot parse the file as {self._what()}: {message}")

    def _what(self) -> str:
        return f"text delimited by {self.dialect.delimiter!r}"

    def _ragged(self, expected: int, got: int) -> BadFile:
        found: list[Any] = []

        def handler(row: Any) -> str:
            found.append(row)
            return "error"

        # The multi-threaded reader does not know row numbers: read again on one thread to find it.
        raw, stream = self._open()
        try:
            reader = self._reader(stream, threads=False, handler=handler)
            for _ in reader:
                pass
        except (pa.ArrowInvalid, OSError, UnicodeDecodeError):
            pass
        finally:
            raw.close()
        row = found[0].number if found and found[0].number else None
        text = found[0].text if found else ""
        reason = f"this row has {got} fields but the header has {expected}"
        if text and self._is_last_line(text):
            reason += (
                "; it is the last row and the file does not end with a line break: the file looks truncated"
            )
        elif text:
            reason += f": {text[:120]!r}"
        reason += f" (fields are separated by {self.dialect.delimiter!r})"
        return BadFile(self.display, reason, row=row)

    def _is_last_line(self, text: str) -> bool:
        size = self.source.size
        if self.gzip or size <= 0:
            return False
        with self.source.location.fs.open_input_file(self.source.location.path) as f:
            f.seek(max(0, size - 4096))
            tail = bytes(f.read())
        if tail.endswith((b"\n", b"\r")):
            return False
        return tail.decode(self.encoding, errors="replace").rstrip().endswith(text.rstrip())

    def _encoding_error(self) -> BadFile:
        decoder = codecs.getincrementaldecoder("utf-8" if self.encoding == "utf-8-sig" else self.encoding)()
        raw, stream = self._open()
        line, offset = 1, 0
        try:
            while block := bytes(stream.read(1 << 20)):
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as err:
                    line += block[: err.start].count(b"\n")
                    bad = block[err.start : err.start + 1].hex()
                    return BadFile(
                        self.display,
                        f"this row is not valid {self.encoding} text (byte 0x{bad} at offset "
                        f"{offset + err.start}); pass encoding='cp1252' (or the file's encoding)",
                        row=line,
                    )
                line += block.count(b"\n")
                offset += len(block)
        finally:
            raw.close()
        return BadFile(self.display, f"the file is not valid {self.encoding} text; pass encoding=")
