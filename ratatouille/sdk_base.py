"""What every part of the ``rat`` facade relies on: the session and its settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import Settings
    from .session import Lakehouse


class FacadeBase:
    """The two things the feature mixins of :class:`~ratatouille.sdk.Rat` use; ``Rat`` provides them."""

    @property
    def session(self) -> Lakehouse:
        """The lakehouse session."""
        raise NotImplementedError

    @property
    def settings(self) -> Settings:
        """The active settings."""
        raise NotImplementedError
