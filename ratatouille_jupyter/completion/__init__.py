"""Completion and inspection in the kernel: tables, columns, ClickHouse functions, keywords, variables."""

from .inspect import TableInspector, table_bundle
from .matcher import CHECK_SHORTCUTS, notebook_variables, table_matcher
from .tables import TableInfo, TableNames, TableSchemas, warm_up

__all__ = [
    "CHECK_SHORTCUTS",
    "TableInfo",
    "TableInspector",
    "TableNames",
    "TableSchemas",
    "notebook_variables",
    "table_bundle",
    "table_matcher",
    "warm_up",
]
