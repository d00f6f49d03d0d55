"""Fixtures of the ingestion tests: a ``rat`` on each setup, and a way to drop files into its landing zone."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pytest

from ratatouille.config import Settings
from ratatouille.ingest.sources import landing_root
from ratatouille.sdk import Rat
from ratatouille.session import Lakehouse


class Landing:
    """Writes files into a lakehouse's landing zone (a local folder or an S3 prefix)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = landing_root(settings)

    def put(self, rel: str, data: bytes | str) -> str:
        """Write ``landing/<rel>``; return that short path."""
        raw = data.encode("utf-8") if isinstance(data, str) else data
        loc = self.root.child(rel)
        if not loc.is_s3:
            loc.fs.create_dir(loc.path.rsplit("/", 1)[0], recursive=True)
        with loc.fs.open_output_stream(loc.path, compression=None) as out:
            out.write(raw)
        return f"landing/{rel}"


def xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    """An .xlsx workbook with these sheets and rows."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xls(rows: list[list[Any]], sheet: str = "Sheet1") -> bytes:
    """An old-style .xls workbook (xlwt)."""
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook()
    ws = book.add_sheet(sheet)
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                ws.write(r, c, value, date_style)
            elif value is not None:
                ws.write(r, c, value)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


@pytest.fixture
def rat(lakehouse: Lakehouse) -> Rat:
    """A ``rat`` on a fresh lakehouse, on each setup (local; Postgres + S3 landing zone)."""
    return Rat(lakehouse)


@pytest.fixture
def landing(lakehouse: Lakehouse) -> Landing:
    """The landing zone of :func:`rat`'s lakehouse."""
    return Landing(lakehouse.settings)


@pytest.fixture
def local_rat(local_settings: Settings) -> Iterator[Rat]:
    """A ``rat`` on a fresh embedded lakehouse only (for tests where the setup does not matter)."""
    lh = Lakehouse(local_settings)
    yield Rat(lh)
    lh.close()


@pytest.fixture
def local_landing(local_rat: Rat) -> Landing:
    """The landing zone of :func:`local_rat`'s lakehouse."""
    return Landing(local_rat.session.settings)
