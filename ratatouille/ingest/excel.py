"""Excel workbooks (.xlsx, .xls): sheets by index or name, header row, several sheets.

Cells keep the types Excel gave them. python-calamine reads both formats fast when it is installed;
otherwise openpyxl (.xlsx, streaming) and xlrd (.xls) do. A workbook is read into memory (Excel caps a
sheet at 1,048,576 rows); its rows are handed on in chunks.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator, Sequence
from typing import Any

from ..errors import NotInstalled
from .base import Chunk
from .errors import BadFile
from .options import IngestOptions
from .progress import Progress
from .sniff import column_names
from .sources import SourceFile

CHUNK_ROWS = 50_000


def _calamine_available() -> bool:
    try:
        import python_calamine  # noqa: F401
    except ImportError:
        return False
    return True


class ExcelReader:
    """Reads sheets of one workbook.

    Args:
        source: The file.
        fmt: ``xlsx`` or ``xls``.
        options: The ingestion options (``sheet``, ``header``).
        engine: ``calamine``, ``openpyxl`` (xlsx) or ``xlrd`` (xls); None picks the fastest installed.
    """

    def __init__(
        self, source: SourceFile, fmt: str, options: IngestOptions, engine: str | None = None
    ) -> None:
        self.source = source
        self.display = source.display
        self.fmt = fmt
        self.options = options
        self.engine = engine or (
            "calamine" if _calamine_available() else ("openpyxl" if fmt == "xlsx" else "xlrd")
        )
        self._data = source.read_bytes()
        self.sheet_names = self._sheet_names()
        self.sheets = self._pick(options.sheet)

    # -- workbook access ------------------------------------------------------------------------------

    def _open(self) -> Any:
        buf = io.BytesIO(self._data)
        if self.fmt == "xlsx" and not zipfile.is_zipfile(buf):
            raise BadFile(
                self.display, "the workbook is damaged or truncated (its zip archive is incomplete)"
            )
        buf.seek(0)
        try:
            if self.engine == "calamine":
                from python_calamine import CalamineWorkbook

                return CalamineWorkbook.from_filelike(buf)
            if self.engine == "openpyxl":
                import openpyxl

                return openpyxl.load_workbook(buf, read_only=True, data_only=True)
            import xlrd

            return xlrd.open_workbook(file_contents=self._data, on_demand=True)
        except ImportError as e:
            raise NotInstalled(f"reading Excel files needs: pip install 'ratatouille[excel]' ({e})") from e
        except (zipfile.BadZipFile, EOFError, KeyError, OSError, ValueError) as e:
            raise BadFile(self.display, f"the workbook is damaged or truncated ({e})") from e
        except Exception as e:  # the readers raise their own error classes (xlrd.XLRDError, CalamineError)
            raise BadFile(self.display, f"cannot read the workbook: it is damaged or truncated ({e})") from e

    def _sheet_names(self) -> list[str]:
        book = self._open()
        if self.engine == "calamine":
            return list(book.sheet_names)
        if self.engine == "openpyxl":
            names = list(book.sheetnames)
            book.close()
            return names
        return list(book.sheet_names())

    def _pick(self, spec: int | str | Sequence[int | str] | None) -> list[str]:
        if spec is None:
            return list(self.sheet_names)
        wanted = [spec] if isinstance(spec, int | str) else list(spec)
        out: list[str] = []
        for s in wanted:
            if isinstance(s, int) and not isinstance(s, bool):
                if not 0 <= s < len(self.sheet_names):
                    raise BadFile(self.display, f"there is no sheet {s}: {self._listing()}", sheet=str(s))
                out.append(self.sheet_names[s])
            elif isinstance(s, str) and s in self.sheet_names:
                out.append(s)
            else:
                raise BadFile(self.display, f"there is no sheet {s!r}: {self._listing()}", sheet=str(s))
        return out

    def _listing(self) -> str:
        names = ", ".join(f"{i}: {n!r}" for i, n in enumerate(self.sheet_names))
        return f"the workbook has {len(self.sheet_names)} sheet(s) ({names})"

    def _rows(self, sheet: str) -> Iterator[Sequence[Any]]:
        book = self._open()
        try:
            if self.engine == "calamine":
                yield from book.get_sheet_by_name(sheet).iter_rows()
            elif self.engine == "openpyxl":
                yield from book[sheet].iter_rows(values_only=True)
            else:
                yield from _xlrd_rows(book, sheet)
        except BadFile:
            raise
        except Exception as e:  # damaged sheet XML surfaces only while iterating
            raise BadFile(self.display, f"cannot read the sheet: {e}", sheet=sheet) from e
        finally:
            if self.engine == "openpyxl":
                book.close()

    # -- chunks ---------------------------------------------------------------------------------------

    def chunks(self, progress: Progress) -> Iterator[Chunk]:
        """Each picked sheet's data rows, in chunks of :data:`CHUNK_ROWS`."""
        for sheet in self.sheets:
            yield from self._sheet_chunks(sheet, progress)

    def _sheet_chunks(self, sheet: str, progress: Progress) -> Iterator[Chunk]:
        header = self.options.header
        header_row = 0 if header is None or header is True else (None if header is False else int(header))
        rows = self._rows(sheet)
        names: list[str] | None = None
        line = 0
        seen_rows = False
        for row in rows:
            line += 1
            if header_row is not None and line <= header_row:
                continue
            if not any(_cell(v) is not None for v in row):
                continue
            seen_rows = True
            if header_row is not None:
                width = _width(row)
                names = column_names([_cell(v) for v in row[:width]], width)
            break
        if not seen_rows:
            raise BadFile(self.display, "the sheet is empty", sheet=sheet)
        if names is None:  # no header: the row just read is data
            rows = _prepend(row, rows)
            line -= 1
        buffer: list[Sequence[Any]] = []
        first = line + 1
        width = len(names) if names is not None else 0
        total = 0
        for row in rows:
            line += 1
            cells = [_cell(v) for v in row]
            if not any(v is not None for v in cells):
                continue  # blank rows in a sheet are layout, not data
            if not buffer:
                first = line
            buffer.append(cells)
            width = max(width, _width(cells))
            if len(buffer) >= CHUNK_ROWS:
                names = self._names(names, width, sheet, buffer)
                total += len(buffer)
                progress.advance(len(buffer))
                yield self._chunk(names, buffer, first, sheet)
                buffer = []
        if buffer:
            names = self._names(names, width, sheet, buffer)
            total += len(buffer)
            progress.advance(len(buffer))
            yield self._chunk(names, buffer, first, sheet)
        if total == 0:
            raise BadFile(self.display, "the sheet has a header row but no data rows", sheet=sheet)

    def _names(self, names: list[str] | None, width: int, sheet: str, rows: list[Sequence[Any]]) -> list[str]:
        if names is None:
            return column_names(None, width)
        extra = [i for i in range(len(names), width) if any(i < len(r) and r[i] is not None for r in rows)]
        if extra:
            raise BadFile(
                self.display,
                f"a row has values in column {extra[0] + 1}, right of the header's last column "
                f"({len(names)}): give that column a name in the header",
                sheet=sheet,
            )
        return names

    def _chunk(self, names: list[str], rows: list[Sequence[Any]], first: int, sheet: str) -> Chunk:
        columns: dict[str, Any] = {}
        for i, name in enumerate(names):
            columns[name] = [r[i] if i < len(r) else None for r in rows]
        return Chunk(columns, len(rows), first, sheet=sheet)


def _cell(v: Any) -> Any:
    # calamine gives "" for an empty cell; a cell holding only spaces is empty too.
    if type(v) is str and not v.strip():
        return None
    if type(v) is dt.timedelta:
        return str(v)
    return v


def _width(row: Sequence[Any]) -> int:
    n = len(row)
    while n and _cell(row[n - 1]) is None:
        n -= 1
    return n


def _prepend(first: Sequence[Any], rest: Iterator[Sequence[Any]]) -> Iterator[Sequence[Any]]:
    yield first
    yield from rest


def _xlrd_rows(book: Any, sheet: str) -> Iterator[list[Any]]:
    import xlrd

    sh = book.sheet_by_name(sheet)
    for r in range(sh.nrows):
        out: list[Any] = []
        for value, ctype in zip(sh.row_values(r), sh.row_types(r), strict=True):
            if ctype == xlrd.XL_CELL_DATE:
                out.append(xlrd.xldate_as_datetime(value, book.datemode))
            elif ctype == xlrd.XL_CELL_BOOLEAN:
                out.append(bool(value))
            elif ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                out.append(None)
            elif ctype == xlrd.XL_CELL_ERROR:
                out.append(xlrd.error_text_from_code.get(value, "#ERR"))
            else:
                out.append(value)
        yield out
