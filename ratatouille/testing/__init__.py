"""Builders of tables as other Iceberg writers make them (delete files), for tests and benchmarks.

Not used by the product itself: no module of ``ratatouille`` imports this package.
"""

from .deletefiles import commit_equality_deletes, commit_position_deletes

__all__ = ["commit_equality_deletes", "commit_position_deletes"]
