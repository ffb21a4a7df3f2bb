"""Catalog entries: an upstream image a room deploys, by logical name, pinned to an exact version.

The entries themselves live in each room (``airlock/<room>/images.py``), next to the settings
and values that use them, each with the upstream file it was read from; ``airlock.catalog``
gathers them. Logical names are ``<consumer>/<role>`` and are the keys users write under
``images.overrides``. Upgrading a component means changing its version in its room,
re-running ``airlock images lock`` and reviewing both diffs.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CatalogImage"]


@dataclass(frozen=True, slots=True)
class CatalogImage:
    """One image an upstream component runs, with where that default comes from."""

    name: str
    source: str
    description: str

    @property
    def consumer(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def role(self) -> str:
        return self.name.split("/", 1)[1]
