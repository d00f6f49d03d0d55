"""A small sample lakehouse shared by the server and browser tests."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from ratatouille.checks import parse_spec, run_checks
from ratatouille.config import Settings
from ratatouille.documenting.tabledoc import document
from ratatouille.session import Lakehouse

SALES = pa.table(
    {
        "id": pa.array([1, 2, 3], pa.int64()),
        "region": pa.array(["north", "south", None], pa.string()),
        "amount": pa.array([10.5, 20.0, 7.25], pa.float64()),
    }
)


def build_sample(home: Path) -> Settings:
    """A lakehouse with ``bronze.sales`` (two commits on main, a ``dev`` branch ahead of main, a tag),
    ``bronze.customers``, ``silver.daily``, and ``many.t00``..``many.t11`` for pagination.

    ``bronze.sales`` is documented (description, owner, tags, column docs) and has the results of two
    checks on main: ``not_null(id)`` passed, ``not_null(region)`` failed (one row); ``bronze.customers``
    has a description and its ``name`` column is marked PII.
    """
    settings = Settings.for_home(home)
    lh = Lakehouse(settings)
    lh.context = {"notebook": "ingest.ipynb"}
    lh.write(SALES, "bronze.sales")
    lh.write(SALES.slice(0, 1), "bronze.sales")
    lh.write(pa.table({"id": [1], "name": ["Ada"]}), "bronze.customers")
    lh.write(pa.table({"day": ["2026-01-01"], "total": [37.75]}), "silver.daily")
    for i in range(12):
        lh.write(pa.table({"x": [i]}), f"many.t{i:02d}")
    table = lh.catalog.load_table("bronze.sales")
    main_head = table.metadata.refs["main"].snapshot_id
    table.manage_snapshots().create_tag(main_head, "v1").commit()
    lh.use_branch("dev")
    lh.context = {"notebook": "dev_work.ipynb"}
    table.manage_snapshots().create_branch(main_head, "dev").commit()
    lh.write(SALES.slice(1, 1), "bronze.sales")
    lh.close()
    document_sample(settings)
    return settings


def document_sample(settings: Settings) -> None:
    """Document ``bronze.sales`` and ``bronze.customers`` and store two check results of ``bronze.sales``."""
    lh = Lakehouse(settings)
    document(
        lh.catalog,
        "bronze.sales",
        description="Orders as the shop exports them, one row per order line",
        owner="sales-data@example.com",
        tags=["finance", "daily"],
        columns={"id": "Order line id", "region": "Sales region of the shop", "amount": "Amount in EUR"},
    )
    document(
        lh.catalog,
        "bronze.customers",
        description="Customer master data from the CRM",
        columns={"name": "Full name"},
        pii=["name"],
    )
    run_checks(lh, parse_spec("bronze.sales not_null(id) not_null(region)"))
    lh.close()
    return settings
