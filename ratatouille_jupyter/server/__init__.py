"""The Jupyter server extension behind the lakehouse explorer sidebar.

Importing this package is cheap (a kernel imports ``ratatouille_jupyter``): Jupyter server, tornado and
the catalog are imported only when the server loads the extension.

Enable it with ``jupyter server extension enable ratatouille_jupyter.server`` (the wheel ships a
``jupyter_server_config.d`` file that does this).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ratatouille._version import __version__

#: Where the prebuilt JupyterLab extension is written by the frontend build.
LABEXTENSION_DIR = Path(__file__).resolve().parent.parent / "labextension"
#: The npm package name of the frontend (the folder name under ``share/jupyter/labextensions``).
LABEXTENSION_NAME = "ratatouille-jupyterlab"


__all__ = ["LABEXTENSION_DIR", "LABEXTENSION_NAME", "__version__"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """The server extension Jupyter loads: :class:`~ratatouille_jupyter.server.app.RatatouilleApp`."""
    from .app import RatatouilleApp

    return [{"module": "ratatouille_jupyter.server.app", "app": RatatouilleApp}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """The prebuilt frontend, for ``jupyter labextension develop`` (an absolute ``src`` works anywhere)."""
    return [{"src": str(LABEXTENSION_DIR), "dest": LABEXTENSION_NAME}]
