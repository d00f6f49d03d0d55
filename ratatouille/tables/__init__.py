"""Table services: maintenance (policy, compaction, expiry, orphan sweep); see docs/tables-maintenance.md."""

from .compaction import compact, rewrite_manifests
from .expiry import expire
from .maintain import maintain
from .orphans import remove_orphans
from .policy import DEFAULT_TARGET_FILE_BYTES, Policy, parse_duration, policy_of, set_policy

__all__ = [
    "DEFAULT_TARGET_FILE_BYTES",
    "Policy",
    "compact",
    "expire",
    "maintain",
    "parse_duration",
    "policy_of",
    "remove_orphans",
    "rewrite_manifests",
    "set_policy",
]
