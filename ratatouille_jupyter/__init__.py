"""Jupyter and Dagster adapters of ratatouille: magics, display, server extension, pipelines."""

from .extension import load_ipython_extension, unload_ipython_extension
from .server import _jupyter_labextension_paths, _jupyter_server_extension_points

__all__ = [
    "_jupyter_labextension_paths",
    "_jupyter_server_extension_points",
    "load_ipython_extension",
    "unload_ipython_extension",
]
