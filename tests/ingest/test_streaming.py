"""Large files stream in bounded batches into one commit; a failure half-way commits nothing."""

from __future__ import annotations

import pytest

from ratatouille.ingest import BadFile
from ratatouille.sdk import Rat
from tests.helpers import head

from .conftest import Landing

ROWS = 150_000


def _big_csv(bad_at: int | None = None) -> str:
    lines = ["id,name,amount,day"]
    for i in range(ROWS):
        extra = ",oops" if i == bad_at else ""
        lines.append(f"{i},name {i % 97},{i * 0.5},2024-01-{i % 28 + 1:02d}{extra}")
    return "\n".join(lines) + "\n"


def test_streams_in_batches_into_one_commit(local_rat: Rat, local_landing: Landing) -> None:
    path = local_landing.put("big.csv", _big_csv())  # about 5 MB: several 2 MB chunks at memory_mb=16
    df, rows = local_rat.ice_ingest(path, "bronze.big", memory_mb=16)
    assert rows == ROWS
    table = local_rat.session.catalog.load_table("bronze.big")
    snapshot = table.current_snapshot()
    assert snapshot is not None and len(table.metadata.snapshots) == 1
    assert int(snapshot.summary["added-data-files"]) > 1  # type: ignore[index]
    assert df.attrs.get("truncated") and 0 < len(df) < ROWS
    out = local_rat.query("SELECT count(*) AS n, sum(id) AS s FROM {bronze.big}")
    assert out["n"][0] == ROWS and out["s"][0] == ROWS * (ROWS - 1) // 2


def test_failure_half_way_commits_nothing(local_rat: Rat, local_landing: Landing) -> None:
    local_rat.ice_ingest(
        local_landing.put("small.csv", "id,name,amount,day\n-1,x,1.5,2024-01-01\n"), "bronze.big"
    )
    before = head(local_rat.session, "bronze.big")
    location = local_rat.ice_location("bronze.big").removeprefix("file://")
    import pathlib

    files_before = set(pathlib.Path(location, "data").rglob("*.parquet"))
    path = local_landing.put("bad.csv", _big_csv(bad_at=ROWS - 100))
    with pytest.raises(BadFile, match=rf"bad\.csv \(row {ROWS - 98}\): this row has 5 fields"):
        local_rat.ice_ingest(path, "bronze.big", memory_mb=16)
    assert head(local_rat.session, "bronze.big") == before
    assert set(pathlib.Path(location, "data").rglob("*.parquet")) == files_before  # written files removed


def test_quiet_when_not_interactive(
    local_rat: Rat, local_landing: Landing, capsys: pytest.CaptureFixture[str]
) -> None:
    from ratatouille.ingest.progress import Progress, interactive

    assert not interactive()
    local_rat.ice_ingest(local_landing.put("q.csv", "id\n1\n"), "bronze.q")
    assert capsys.readouterr().err == ""
    with Progress("forced", 10, enabled=True) as bar:  # a bar appears only after a second of work
        bar.update_to(10)
    assert bar.done == 10
