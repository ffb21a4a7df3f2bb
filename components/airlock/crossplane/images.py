"""Crossplane's images (pure): the catalog entry at v2.3.4 and the chart's image values.

Read from crossplane/crossplane v2.3.4 ``cluster/charts/crossplane/values.yaml``:
``image.repository``, ``image.tag`` defaulting to ``v<appVersion>``, ``image.ignoreTag``.
"""

from __future__ import annotations

from ..images.catalog import CatalogImage
from ..images.policy import ResolvedImage

__all__ = ["CATALOG", "VERSION", "crossplane_image"]

VERSION = "2.3.4"

CATALOG = (
    CatalogImage(
        "crossplane/crossplane",
        f"xpkg.crossplane.io/crossplane/crossplane:v{VERSION}",
        "Crossplane core and RBAC manager",
    ),
)


def crossplane_image(image: ResolvedImage) -> dict[str, object]:
    """Crossplane chart ``image`` values: repository/tag, or a digest via ``ignoreTag``."""
    final = image.final
    values: dict[str, object] = {"pullPolicy": image.pull_policy}
    if final.digest is not None or final.tag is None:
        # ignoreTag: the chart uses repository verbatim (an empty tag would fall back to
        # v<appVersion>, which is not what the policy decided).
        values.update(repository=str(final), ignoreTag=True)
    else:
        values.update(repository=final.name, tag=final.tag, ignoreTag=False)
    return values
