"""Several processes appending and merging on mixed branches of the same tables: nothing lost or leaked."""

from __future__ import annotations

import os

from ratatouille.config import Settings
from tests.helpers import settings_env

from .tally import TALLY
from .writers import ROOT, run_writers


def test_writers_on_mixed_branches_lose_duplicate_and_leak_nothing(settings: Settings) -> None:
    env = {
        **settings_env(settings),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    figures = run_writers(settings, processes=4, writes=5, branches=2, env=env)
    TALLY.extra.setdefault("concurrency", []).append({k: v for k, v in figures.items() if k != "failures"})
    assert figures["failures"] == []
    assert (figures["errors"], figures["rows_lost"], figures["rows_duplicated"]) == (0, 0, 0)
    assert figures["rows_leaked_across_branches"] == 0
