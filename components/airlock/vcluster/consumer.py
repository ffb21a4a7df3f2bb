"""vcluster tenants as a consumer of the stack (pure): the section, every tenant's images and
host namespace, and the checks on the values escape hatch."""

from __future__ import annotations

from typing import ClassVar

from ..consumers import Consumer, ObjectKey, Problem, StackFacts, release_problems
from ..images.table import ImageRequest, ImageTable
from .images import CATALOG, RELEASES, image_requests
from .settings import VClusterSettings
from .spec import TYPE_TOKEN, object_keys, pinning_problems, structure_problems

__all__ = ["VCLUSTER", "VClusterConsumer"]


class VClusterConsumer(Consumer[VClusterSettings]):
    key: ClassVar[str] = "vcluster"
    description: ClassVar[str] = "vcluster tenants: chart source, kubernetesVersion, tenants."
    settings = VClusterSettings
    catalog = CATALOG
    component: ClassVar[str] = "airlock.vcluster.compose:compose"

    def requests(self, settings: VClusterSettings, facts: StackFacts) -> list[ImageRequest]:
        return image_requests(settings, facts.workload_sources)

    def namespaces(self, settings: VClusterSettings) -> list[str]:
        return [tenant.host_namespace for tenant in settings.tenants]

    def problems(self, settings: VClusterSettings, facts: StackFacts) -> list[Problem]:
        return release_problems(RELEASES, settings.chart.version) + [
            Problem(("tenants", index, "values", *location), value, reason, fix)
            for index, tenant in enumerate(settings.tenants)
            for location, value, reason, fix in structure_problems(tenant)
        ]

    def table_problems(
        self, settings: VClusterSettings, table: ImageTable, facts: StackFacts
    ) -> list[Problem]:
        if not settings.tenants:
            return []
        kubernetes = table.resolved("vcluster/kubernetes")
        return [
            Problem(("tenants", index, "values", *location), value, reason, fix)
            for index, tenant in enumerate(settings.tenants)
            for location, value, reason, fix in pinning_problems(tenant, kubernetes)
        ]

    def claims(self, settings: VClusterSettings, platform: str) -> dict[str, list[ObjectKey]]:
        return {f"{TYPE_TOKEN} {platform}-vcluster-{t.name}": object_keys(t) for t in settings.tenants}


VCLUSTER = VClusterConsumer()
