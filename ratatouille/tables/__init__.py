"""Tables: writing (append, overwrite, partitions, merge, delete), schema evolution, partitioning."""

from .partitioning import build_spec, describe_spec, normalize_partition_by
from .writing import MODES, WriteResult, check_mode, delete_rows, write_table

__all__ = [
    "MODES",
    "WriteResult",
    "build_spec",
    "check_mode",
    "delete_rows",
    "describe_spec",
    "normalize_partition_by",
    "write_table",
]
