"""What the registry contributes to the image table (pure): its own image, and the policy it
completes for everyone else.

Its own image can never come from the registry itself (it is not running until that image
is pulled): the request lists the registry's hosts to ``avoid``, so rules that point there
are skipped for it and an override that points there is an error.
"""

from __future__ import annotations

from typing import Any

from ..images.catalog import CatalogImage
from ..images.policy import ImagePolicy, MirrorRule, RegistryOverride, RegistryTrust
from ..images.table import ImageRequest
from .settings import RegistrySettings

__all__ = ["CATALOG", "IMAGE", "VERSION", "derive_policy", "image_requests"]

# CNCF distribution 3.0.x; config at /etc/distribution/config.yml.
VERSION = "3.0.0"
IMAGE = "registry/registry"

CATALOG = (
    CatalogImage(
        IMAGE,
        f"docker.io/library/registry:{VERSION}",
        "CNCF distribution registry (hosted and pull-through cache instances)",
    ),
)


def image_requests(settings: RegistrySettings) -> list[ImageRequest]:
    """The registry's own image (in-cluster and docker modes; an external registry runs none)."""
    if settings.mode == "external":
        return []
    namespace = settings.namespace if settings.mode == "in-cluster" else None
    return [ImageRequest(IMAGE, CATALOG[0].source, namespace, tuple(sorted(settings.served_registries())))]


def derive_policy(policy: ImagePolicy, registry: RegistrySettings | None) -> ImagePolicy:
    """The stack's policy completed by the registry: what the stack says wins, field by field.

    Adds a registry override to the hosted registry (unless ``images.registry`` is set), a
    ``flatten`` mirror rule per cache or a ``replace`` rule per proxy project (unless a rule
    for that source exists), and the trust of every host the registry serves (plain HTTP is
    declared only for a docker-mode registry or an external one marked insecure).
    """
    if registry is None:
        return policy
    updates: dict[str, Any] = {}
    if policy.registry is None:
        updates["registry"] = RegistryOverride(to=registry.endpoint_address, layout=registry.layout)
    existing = {rule.source for rule in policy.mirrors}
    added = []
    for upstream, endpoint in sorted(registry.cache_endpoints().items()):
        if upstream in existing:
            continue
        layout = "flatten" if registry.mode == "in-cluster" else "replace"
        added.append(MirrorRule(source=upstream, to=endpoint, layout=layout))
    if added:
        updates["mirrors"] = (*policy.mirrors, *added)
    trust = dict(policy.registries)
    for host in sorted(registry.served_registries()):
        if host not in trust:
            trust[host] = RegistryTrust(
                insecure=registry.plain_http,
                ca_bundle=registry.ca_bundle if registry.mode == "external" else None,
            )
    updates["registries"] = trust
    return policy.model_copy(update=updates)
