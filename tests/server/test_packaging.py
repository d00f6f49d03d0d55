"""The pieces that make `pip install` then `jupyter lab` show the sidebar with no build step."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from ratatouille import __version__
from ratatouille_jupyter.server import (
    LABEXTENSION_NAME,
    _jupyter_labextension_paths,
    _jupyter_server_extension_points,
)
from ratatouille_jupyter.server.app import RatatouilleApp

ROOT = Path(__file__).resolve().parents[2]


def test_server_extension_point() -> None:
    (point,) = _jupyter_server_extension_points()
    assert point["app"] is RatatouilleApp
    assert point["module"] == "ratatouille_jupyter.server.app"


def test_jupyter_config_enables_the_server_extension() -> None:
    data = json.loads((ROOT / "jupyter-config" / "server-config" / "ratatouille.json").read_text())
    assert data == {"ServerApp": {"jpserver_extensions": {"ratatouille_jupyter.server": True}}}


def test_frontend_package_matches_python_package() -> None:
    package = json.loads((ROOT / "labextension" / "package.json").read_text())
    assert package["name"] == LABEXTENSION_NAME
    assert package["version"] == __version__
    assert package["jupyterlab"]["outputDir"] == "../ratatouille_jupyter/labextension"
    assert "@jupyterlab/core-meta" in package["devDependencies"]  # the offline build needs it
    assert (ROOT / "labextension" / "package-lock.json").is_file()
    version_ts = (ROOT / "labextension" / "src" / "version.ts").read_text()
    assert f"FRONTEND_VERSION = '{__version__}'" in version_ts


def test_wheel_ships_the_prebuilt_extension_and_config() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    shared = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
    assert shared["ratatouille_jupyter/labextension"] == f"share/jupyter/labextensions/{LABEXTENSION_NAME}"
    assert shared["jupyter-config/server-config"] == "etc/jupyter/jupyter_server_config.d"
    (path,) = _jupyter_labextension_paths()
    assert path["dest"] == LABEXTENSION_NAME
    assert Path(path["src"]) == ROOT / "ratatouille_jupyter" / "labextension"
