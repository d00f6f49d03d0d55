"""JSON (an array of objects, an object holding one, or a single object) and NDJSON (one object per line).

NDJSON streams in chunks of lines; a JSON document is parsed whole (prefer NDJSON for large data).
Nested objects and arrays are kept as JSON text.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from .base import Chunk
from .errors import BadFile
from .options import IngestOptions
from .progress import Progress
from .sniff import detect_encoding
from .sources import SourceFile
from .text import position


class JsonReader:
    """Reads a JSON or NDJSON file (optionally gzip-compressed).

    Args:
        source: The file.
        fmt: ``json`` or ``ndjson``.
        gzip: The bytes are gzip-compressed.
        options: The ingestion options.
    """

    def __init__(self, source: SourceFile, fmt: str, gzip: bool, options: IngestOptions) -> None:
        self.source = source
        self.display = source.display
        self.fmt = fmt
        self.gzip = gzip
        self.options = options
        self.chunk_rows = max(1000, options.chunk_bytes // 200)

    def _text_stream(self) -> tuple[pa.NativeFile, io.TextIOWrapper]:
        raw = self.source.open_stream()
        stream: Any = pa.CompressedInputStream(raw, "gzip") if self.gzip else raw
        head = bytes(stream.read(1 << 16))
        encoding = detect_encoding(self.display, head, self.options.encoding)
        rest = io.BufferedReader(_Concat(head, stream), 1 << 20)  # type: ignore[arg-type]
        return raw, io.TextIOWrapper(rest, encoding=encoding, errors="strict", newline=None)

    def chunks(self, progress: Progress) -> Iterator[Chunk]:
        """The records, in chunks."""
        raw, text = self._text_stream()
        try:
            if self.fmt == "json":
                try:
                    document = json.load(text)
                except json.JSONDecodeError as e:
                    if e.msg.startswith("Extra data"):
                        # Several documents, one per line: it is NDJSON under a .json name.
                        raw.close()
                        raw, text = self._text_stream()
                        yield from self._lines(text, raw, progress)
                        return
                    raise self._decode_error(e) from e
                records = self._records(document)
                progress.update_to(position(raw, self.source.size))
                for start in range(0, len(records), self.chunk_rows):
                    part = records[start : start + self.chunk_rows]
                    yield _chunk(part, start + 1)
                if not records:
                    raise BadFile(self.display, "the JSON array holds no records")
            else:
                yield from self._lines(text, raw, progress)
        except UnicodeDecodeError as e:
            raise BadFile(
                self.display, f"the file is not valid text in its encoding ({e.reason}); pass encoding="
            ) from e
        except OSError as e:
            raise BadFile(self.display, f"the compressed data is damaged or truncated ({e})") from e
        finally:
            raw.close()

    def _lines(self, text: io.TextIOWrapper, raw: pa.NativeFile, progress: Progress) -> Iterator[Chunk]:
        batch: list[dict[str, Any]] = []
        first = 1
        total = 0
        for number, line in enumerate(text, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as e:
                hint = " (the file looks truncated)" if not line.endswith("\n") else ""
                raise BadFile(self.display, f"this line is not valid JSON: {e.msg}{hint}", row=number) from e
            if not isinstance(value, dict):
                raise BadFile(
                    self.display, f"each line must be a JSON object, got {type(value).__name__}", row=number
                )
            if not batch:
                first = number
            batch.append(value)
            if len(batch) >= self.chunk_rows:
                total += len(batch)
                progress.update_to(position(raw, self.source.size))
                yield _chunk(batch, first)
                batch = []
        if batch:
            total += len(batch)
            progress.update_to(position(raw, self.source.size))
            yield _chunk(batch, first)
        if total == 0:
            raise BadFile(self.display, "the file holds no records")

    def _records(self, document: Any) -> list[dict[str, Any]]:
        if isinstance(document, dict):
            lists = [v for v in document.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
            document = lists[0] if len(lists) == 1 else [document]
        if not isinstance(document, list):
            raise BadFile(self.display, f"expected an array of objects, got {type(document).__name__}")
        for i, item in enumerate(document):
            if not isinstance(item, dict):
                raise BadFile(self.display, f"record {i + 1} is {type(item).__name__}, not an object")
        return document

    def _decode_error(self, e: json.JSONDecodeError) -> BadFile:
        end = e.pos >= len(e.doc) - 1
        hint = ": the file looks truncated" if end else ""
        return BadFile(self.display, f"not valid JSON: {e.msg} (column {e.colno}){hint}", row=e.lineno)


def _chunk(records: list[dict[str, Any]], first: int) -> Chunk:
    names: dict[str, None] = {}
    for r in records:
        for k in r:
            names.setdefault(str(k), None)
    columns = {n: [r.get(n) for r in records] for n in names}
    return Chunk(dict(columns), len(records), first)  # type: ignore[arg-type]


class _Concat(io.RawIOBase):
    """An already-read head followed by the rest of a stream."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)
