"""Custom parsers: registered in the process, or installed through a package entry point."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pandas as pd
import pytest

from ratatouille.errors import InvalidInput, NotFound
from ratatouille.ingest import BadFile, parsers
from ratatouille.sdk import Rat

from .conftest import Landing


def legacy_erp(data: io.BytesIO, filename: str) -> pd.DataFrame:
    """Fixed-width exports of the legacy ERP."""
    lines = data.read().decode().splitlines()
    return pd.DataFrame({"code": [ln[:4].strip() for ln in lines], "qty": [int(ln[4:]) for ln in lines]})


def test_registered_parser(rat: Rat, landing: Landing) -> None:
    rat.register_parser("legacy_erp", legacy_erp)
    try:
        assert rat.parsers()["legacy_erp"] == "Fixed-width exports of the legacy ERP."
        assert "csv" in rat.parsers()
        path = landing.put("erp/export_2024.txt", "A1    5\nB22  12\n")
        _, rows = rat.ice_ingest(path, "bronze.erp", parser="legacy_erp",
                                 extract_from_filename=r"export_(?P<year>\d+)")  # fmt: skip
        out = rat.query("SELECT * FROM {bronze.erp} ORDER BY code")
        assert rows == 2 and out["qty"].tolist() == [5, 12] and out["year"].tolist() == ["2024", "2024"]
        assert out["_source_file"].tolist() == [path, path]
        _, stats = rat.ice_ingest_batch("landing/erp/", "bronze.erp2", parser=legacy_erp)
        assert stats["rows"] == 2
    finally:
        parsers.unregister("legacy_erp")


def test_parser_errors_name_the_file(local_rat: Rat, local_landing: Landing) -> None:
    def broken(data: io.BytesIO, filename: str) -> pd.DataFrame:
        raise ValueError("unexpected record type")

    path = local_landing.put("x.txt", "zzz")
    with pytest.raises(BadFile, match=r"x\.txt: parser 'broken' failed: ValueError: unexpected record type"):
        local_rat.ice_ingest(path, "bronze.x", parser=broken)
    with pytest.raises(NotFound, match="no parser 'nope'"):
        local_rat.ice_ingest(path, "bronze.x", parser="nope")
    with pytest.raises(InvalidInput, match="built-in"):
        local_rat.register_parser("csv", broken)


def test_entry_point_parser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, local_rat: Rat,
                            local_landing: Landing) -> None:  # fmt: skip
    pkg = tmp_path / "site"
    (pkg / "acme_parsers").mkdir(parents=True)
    (pkg / "acme_parsers" / "__init__.py").write_text(
        "import pandas as pd\n"
        "def parse(data, filename):\n"
        '    """Acme semicolon dumps."""\n'
        "    rows = [line.split(';') for line in data.read().decode().splitlines()]\n"
        "    return pd.DataFrame(rows, columns=['k', 'v'])\n"
    )
    dist = pkg / "acme_parsers-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-parsers\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[ratatouille.parsers]\nacme = acme_parsers:parse\n")
    monkeypatch.syspath_prepend(str(pkg))
    monkeypatch.setattr(parsers, "_loaded_entry_points", False)
    try:
        assert local_rat.parsers()["acme"] == "Acme semicolon dumps."
        _, rows = local_rat.ice_ingest(local_landing.put("d.txt", "a;1\nb;2\n"), "bronze.acme", parser="acme")
        assert rows == 2
    finally:
        parsers.unregister("acme")
        sys.modules.pop("acme_parsers", None)
