"""Catalog entries: an upstream image a room deploys, by logical name, pinned to an exact version.

The entries themselves live in each room (``airlock/<room>/images.py``), next to the settings
and values that use them, each with the upstream file it was read from; ``airlock.catalog``
gathers them. Logical names are ``<consumer>/<role>`` and are the keys users write under
``images.overrides``. Upgrading a component means changing its version in its room,
re-running ``airlock images lock`` and reviewing both diffs.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CatalogImage", "ChartReleases"]


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


@dataclass(frozen=True)
class ChartReleases:
    """The images each supported version of a chart deploys, by chart version: the one place a
    chart upgrade starts (docs/upgrading.md). A chart version without an entry is refused, so the
    chart and its images can never drift apart (a new chart running last version's images)."""

    chart: str
    room: str
    """The module that holds the entries (``airlock/<room>/images.py``), for the error's fix."""
    releases: dict[str, tuple[CatalogImage, ...]]

    @staticmethod
    def _key(version: str) -> str:
        """Charts published as both ``v1.9.0`` and ``1.9.0`` (Envoy Gateway) are one release."""
        return version.removeprefix("v")

    def images(self, version: str) -> tuple[CatalogImage, ...]:
        return self.releases[self._key(version)]

    def source(self, version: str, name: str) -> str:
        """The source of ``name`` at chart ``version``; an unknown version is a ValueError with
        the same words as the stack's config problem (a component used on its own)."""
        images = self.releases.get(self._key(version))
        if images is None:
            reason, fix = self.problem(version) or ("", "")
            raise ValueError(f"{self.chart} chart version {version!r} {reason}; {fix}")
        return next(image.source for image in images if image.name == name)

    @property
    def newest(self) -> str:
        """The highest release; a pre-release (``1.9.0-rc.1``) ranks below its release."""

        def rank(version: str) -> tuple[tuple[int, ...], int]:
            release, _, pre = self._key(version).partition("-")
            numbers = tuple(int(part) if part.isdigit() else 0 for part in release.split("."))
            return numbers, 0 if pre else 1

        return max(self.releases, key=rank)

    def problem(self, version: str) -> tuple[str, str] | None:
        """(reason, fix) when ``version`` has no entry."""
        if self._key(version) in self.releases:
            return None
        return (
            f"has no catalog entry: airlock knows which images {self.chart} "
            f"{', '.join(sorted(self.releases))} deploys, and a chart version runs its own images, so an "
            "unknown one would deploy a new chart with another version's images",
            f"use {self.newest}, or add the release's images to RELEASES in airlock/{self.room}/images.py "
            "(each read from the chart at that tag), then run 'airlock images lock' and review "
            "'airlock plan diff' (docs/upgrading.md)",
        )
