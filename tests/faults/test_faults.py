"""Every write path, faulted at every step boundary, on both setups: no data lost, duplicated or leaked.

A driver process per setup (``tests/faults/driver.py``) runs the cases: a SIGKILL in a forked child, or a
catalog error (conflict, unknown commit state, connection lost) in the driver itself, then checks the
invariants (``tests/faults/invariants.py``) and the path's recovery. Each case is one test here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SETUPS
from tests.helpers import settings_env

from .conftest import module_settings
from .injection import Fault
from .paths import case_id, cases
from .tally import TALLY

ROOT = Path(__file__).resolve().parents[2]
CASES = cases()

#: Cases failing on a known bug, marked xfail(strict=True) so they flip when it is fixed: none now.
KNOWN: dict[str, str] = {}


@pytest.fixture(scope="module", params=SETUPS)
def setup(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def results(
    request: pytest.FixtureRequest, setup: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Run the selected cases of the setup in one driver process; ``{case id: result}``.

    Only the cases this session runs on the setup are planned (``-k compaction`` runs those alone).
    """
    folder = tmp_path_factory.mktemp(f"faults-{setup}")
    settings = module_settings(request, setup, folder / "home")
    selected = _selected(request.session, setup)
    plan = {
        "cases": [
            {"key": case_id(path, f), "tag": str(n), "path": path,
             "fault": {"boundary": f.boundary, "kind": f.kind, "after": f.after, "nth": f.nth}}
            for n, (path, f) in enumerate(CASES)
            if case_id(path, f) in selected
        ]
    }  # fmt: skip
    (folder / "plan.json").write_text(json.dumps(plan))
    env = {
        **settings_env(settings),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "tests.faults.driver", str(folder / "plan.json"),
         str(folder / "results.json")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if proc.returncode != 0 or not (folder / "results.json").exists():
        pytest.fail(f"the fault driver failed ({proc.returncode}):\n{proc.stderr[-6000:]}")
    found: dict[str, Any] = json.loads((folder / "results.json").read_text())
    found["_stderr"] = proc.stderr
    return found


def _selected(session: pytest.Session, setup: str) -> set[str]:
    """The case ids this session's tests ask for on ``setup``."""
    out = set()
    for item in session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("setup") == setup and "path" in params and "fault" in params:
            out.add(case_id(params["path"], params["fault"]))
    return out


def _param(path: str, fault: Fault) -> Any:
    key = case_id(path, fault)
    marks = [pytest.mark.xfail(strict=True, reason=KNOWN[key])] if key in KNOWN else []
    return pytest.param(path, fault, id=key, marks=marks)


@pytest.mark.parametrize(("path", "fault"), [_param(p, f) for p, f in CASES])
def test_fault_keeps_every_invariant(results: dict[str, Any], setup: str, path: str, fault: Fault) -> None:
    key = case_id(path, fault)
    result = results[key]
    TALLY.add(path=path, setup=setup, checks=result["checks"], violations=len(result["violations"]),
              fault=(fault.boundary, fault.kind) if result["fired"] else None,
              known_bug=key in KNOWN)  # fmt: skip
    assert result["fired"], f"the fault was never reached: {result}"
    if fault.kind == "kill":
        assert result["killed"], f"the write survived its kill: {result}"
    assert result["violations"] == [], json.dumps(result, indent=1)
