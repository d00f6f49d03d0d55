"""Jupyter and Dagster adapters of ratatouille: magics, display, server extension, pipelines."""

from .extension import load_ipython_extension, unload_ipython_extension

__all__ = ["load_ipython_extension", "unload_ipython_extension"]
