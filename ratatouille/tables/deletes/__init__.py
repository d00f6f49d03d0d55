"""Row-level delete files (merge-on-read tables written by other engines): planned, applied, compacted.

ratatouille itself writes no delete files (its deletes and merges rewrite data files), but other writers
do: a snapshot may list *position delete* files (``file_path``, ``pos``: the 0-based rows of a data file
that are gone) and *equality delete* files (rows of some columns: every row with those values is gone).
:mod:`.planning` finds which delete files apply to which data files, :mod:`.engine` applies them in the
engine's read, :mod:`.arrow` in compaction's.
"""

from .arrow import drop_equality_deleted, read_equality_deletes, without_equality_deleted
from .engine import PER_FILE_POSITIONS, filtered_source
from .planning import (
    AppliedDeletes,
    EqualityGroup,
    SnapshotDeletes,
    applying_by_file,
    deletes_for,
    plan_snapshot,
    scan_tasks,
)

__all__ = [
    "PER_FILE_POSITIONS",
    "AppliedDeletes",
    "EqualityGroup",
    "SnapshotDeletes",
    "applying_by_file",
    "deletes_for",
    "drop_equality_deleted",
    "filtered_source",
    "plan_snapshot",
    "read_equality_deletes",
    "scan_tasks",
    "without_equality_deleted",
]
