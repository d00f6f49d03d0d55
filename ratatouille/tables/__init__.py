"""Tables: writing (append, overwrite, partitions, merge, delete), evolution, partitioning, maintenance."""

from .compaction import compact, rewrite_manifests
from .expiry import expire
from .maintain import maintain
from .orphans import remove_orphans
from .partitioning import build_spec, describe_spec, normalize_partition_by
from .policy import DEFAULT_TARGET_FILE_BYTES, Policy, parse_duration, policy_of, set_policy
from .writing import MODES, WriteResult, check_mode, delete_rows, write_table

__all__ = [
    "DEFAULT_TARGET_FILE_BYTES",
    "MODES",
    "Policy",
    "WriteResult",
    "build_spec",
    "check_mode",
    "compact",
    "delete_rows",
    "describe_spec",
    "expire",
    "maintain",
    "normalize_partition_by",
    "parse_duration",
    "policy_of",
    "remove_orphans",
    "rewrite_manifests",
    "set_policy",
    "write_table",
]
