"""Notebooks as pipelines: tagged notebooks become Dagster assets, run papermill-style on their own branch.

Modules, from the light to the heavy (only :mod:`.dagster_defs` imports Dagster; papermill and nbformat
are imported when a notebook runs):

* :mod:`.metadata` — the ``ratatouille.pipeline`` notebook metadata;
* :mod:`.lineage` and :mod:`.spec` — what a notebook reads and writes, found by reading it; discovery;
* :mod:`.params` — run parameters checked against the ``parameters`` cell;
* :mod:`.engine` and :mod:`.runner` — a transactional papermill run; :mod:`.records` — run records;
* :mod:`.dagster_defs` and :mod:`.definitions` — the Dagster assets, jobs and schedules;
* :mod:`.serve` — ``rat pipelines serve``; :mod:`.service` — what the sidebar asks; :mod:`.cli`.

See ``docs/pipelines.md``.
"""
