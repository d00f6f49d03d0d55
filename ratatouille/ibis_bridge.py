"""Ibis expressions over lakehouse tables, compiled to ClickHouse SQL with ``{ns.t}`` references.

``rat.t("bronze.sales")`` is an unbound Ibis table named by a placeholder. Compiling an expression gives
ClickHouse SQL in which each placeholder is replaced by the table's reference, so Ibis and SQL take the
same path afterwards: snapshot resolution, the engine, and the writers.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from .errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd
    from ibis.expr.types import Table as IbisTable

    from .session import Lakehouse

_PLACEHOLDER_RE = re.compile(r'"(__ratref_[0-9a-f]{16}__)"')
# placeholder -> reference text ("bronze.sales@dev"); placeholders are unique per call of rat.t().
_REFS: dict[str, str] = {}


def ibis_table(session: Lakehouse, reference: str) -> IbisTable:
    """An unbound Ibis table with the schema of the referenced snapshot.

    ``ns.t@new`` takes the schema of the table's head and stays ``@new`` in the compiled SQL, so that
    ``rat.t("bronze.events@new").to_iceberg(target)`` reads only what ``target`` has not consumed yet.
    """
    import ibis

    from .sqltext import TableRef

    table_ref = TableRef.parse(reference)
    if table_ref.new:
        resolved = session.resolve(TableRef(table_ref.namespace, table_ref.name))
        text = str(table_ref)
    else:
        resolved = session.resolve(table_ref)
        # Pin what the user named (a branch, tag or snapshot), else follow the session's active ref.
        text = str(resolved.ref)
    schema = ibis.Schema.from_pyarrow(resolved.schema.as_arrow())
    placeholder = f"__ratref_{uuid.uuid4().hex[:16]}__"
    _REFS[placeholder] = text
    return ibis.table(schema, name=placeholder)


def to_sql(expr: Any) -> str:
    """Compile an Ibis expression to ClickHouse SQL with ``{ns.t}`` references."""
    import ibis

    if isinstance(expr, RatTable):
        expr = expr.expr
    try:
        sql = ibis.to_sql(expr, dialect="clickhouse")
    except Exception as e:  # ibis raises many kinds for expressions it cannot compile
        raise InvalidInput(f"cannot compile the Ibis expression to SQL: {e}") from e

    def replace(m: re.Match[str]) -> str:
        ref = _REFS.get(m.group(1))
        if ref is None:
            raise InvalidInput("the expression uses a table that was not made by rat.t()")
        return "{" + ref + "}"

    return _PLACEHOLDER_RE.sub(replace, str(sql))


def _unwrap(value: Any) -> Any:
    if isinstance(value, RatTable):
        return value.expr
    if isinstance(value, list | tuple):
        return type(value)(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


class RatTable:
    """An Ibis table expression bound to a lakehouse session.

    Ibis methods chain (``filter``, ``mutate``, ``join``, ``group_by``...) and return a new
    :class:`RatTable`; ``execute``, ``to_pandas``, ``sql``, ``preview`` and ``to_iceberg`` run it.
    """

    def __init__(self, session: Lakehouse, expr: IbisTable) -> None:
        self._session = session
        self.expr = expr

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.expr, name)
        if not callable(attr):
            return self._wrap(attr)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._wrap(attr(*_unwrap(args), **_unwrap(kwargs)))

        return call

    def __getitem__(self, item: Any) -> Any:
        return self._wrap(self.expr[_unwrap(item)])

    def _wrap(self, value: Any) -> Any:
        from ibis.expr.types import Table
        from ibis.expr.types.groupby import GroupedTable

        # Grouped tables are wrapped too, so that group_by(...).aggregate(...) stays bound to the session.
        if isinstance(value, Table | GroupedTable):
            return RatTable(self._session, value)
        return value

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(dir(self.expr)))

    def __repr__(self) -> str:
        return f"RatTable(columns={list(self.expr.columns)})"

    def sql(self) -> str:
        """The ClickHouse SQL of the expression, with ``{ns.t}`` references."""
        return to_sql(self.expr)

    def execute(self) -> pd.DataFrame:
        """Run the expression; return a DataFrame."""
        df: pd.DataFrame = self._session.query_arrow(self.sql()).to_pandas()
        return df

    def to_pandas(self) -> pd.DataFrame:
        """Same as :meth:`execute`."""
        return self.execute()

    def preview(self, n: int = 10) -> pd.DataFrame:
        """The first ``n`` rows."""
        return RatTable(self._session, self.expr.limit(n)).execute()

    def to_iceberg(
        self,
        target: str,
        merge_keys: list[str] | str | None = None,
        mode: str | None = None,
        partition_by: list[str] | str | None = None,
    ) -> dict[str, Any]:
        """Write the expression's result to ``target`` (merge when ``merge_keys`` are given)."""
        from .sdk import default_mode

        return self._session.transform(
            self.sql(), target, mode=default_mode(mode, merge_keys), merge_keys=merge_keys,
            partition_by=partition_by,
        ).to_dict()  # fmt: skip
