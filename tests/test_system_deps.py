"""``.ci/system-deps``: the Debian packages ``make test`` and ``.ci/run`` need, checked and installed.

Nothing here installs anything: the install path runs with ``--dry-run``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "system-deps"


def _run(
    *args: str, user: list[str] | None = None, script: Path = SCRIPT, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*(user or []), str(script), *args], capture_output=True, text=True, cwd=cwd)


def test_the_package_list_is_shared() -> None:
    listed = _run("--list").stdout.split()
    assert {"postgresql", "chromium"} <= set(listed)
    assert ".ci/system-deps" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: system-deps ", makefile, re.M), "make test checks the packages first"
    assert "\t.ci/system-deps\n" in makefile


def test_present_packages_are_found() -> None:
    """The machine running the tests has them (``make test`` saw to it): nothing to do."""
    result = _run("--check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("system packages present: postgresql chromium")
    assert _run().returncode == 0  # the install mode has nothing to install either


def test_a_missing_package_is_named_with_the_command() -> None:
    result = _run("--check", "--only", "chromium no-such-package-xyz")
    assert result.returncode == 1
    assert "missing system packages: no-such-package-xyz\n" in result.stderr
    assert "sudo apt-get install -y --no-install-recommends no-such-package-xyz" in result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="root installs directly; checked as root only")
def test_root_installs_with_apt_get() -> None:
    result = _run("--dry-run", "--only", "no-such-package-xyz")
    assert result.returncode == 0, result.stderr
    assert "would run: apt-get update -q" in result.stdout
    assert re.search(r"would run: apt-get install -y .*no-such-package-xyz$", result.stdout, re.M)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to become nobody")
def test_without_root_or_sudo_it_stops_with_the_command() -> None:
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    # A copy nobody can reach: the checkout may sit in a folder only root can enter (a CI clone).
    folder = Path(tempfile.mkdtemp(prefix="system-deps-"))
    folder.chmod(0o755)
    script = folder / "system-deps"
    shutil.copy(SCRIPT, script)
    script.chmod(0o755)
    try:
        result = _run("--dry-run", "--only", "no-such-package-xyz", user=nobody, script=script, cwd=folder)
    finally:
        shutil.rmtree(folder)
    assert result.returncode == 1
    assert "would run" not in result.stdout
    assert result.stderr.splitlines()[-1].strip() == (
        "sudo apt-get update && sudo apt-get install -y --no-install-recommends no-such-package-xyz"
    )
