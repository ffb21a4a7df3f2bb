"""Every upstream image airlock knows, gathered from the rooms (pure).

Each room pins its own images next to the code that uses them (``<room>/images.py``, with the
upstream file each default comes from). Logical names are ``<consumer>/<role>``; they are the
keys of ``images.overrides``, and an override may name any of them even when the stack does
not deploy that consumer (one policy serves several stacks).
"""

from __future__ import annotations

from .consumers import CONSUMERS
from .crossplane import images as crossplane
from .gateway import images as gateway
from .images.catalog import CatalogImage
from .images.reference import ImageReference, parse
from .registry import images as registry
from .vcluster import images as vcluster

__all__ = ["CATALOG", "VERSIONS", "CatalogImage", "catalog_image", "source_reference"]

CATALOG: dict[str, CatalogImage] = {
    image.name: image for images in (consumer.catalog for consumer in CONSUMERS) for image in images
}
VERSIONS = {
    "registry": registry.VERSION,
    "vcluster": vcluster.VERSION,
    "envoy-gateway": gateway.VERSION,
    "crossplane": crossplane.VERSION,
}


def catalog_image(name: str) -> CatalogImage:
    """The catalog entry for a logical name; a clear error lists the known names."""
    try:
        return CATALOG[name]
    except KeyError:
        known = ", ".join(sorted(CATALOG))
        raise KeyError(f"unknown image {name!r}: the catalog knows {known}") from None


def source_reference(name: str) -> ImageReference:
    return parse(catalog_image(name).source)
