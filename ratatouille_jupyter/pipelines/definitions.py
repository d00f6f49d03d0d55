"""The Dagster code location of the lakehouse's pipelines, as ``rat pipelines serve`` loads it.

``dagster-webserver -m ratatouille_jupyter.pipelines.definitions`` (and the daemon) import this module in
a process whose ``RAT_*`` environment names the lakehouse; ``defs`` is built from its pipelines folder.
"""

from __future__ import annotations

from .dagster_defs import build_definitions

defs = build_definitions()
