"""Telling what a file is: format, compression, text encoding, CSV dialect and header row.

The format comes from the extension (or the caller) and is checked against the first bytes.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InvalidInput
from .errors import BadFile

FORMATS = ("csv", "tsv", "xlsx", "xls", "json", "ndjson", "parquet")
TEXT_FORMATS = ("csv", "tsv", "json", "ndjson")
_EXTENSIONS = {
    "csv": "csv",
    "txt": "csv",
    "tsv": "tsv",
    "tab": "tsv",
    "xlsx": "xlsx",
    "xlsm": "xlsx",
    "xls": "xls",
    "json": "json",
    "ndjson": "ndjson",
    "jsonl": "ndjson",
    "parquet": "parquet",
    "pq": "parquet",
}
_ALIASES = {"excel": "xlsx", "jsonl": "ndjson", "text": "csv", "txt": "csv"}
_MAGIC = (
    (b"PK\x03\x04", "xlsx", "an Excel workbook (or another zip archive)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "xls", "an old-style Excel workbook (.xls)"),
    (b"PAR1", "parquet", "a Parquet file"),
    (b"\x1f\x8b", "gzip", "gzip-compressed"),
    (b"%PDF", "pdf", "a PDF document"),
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class FileKind:
    """What a file is.

    Attributes:
        format: One of :data:`FORMATS`.
        gzip: True when the bytes are gzip-compressed (text formats only).
    """

    format: str
    gzip: bool


def format_from_name(name: str) -> tuple[str | None, bool]:
    """The format an extension announces (None if unknown), and whether a ``.gz`` wraps it."""
    lower = name.lower()
    gz = lower.endswith(".gz")
    if gz:
        lower = lower[:-3]
    ext = lower.rsplit(".", 1)[-1] if "." in lower else ""
    return _EXTENSIONS.get(ext), gz


def normalize_format(fmt: str) -> str:
    """Validate a user-given format name."""
    key = fmt.strip().lower().lstrip(".")
    key = _ALIASES.get(key, key)
    if key not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    return key


def _magic(head: bytes) -> tuple[str, str] | None:
    for magic, kind, label in _MAGIC:
        if head.startswith(magic):
            return kind, label
    return None


def detect(display: str, name: str, head: bytes, override: str | None = None) -> FileKind:
    """The file's format, from ``override`` or the extension, checked against the first bytes.

    Raises:
        BadFile: The file is empty, or its bytes are not what the extension (or override) says.
    """
    if not head:
        raise BadFile(display, "the file is empty")
    announced, gz_name = format_from_name(name)
    fmt = normalize_format(override) if override else announced
    magic = _magic(head)
    gz = magic is not None and magic[0] == "gzip"
    if gz and fmt in (None, *TEXT_FORMATS):
        return FileKind(fmt or "csv", True)
    if gz_name and not gz:
        raise BadFile(display, "the name ends in .gz but the content is not gzip-compressed")
    if fmt is None:
        if magic is not None and magic[0] in FORMATS:
            return FileKind(magic[0], False)
        stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        return FileKind("json" if stripped[:1] in (b"[", b"{") else "csv", False)
    expected = {"xlsx": "xlsx", "xls": "xls", "parquet": "parquet"}.get(fmt)
    if expected is not None:
        if magic is None or magic[0] != expected:
            what = magic[1] if magic else _describe_text(head)
            raise BadFile(display, f"this is not {_article(fmt)} file: its content looks like {what}")
        return FileKind(fmt, False)
    if magic is not None:
        raise BadFile(
            display,
            f"this is not a {fmt.upper()} file: its content looks like {magic[1]} "
            f"(pass format='{magic[0]}' if that is right)",
        )
    if b"\x00" in head[:4096] and not any(head.startswith(bom) for bom, _ in _BOMS):
        raise BadFile(display, f"this is not a {fmt.upper()} text file: it holds binary data")
    return FileKind(fmt, False)


def _article(fmt: str) -> str:
    return {"xlsx": "an Excel (.xlsx)", "xls": "an Excel (.xls)", "parquet": "a Parquet"}[fmt]


def _describe_text(head: bytes) -> str:
    if b"\x00" in head[:4096]:
        return "binary data"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"[", b"{"):
        return "JSON text"
    return "plain text (CSV?)"


def detect_encoding(display: str, sample: bytes, declared: str | None) -> str:
    """The text encoding: the declared one, a BOM's, UTF-8 when the sample decodes, else cp1252.

    Raises:
        InvalidInput: The declared encoding is unknown.
    """
    if declared:
        try:
            return codecs.lookup(declared).name
        except LookupError as e:
            raise InvalidInput(f"{display}: unknown encoding {declared!r}") from e
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    try:
        # A sample may end inside a multi-byte character: ignore an incomplete tail only.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def decode_sample(sample: bytes, encoding: str) -> str:
    """Decode a sample cut at an arbitrary byte, dropping an incomplete last character."""
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=False)


@dataclass(frozen=True)
class Dialect:
    """A CSV dialect.

    Attributes:
        delimiter: Field separator.
        quotechar: Quote character.
        doublequote: Quotes inside quoted fields are doubled.
        escapechar: Escape character, if any.
    """

    delimiter: str
    quotechar: str
    doublequote: bool = True
    escapechar: str | None = None


def sniff_dialect(text: str, fmt: str, delimiter: str | None, quotechar: str | None) -> Dialect:
    """Detect the delimiter and quoting from a text sample; explicit values win."""
    lines = text.splitlines()
    sample = "\n".join(lines[:200]) if len(lines) > 1 else text
    default_delim = "\t" if fmt == "tsv" else ","
    sniffed: type[csv.Dialect] | None = None
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=",;\t|" if fmt != "tsv" else "\t")
    except csv.Error:
        sniffed = None
    delim = delimiter or (sniffed.delimiter if sniffed else _count_delimiter(lines, default_delim))
    quote = quotechar or (sniffed.quotechar if sniffed and sniffed.quotechar else '"')
    escape = sniffed.escapechar if sniffed else None
    return Dialect(delim, quote, bool(sniffed.doublequote) if sniffed else True, escape)


def _count_delimiter(lines: list[str], default: str) -> str:
    """The candidate that splits the first lines into the same number (> 1) of fields, most often."""
    best, best_fields = default, 1
    for cand in (",", ";", "\t", "|"):
        counts = {line.count(cand) for line in lines[:50] if line.strip()}
        if len(counts) == 1 and (n := counts.pop()) + 1 > best_fields:
            best, best_fields = cand, n + 1
    return best


def split_rows(text: str, dialect: Dialect, limit: int = 50) -> list[list[str]]:
    """The first rows of a sample, split with the dialect (the last, maybe cut, row dropped)."""
    reader = csv.reader(
        text.splitlines()[: limit + 1],
        delimiter=dialect.delimiter,
        quotechar=dialect.quotechar,
        doublequote=dialect.doublequote,
        escapechar=dialect.escapechar,
    )
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
    except csv.Error:
        pass
    return rows[:limit]


def looks_like_header(first: list[str], rest: list[list[str]]) -> bool:
    """Whether the first row names columns.

    It does unless a cell is empty, repeated, or reads as a number or an ISO date: such a row is data.
    A file whose rows are all text gets a header (the common case, and the safe one: it keeps names).
    """
    cells = [c.strip() for c in first]
    if not cells or any(not c for c in cells) or len(set(cells)) != len(cells):
        return False
    return not any(_NUMBER_RE.match(c) or _DATE_RE.match(c) for c in cells)


def column_names(raw: Sequence[object] | None, width: int) -> list[str]:
    """Clean column names: trimmed, blanks named ``column_<n>``, repeats suffixed ``_2``, ``_3``..."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for i in range(width):
        value = raw[i] if raw and i < len(raw) else None
        name = ("" if value is None else str(value)).strip() or f"column_{i + 1}"
        base = name
        while name in seen:
            seen[base] += 1
            name = f"{base}_{seen[base]}"
        seen.setdefault(name, 1)
        names.append(name)
    return names
