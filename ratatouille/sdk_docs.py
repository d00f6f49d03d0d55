"""Documentation calls of ``rat``: descriptions, owner, tags and PII marks; thin over :mod:`.documenting`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .sdk_base import FacadeBase
from .sqltext import TableRef

if TYPE_CHECKING:
    from .documenting import TableDoc


class DocsMixin(FacadeBase):
    """Documentation calls of ``rat`` (see docs/catalog.md)."""

    def ice_document(
        self,
        table: str,
        description: str | None = None,
        columns: Mapping[str, str] | None = None,
        owner: str | None = None,
        tags: list[str] | None = None,
        pii: list[str] | None = None,
    ) -> TableDoc:
        """Document a table; the values not given stay as they are (one commit, nothing on a bad value).

        Args:
            table: ``namespace.table``.
            description: What the table holds (``""`` clears it).
            columns: Column name (``a.b`` when nested) -> its description (``""`` clears it).
            owner: Who answers for the table (``""`` clears it).
            tags: Tags, replacing the table's (``[]`` clears them).
            pii: The columns holding personal data, replacing the marked ones (``[]`` clears them).

        Returns:
            The table's documentation afterwards.
        """
        from .documenting import document

        return document(
            self.session.catalog, TableRef.parse(table).identifier, description=description,
            columns=columns, owner=owner, tags=tags, pii=pii, branch=self.session.branch,
        )  # fmt: skip

    def ice_doc(self, table: str) -> TableDoc:
        """A table's documentation: description, owner, tags, PII marks, columns, freshness."""
        from .documenting import describe

        return describe(self.session.catalog, TableRef.parse(table).identifier, self.session.branch)
