"""Serving-layer calls of ``rat`` (ClickHouse server tables for BI), thin over :mod:`ratatouille.serving`."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .sdk_base import FacadeBase


class ServingMixin(FacadeBase):
    """Serving-layer calls of ``rat``."""

    def publish(
        self, table: str, mode: str = "live", name: str | None = None, order_by: str = "tuple()",
        every: str = "1 HOUR",
    ) -> dict[str, Any]:  # fmt: skip
        """Make a lakehouse table a ClickHouse server table that BI tools query (port 8123).

        Modes: ``live`` (``IcebergS3`` table, zero copy, follows main), ``pinned`` (zero copy, fixed at the
        catalog's current state), ``snapshot`` (MergeTree copy of one snapshot), ``refresh`` (refreshable
        materialized view, every ``every``). See docs/operations.md. Needs the full stack (``make up``).
        """
        from .serving import publish

        return publish(self.session, table, mode, name=name, order_by=order_by, every=every)

    def materialize(self, table_name: str, source: str, order_by: str = "tuple()") -> dict[str, Any]:
        """Store the result of SQL (``{ns.t}`` references) or a table as a MergeTree table on the server."""
        from .serving import materialize

        return materialize(self.session, table_name, source, order_by)

    def tables(self, database: str | None = None) -> pd.DataFrame:
        """The ClickHouse tables made by ``publish`` and ``materialize``."""
        from .serving import tables

        return tables(self.session, database)

    def describe(self, table: str) -> dict[str, Any]:
        """A served table: mode, sources, columns, rows, and whether main moved since (``stale``)."""
        from .serving import describe

        return describe(self.session, table)

    def drop(self, table: str, force: bool = False) -> str:
        """Drop a served ClickHouse table (the lakehouse table is untouched)."""
        from .serving import drop

        return drop(self.session, table, force=force)

    def clickhouse(self) -> Any:
        """A clickhouse-connect client on the session's engine (the ClickHouse server in the full stack)."""
        from .serving import clickhouse_client

        return clickhouse_client(self.settings)
