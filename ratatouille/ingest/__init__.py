"""File ingestion into bronze: formats, sources, type inference, tracking, parsers, bounded memory.

The public calls are on ``rat`` (``ice_ingest``, ``ice_ingest_batch``, ``ingestion_history``...);
docs/ingestion.md describes formats, options, the inference rules, the landing zone and the registry.
"""

from __future__ import annotations

from .api import available_parsers, history, ingest_batch, ingest_file, register_parser, reset
from .errors import BadFile, CommitOutcomeUnknown
from .options import IngestOptions

__all__ = [
    "BadFile",
    "CommitOutcomeUnknown",
    "IngestOptions",
    "available_parsers",
    "history",
    "ingest_batch",
    "ingest_file",
    "register_parser",
    "reset",
]
