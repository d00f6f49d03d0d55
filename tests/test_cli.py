from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ratatouille import Rat
from ratatouille.cli import format_table, run
from ratatouille.config import Settings
from ratatouille.session import Lakehouse


def test_cli_in_a_subprocess(tmp_path: Path) -> None:
    rat = Rat(Lakehouse(Settings.for_home(tmp_path)))
    rat.ice_ingest_df(pd.DataFrame({"id": [1, 2], "v": ["a", None]}), "bronze.t")
    env = {"RAT_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "ratatouille.cli"]
    out = subprocess.run([*cmd, "query", "SELECT * FROM {bronze.t} ORDER BY id"], env=env,
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert out.splitlines()[0].split() == ["id", "v"]
    assert "NULL" in out and "(2 rows)" in out
    out = subprocess.run([*cmd, "tables"], env=env, capture_output=True, text=True, check=True).stdout
    assert "bronze" in out and " t" in out
    bad = subprocess.run([*cmd, "query", "SELECT * FROM {bronze.x}"], env=env, capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("rat: NotFound: table bronze.x does not exist")
    assert len(bad.stderr.strip().splitlines()) == 1


def test_cli_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rat = Rat(Lakehouse(Settings.for_home(tmp_path, s3_secret_access_key="hunter2")))
    rat.ice_ingest_df(pd.DataFrame({"id": [1]}), "bronze.t")
    assert run(["history", "bronze.t"], rat) == 0
    assert "ingest_df:append" in capsys.readouterr().out
    assert run(["config"], rat) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out and str(tmp_path) in out
    assert run(["query", "SELECT 1 AS x", "--csv"], rat) == 0
    assert capsys.readouterr().out.strip() == "x\n1"


def test_format_table_truncates() -> None:
    text = format_table(pd.DataFrame({"n": range(100)}), max_rows=3)
    assert text.endswith("(100 rows, first 3 shown)")
