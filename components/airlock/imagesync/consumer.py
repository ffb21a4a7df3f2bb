"""The in-cluster mirror as a consumer of the stack (pure): ``airlock:imageSync``, skopeo's image
(resolved away from every registry the sync fills), and the namespace check."""

from __future__ import annotations

from typing import ClassVar

from ..consumers import Consumer, ObjectKey, Problem, StackFacts
from ..images.policy import ImagePolicy
from ..images.table import ImageRequest
from ..registry.settings import RegistrySettings
from .images import CATALOG, image_requests
from .settings import ImageSyncSettings
from .spec import TYPE_TOKEN, object_keys

__all__ = ["IMAGE_SYNC", "ImageSyncConsumer", "sync_targets"]


def sync_targets(policy: ImagePolicy) -> frozenset[str]:
    """The registries a mirror of this policy may fill: every rule's target host."""
    targets = {rule.to.partition("/")[0] for rule in policy.mirrors}
    if policy.registry is not None:
        targets.add(policy.registry.to.partition("/")[0])
    return frozenset(targets)


class ImageSyncConsumer(Consumer[ImageSyncSettings]):
    key: ClassVar[str] = "imageSync"
    description: ClassVar[str] = "The in-cluster mirror: a CronJob of skopeo sync shards."
    settings = ImageSyncSettings
    catalog = CATALOG
    component: ClassVar[str] = "airlock.imagesync.compose:compose"

    def used_namespaces(self, settings: ImageSyncSettings) -> list[str]:
        return [settings.namespace]

    def requests(self, settings: ImageSyncSettings, facts: StackFacts) -> list[ImageRequest]:
        assert facts.policy is not None
        return image_requests(settings, sync_targets(facts.policy))

    def problems(self, settings: ImageSyncSettings, facts: StackFacts) -> list[Problem]:
        if settings.namespace not in facts.namespaces:
            return [
                Problem(
                    ("namespace",),
                    settings.namespace,
                    "is not declared under airlock:namespaces: nothing creates it",
                    f"add it: airlock:namespaces.{settings.namespace}: {{}} (or create: false if it exists)",
                )
            ]
        registry = facts.sections.get("registry")
        if (
            isinstance(registry, RegistrySettings)
            and registry.mode == "in-cluster"
            and registry.network_policy.enabled
            and settings.namespace != registry.namespace
            and settings.namespace not in registry.network_policy.allow_namespaces
        ):
            return [
                Problem(
                    ("namespace",),
                    settings.namespace,
                    f"the registry's NetworkPolicy admits the sync pods only in its own namespace "
                    f"({registry.namespace}): these could not reach it",
                    f"run ImageSync in {registry.namespace}, or add {settings.namespace} to "
                    "airlock:registry.networkPolicy.allowNamespaces",
                )
            ]
        return []

    def claims(self, settings: ImageSyncSettings, platform: str) -> dict[str, list[ObjectKey]]:
        return {f"{TYPE_TOKEN} {platform}-image-sync": object_keys(settings)}


IMAGE_SYNC = ImageSyncConsumer()
