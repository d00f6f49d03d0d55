"""The notebook magics: ``%%rat_sql``, ``%rat_sql``, ``%rat_ingest``, ``%rat_tables``, ``%rat_history``."""

from .core import RatMagics

__all__ = ["RatMagics"]
