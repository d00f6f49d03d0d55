"""The notebook magics: ``%%rat_sql``, ``%rat_ingest``, ``%rat_tables``, ``%rat_history``, ``%rat_dev``...

``%rat_cache`` shows the snapshot cache; ``%rat_pipeline`` (``pipeline.py``) marks a notebook as a pipeline.
"""

from .core import RatMagics

__all__ = ["RatMagics"]
