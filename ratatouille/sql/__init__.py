"""SQL analysis: which data files a query's references need (file pruning)."""

from .pruning import predicate_filter, pruning_disabled, pruning_enabled, reference_filters, table_filter

__all__ = ["predicate_filter", "pruning_disabled", "pruning_enabled", "reference_filters", "table_filter"]
