"""What the imageSync room pulls (pure): skopeo, the tool every sync pod runs.

It runs to fill the registries the stack's images come from, so it is resolved with a policy
stripped of the rules that point at them (``ImageRequest.avoid``): it comes from its upstream
(quay.io) — or a registry outside the mirror an override names — never from a registry it
is about to fill.
"""

from __future__ import annotations

from ..images.catalog import CatalogImage
from ..images.reference import parse
from ..images.table import ImageRequest
from .settings import ImageSyncSettings

__all__ = ["CATALOG", "SKOPEO", "image_requests"]

SKOPEO = "imagesync/skopeo"
# containers/skopeo contrib/skopeoimage/README.md: the upstream image is quay.io/skopeo/stable,
# tagged per release (v1.18.0; `skopeo sync --src yaml`, --all, --preserve-digests and
# --keep-going are all older than that release).
CATALOG = (
    CatalogImage(
        SKOPEO, "quay.io/skopeo/stable:v1.18.0", "ImageSync pods: skopeo sync of the stack's image list"
    ),
)


def image_requests(settings: ImageSyncSettings, destinations: frozenset[str]) -> list[ImageRequest]:
    """skopeo's request, avoiding the registries the sync fills — but its own upstream, which
    serves it whether or not the sync also writes there."""
    upstream = parse(CATALOG[0].source).domain
    return [
        ImageRequest(
            SKOPEO,
            CATALOG[0].source,
            settings.namespace,
            avoid=tuple(sorted(destinations - {upstream})),
            avoid_reason="which this sync fills: before its first run that registry cannot serve it",
        )
    ]
