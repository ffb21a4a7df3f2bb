"""The registry as a consumer of the stack (pure): its section, its image, its policy rules and
the login it supplies. Its component is composed first (see ``airlock.consumers``)."""

from __future__ import annotations

from typing import ClassVar

from ..consumers import Consumer, ObjectKey, Problem, StackFacts
from ..images.policy import ImagePolicy
from ..images.table import ImageRequest
from .images import CATALOG, derive_policy, image_requests
from .settings import RegistrySettings
from .spec import TYPE_TOKEN, object_keys

__all__ = ["REGISTRY", "RegistryConsumer"]


class RegistryConsumer(Consumer[RegistrySettings]):
    key: ClassVar[str] = "registry"
    description: ClassVar[str] = "The platform's own registry (in-cluster, docker or external)."
    settings = RegistrySettings
    catalog = CATALOG
    component: ClassVar[str] = "airlock.registry.compose:compose"
    provides_logins: ClassVar[bool] = True

    def used_namespaces(self, settings: RegistrySettings) -> list[str]:
        return [settings.namespace] if settings.mode == "in-cluster" else []

    def requests(self, settings: RegistrySettings, facts: StackFacts) -> list[ImageRequest]:
        return image_requests(settings)

    def problems(self, settings: RegistrySettings, facts: StackFacts) -> list[Problem]:
        problems = []
        if settings.mode == "in-cluster" and settings.namespace not in facts.namespaces:
            problems.append(
                Problem(
                    ("namespace",),
                    settings.namespace,
                    "is not declared under airlock:namespaces",
                    f"add '{settings.namespace}: {{}}' to airlock:namespaces",
                )
            )
        for host in sorted(facts.credential_hosts & settings.served_registries()):
            problems.append(
                Problem(
                    ("@registryCredentials", host),
                    host,
                    "is served by airlock:registry, which supplies its own login",
                    "remove this entry",
                )
            )
        return problems

    def complete_policy(self, settings: RegistrySettings, policy: ImagePolicy) -> ImagePolicy:
        return derive_policy(policy, settings)

    def login_hosts(self, settings: RegistrySettings) -> set[str]:
        return settings.login_hosts()

    def pull_through_prefixes(self, settings: RegistrySettings) -> list[str]:
        return settings.pull_through_prefixes()

    def claims(self, settings: RegistrySettings, platform: str) -> dict[str, list[ObjectKey]]:
        return {f"{TYPE_TOKEN} {platform}-registry": object_keys(settings)}


REGISTRY = RegistryConsumer()
