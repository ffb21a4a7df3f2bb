"""Crossplane as a consumer of the stack (pure): the section, the core image and the packages
(all pulled for Crossplane's namespace), and the checks: the namespace is declared, the
escape hatch keeps its shape, and every package can be fetched as the policy decided."""

from __future__ import annotations

from typing import ClassVar

from ..consumers import Consumer, ObjectKey, Problem, StackFacts, release_problems
from ..images.table import ImageRequest, ImageTable
from ..registry.settings import RegistrySettings
from .images import CATALOG, RELEASES, image_requests
from .settings import CrossplaneSettings
from .spec import TYPE_TOKEN, object_keys, package_problems, values_problems

__all__ = ["CROSSPLANE", "CrossplaneConsumer"]


class CrossplaneConsumer(Consumer[CrossplaneSettings]):
    key: ClassVar[str] = "crossplane"
    description: ClassVar[str] = "Crossplane: chart source, namespace, packageSource, packages."
    settings = CrossplaneSettings
    catalog = CATALOG
    component: ClassVar[str] = "airlock.crossplane.compose:compose"

    def used_namespaces(self, settings: CrossplaneSettings) -> list[str]:
        return [settings.namespace]

    def requests(self, settings: CrossplaneSettings, facts: StackFacts) -> list[ImageRequest]:
        return image_requests(settings)

    def problems(self, settings: CrossplaneSettings, facts: StackFacts) -> list[Problem]:
        problems: list[Problem] = release_problems(RELEASES, settings.chart.version)
        if settings.namespace not in facts.namespaces:
            problems.append(
                Problem(
                    ("namespace",),
                    settings.namespace,
                    "is not declared under airlock:namespaces: nothing creates it or the pull secret "
                    "Crossplane fetches packages with",
                    f"add it: airlock:namespaces.{settings.namespace}: {{}} (or create: false if it exists)",
                )
            )
        problems += [
            Problem(("values", *path), value, why, fix) for path, value, why, fix in values_problems(settings)
        ]
        return problems

    def table_problems(
        self, settings: CrossplaneSettings, table: ImageTable, facts: StackFacts
    ) -> list[Problem]:
        resolved = {p.logical_name: table.resolved(p.logical_name) for p in settings.packages}
        assert facts.policy is not None
        problems = [Problem(*problem) for problem in package_problems(settings, resolved, facts.policy)]
        # The crossplane pod fetches packages itself: an in-cluster registry whose NetworkPolicy
        # admits only the namespaces it lists must list Crossplane's.
        registry = facts.sections.get("registry")
        if isinstance(registry, RegistrySettings) and registry.mode == "in-cluster":
            guard = registry.network_policy
            used = sorted({image.registry for image in resolved.values()} & registry.served_registries())
            if guard.enabled and used and settings.namespace not in guard.allow_namespaces:
                problems.append(
                    Problem(
                        ("@registry", "networkPolicy", "allowNamespaces"),
                        list(guard.allow_namespaces),
                        f"Crossplane fetches packages from {', '.join(used)} from its own pods in "
                        f"{settings.namespace}, which the registry's NetworkPolicy does not admit",
                        f"add {settings.namespace} to airlock:registry.networkPolicy.allowNamespaces",
                    )
                )
        return problems

    def claims(self, settings: CrossplaneSettings, platform: str) -> dict[str, list[ObjectKey]]:
        return {f"{TYPE_TOKEN} {platform}-crossplane": object_keys(settings)}


CROSSPLANE = CrossplaneConsumer()
