"""Envoy Gateway's images (pure): catalog entries at v1.9.0 and the EnvoyProxy image field.

Read from envoyproxy/gateway v1.9.0: the release image of the controller, and
``api/v1alpha1/shared_types.go`` ``DefaultEnvoyProxyImage`` / ``DefaultRateLimitImage``.
"""

from __future__ import annotations

from typing import Literal

from ..images.catalog import CatalogImage
from ..images.errors import PolicyError
from ..images.formats import full
from ..images.policy import ResolvedImage

__all__ = ["CATALOG", "VERSION", "envoy_proxy_container"]

VERSION = "1.9.0"

CATALOG = (
    CatalogImage(
        "envoy-gateway/controller",
        f"docker.io/envoyproxy/gateway:v{VERSION}",
        "Envoy Gateway control plane",
    ),
    CatalogImage(
        "envoy-gateway/proxy",
        "docker.io/envoyproxy/envoy:distroless-v1.39.0",
        "Envoy proxy pods the controller creates from the EnvoyProxy resource",
    ),
    CatalogImage(
        "envoy-gateway/ratelimit",
        "docker.io/envoyproxy/ratelimit:17b1956c",
        "global rate-limit service",
    ),
)


def envoy_proxy_container(
    image: ResolvedImage,
    mode: Literal["image", "imageRepository"] = "image",
    *,
    controller_tag: str | None = None,
) -> dict[str, str]:
    """``EnvoyProxy.spec.provider.kubernetes.envoyDeployment.container`` image field.

    ``image`` (the default) is always exact. ``imageRepository`` (repository only; the
    controller appends its built-in tag) only when the final reference has no digest and its
    tag equals the tag the controller would append (``controller_tag``).
    """
    if mode == "image":
        return {"image": full(image)}
    final = image.final
    if final.digest is not None or final.tag != controller_tag:
        raise PolicyError(
            f"image {image.name or final}",
            str(final),
            "imageRepository carries no tag or digest; the controller would pull "
            f"'{final.name}:{controller_tag}' instead",
            "use mode 'image' (a full reference), which Envoy Gateway accepts as is",
        )
    return {"imageRepository": final.name}
