"""Every format, with its options: CSV/TSV dialects and headers, gzip, Excel sheets, JSON, NDJSON, Parquet."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ratatouille.sdk import Rat

from .conftest import Landing, xls, xlsx


def table(rat: Rat, name: str) -> pd.DataFrame:
    return rat.query(f"SELECT * FROM {{{name}}} ORDER BY id")


def test_csv_dialects_and_headers(local_rat: Rat, local_landing: Landing) -> None:
    semi = 'id;name;note\n1;"Smith; John";"said ""hi""\nthen left"\n2;Doe;x\n'
    local_rat.ice_ingest(local_landing.put("semi.csv", semi), "bronze.semi")
    out = table(local_rat, "bronze.semi")
    assert out["name"].tolist() == ["Smith; John", "Doe"]
    assert out["note"][0] == 'said "hi"\nthen left'
    local_rat.ice_ingest(local_landing.put("t.tsv", "id\tname\n1\ta b\n"), "bronze.tsv")
    assert table(local_rat, "bronze.tsv")["name"].tolist() == ["a b"]
    # No header detected: the first row is numbers.
    local_rat.ice_ingest(local_landing.put("nohead.csv", "1,2024-01-01,x\n2,2024-01-02,y\n"), "bronze.nh")
    cols = list(local_rat.query("SELECT * FROM {bronze.nh}").columns)
    assert cols[:3] == ["column_1", "column_2", "column_3"]
    # A title line above the header; blank and repeated header names.
    text = "Export of 2024\nid,,name,name\n1,a,b,c\n"
    local_rat.ice_ingest(local_landing.put("title.csv", text), "bronze.title", header=1)
    assert list(table(local_rat, "bronze.title").columns)[:4] == ["id", "column_2", "name", "name_2"]
    # Explicit options win over sniffing.
    local_rat.ice_ingest(local_landing.put("pipe.txt", "id|v\n1|a,b\n"), "bronze.pipe", delimiter="|")
    assert table(local_rat, "bronze.pipe")["v"].tolist() == ["a,b"]


def test_gzip_and_encodings(local_rat: Rat, local_landing: Landing) -> None:
    local_rat.ice_ingest(local_landing.put("z.csv.gz", gzip.compress(b"id,v\n1,a\n2,b\n")), "bronze.z")
    assert table(local_rat, "bronze.z")["v"].tolist() == ["a", "b"]
    bom = "\ufeffid,v\n1,é\n".encode()
    local_rat.ice_ingest(local_landing.put("bom.csv", bom), "bronze.bom")
    assert list(table(local_rat, "bronze.bom").columns)[:2] == ["id", "v"]
    utf16 = "id,v\n1,ü\n".encode("utf-16")
    local_rat.ice_ingest(local_landing.put("u16.csv", utf16), "bronze.u16")
    assert table(local_rat, "bronze.u16")["v"].tolist() == ["ü"]


def test_excel_sheets(rat: Rat, landing: Landing) -> None:
    book = xlsx({
        "Notes": [["read me"]],
        "Jan": [["id", "amount"], [1, 10.5], [2, 20]],
        "Feb": [["id", "amount"], [3, 30]],
    })  # fmt: skip
    path = landing.put("book.xlsx", book)
    _, rows = rat.ice_ingest(path, "bronze.jan", sheet="Jan")
    assert rows == 2
    _, rows = rat.ice_ingest(path, "bronze.feb", sheet=2)
    assert rows == 1
    _, rows = rat.ice_ingest(path, "bronze.both", sheet=["Jan", "Feb"])
    out = table(rat, "bronze.both")
    assert rows == 3 and out["_sheet"].tolist() == ["Jan", "Jan", "Feb"]


def test_excel_readers_agree(local_rat: Rat, local_landing: Landing) -> None:
    from ratatouille.ingest.excel import ExcelReader
    from ratatouille.ingest.options import IngestOptions
    from ratatouille.ingest.progress import Progress
    from ratatouille.ingest.sources import resolve_one

    rows = [["id", "day", "name"], [1, dt.date(2024, 1, 2), "a"], [2, dt.date(2024, 1, 3), "b"]]
    settings = local_rat.session.settings
    xlsx_file = resolve_one(settings, local_landing.put("r.xlsx", xlsx({"S": rows})))
    xls_file = resolve_one(settings, local_landing.put("r.xls", xls(rows)))
    seen = []
    for source, fmt, engine in [(xlsx_file, "xlsx", "openpyxl"), (xlsx_file, "xlsx", "calamine"),
                                (xls_file, "xls", "xlrd"), (xls_file, "xls", "calamine")]:  # fmt: skip
        reader = ExcelReader(source, fmt, IngestOptions(), engine=engine)
        chunk = next(iter(reader.chunks(Progress("t", None, enabled=False))))
        seen.append({k: [v if not isinstance(v, float) else int(v) for v in col]  # type: ignore[union-attr]
                     for k, col in chunk.columns.items()})  # fmt: skip
    dates = [[d.date() if isinstance(d, dt.datetime) else d for d in s["day"]] for s in seen]
    assert all(d == [dt.date(2024, 1, 2), dt.date(2024, 1, 3)] for d in dates)
    assert all(s["name"] == ["a", "b"] and s["id"] == [1, 2] for s in seen)
    local_rat.ice_ingest("landing/r.xls", "bronze.old")
    assert table(local_rat, "bronze.old")["day"].tolist() == [dt.date(2024, 1, 2), dt.date(2024, 1, 3)]


def test_json_and_ndjson(rat: Rat, landing: Landing) -> None:
    records = [{"id": 1, "when": "2024-01-01", "tags": ["a"], "meta": {"k": 1}},
               {"id": 2, "when": "2024-01-02", "extra": True}]  # fmt: skip
    rat.ice_ingest(landing.put("a.json", json.dumps(records)), "bronze.j")
    out = table(rat, "bronze.j")
    assert out["when"].tolist() == [dt.date(2024, 1, 1), dt.date(2024, 1, 2)]
    assert out["tags"][0] == '["a"]' and out["extra"].tolist()[1] is True
    rat.ice_ingest(landing.put("wrapped.json", json.dumps({"data": records})), "bronze.w")
    assert len(table(rat, "bronze.w")) == 2
    nd = "\n".join(json.dumps(r) for r in records) + "\n"
    rat.ice_ingest(landing.put("b.ndjson", nd), "bronze.nd")
    rat.ice_ingest(landing.put("c.json", nd), "bronze.nd")  # NDJSON under a .json name
    assert len(table(rat, "bronze.nd")) == 4


def test_parquet(rat: Rat, landing: Landing) -> None:
    buf = io.BytesIO()
    pq.write_table(pa.table({"id": pa.array([1, 2], pa.int32()), "v": ["x", None]}), buf)
    _, rows = rat.ice_ingest(landing.put("p.parquet", buf.getvalue()), "bronze.p")
    assert rows == 2 and table(rat, "bronze.p")["v"].tolist()[0] == "x"


def test_format_override_and_filename_groups(local_rat: Rat, local_landing: Landing) -> None:
    path = local_landing.put("sales_2024-03_paris.dat", "id,v\n1,2\n")
    local_rat.ice_ingest(path, "bronze.sales", format="csv",
                         extract_from_filename=r"sales_(?P<month>\d{4}-\d{2})_(?P<city>\w+)")  # fmt: skip
    out = table(local_rat, "bronze.sales")
    assert out["month"].tolist() == ["2024-03"] and out["city"].tolist() == ["paris"]
    assert out["_source_file"].tolist() == ["landing/sales_2024-03_paris.dat"]
