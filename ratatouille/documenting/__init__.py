"""Documented tables: descriptions, owner, tags and PII marks stored in the tables themselves.

See :mod:`.tabledoc` (reading and setting one table's documentation) and :mod:`.dictionary` (the
Markdown data dictionary and its checks).
"""

from __future__ import annotations

from .dictionary import PII_EXACT, PII_HINTS, Problem, check_dictionary, looks_like_pii, write_dictionary
from .tabledoc import ColumnDoc, TableDoc, describe, document

__all__ = [
    "PII_EXACT",
    "PII_HINTS",
    "ColumnDoc",
    "Problem",
    "TableDoc",
    "check_dictionary",
    "describe",
    "document",
    "looks_like_pii",
    "write_dictionary",
]
