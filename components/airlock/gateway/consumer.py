"""Envoy Gateway as a consumer of the stack (pure): the section, the images and where they run,
and the checks across keys (declared classes and namespaces, the tenant, the escape hatches,
and whether the proxy's final reference fits the EnvoyProxy field)."""

from __future__ import annotations

from typing import ClassVar

from ..consumers import Consumer, ObjectKey, Problem, StackFacts, release_problems
from ..images.table import ImageRequest, ImageTable
from ..vcluster.settings import VClusterSettings
from .images import CATALOG, PROXY, RELEASES, image_requests
from .settings import GatewaySettings
from .spec import TYPE_TOKEN, gateway_problems, image_problems, object_keys

__all__ = ["GATEWAY", "GatewayConsumer", "tenant_host_namespace"]


def tenant_host_namespace(settings: GatewaySettings, facts: StackFacts) -> str | None:
    """The host namespace of the tenant the gateway is deployed into (None: the host cluster)."""
    if settings.tenant is None:
        return None
    vcluster = facts.sections.get("vcluster")
    if isinstance(vcluster, VClusterSettings):
        for tenant in vcluster.tenants:
            if tenant.name == settings.tenant:
                return tenant.host_namespace
    return None


class GatewayConsumer(Consumer[GatewaySettings]):
    key: ClassVar[str] = "gateway"
    description: ClassVar[str] = "Envoy Gateway: chart source, CRDs, classes, Gateways."
    settings = GatewaySettings
    catalog = CATALOG
    component: ClassVar[str] = "airlock.gateway.compose:compose"

    def used_namespaces(self, settings: GatewaySettings) -> list[str]:
        if settings.tenant is not None:
            return []  # inside the tenant: the Gateway component creates them there
        return sorted({settings.namespace, *settings.gateway_namespaces()})

    def requests(self, settings: GatewaySettings, facts: StackFacts) -> list[ImageRequest]:
        if settings.tenant is not None and tenant_host_namespace(settings, facts) is None:
            return []  # reported by problems(): the tenant is not declared
        return image_requests(settings, tenant_host_namespace(settings, facts))

    def namespaces(self, settings: GatewaySettings) -> list[str]:
        return [] if settings.tenant is not None else [settings.namespace]

    def problems(self, settings: GatewaySettings, facts: StackFacts) -> list[Problem]:
        problems: list[Problem] = release_problems(RELEASES, settings.chart.version)
        if settings.tenant is not None and tenant_host_namespace(settings, facts) is None:
            vcluster = facts.sections.get("vcluster")
            known = [t.name for t in vcluster.tenants] if isinstance(vcluster, VClusterSettings) else []
            problems.append(
                Problem(
                    ("tenant",),
                    settings.tenant,
                    "is not a vcluster tenant of this stack",
                    f"declare it under airlock:vcluster.tenants (declared: {', '.join(known) or 'none'})",
                )
            )
        for index, item in enumerate(settings.gateways):
            declared = item.namespace in facts.namespaces or item.namespace == settings.namespace
            if settings.tenant is None and not declared:
                problems.append(
                    Problem(
                        ("gateways", index, "namespace"),
                        item.namespace,
                        "is not declared under airlock:namespaces: nothing creates it"
                        + (
                            ", nor the pull secret its proxies need"
                            if settings.deploy_type == "GatewayNamespace"
                            else ""
                        ),
                        f"add it: airlock:namespaces.{item.namespace}: {{}} (or create: false if it exists)",
                    )
                )
        problems += [Problem(*problem) for problem in gateway_problems(settings)]
        return problems

    def table_problems(
        self, settings: GatewaySettings, table: ImageTable, facts: StackFacts
    ) -> list[Problem]:
        return [Problem(*problem) for problem in image_problems(settings, table.resolved(PROXY))]

    def claims(self, settings: GatewaySettings, platform: str) -> dict[str, list[ObjectKey]]:
        # Inside a tenant the objects live on the tenant's cluster; the component claims them
        # there when it is constructed (before it registers).
        if settings.tenant is not None:
            return {}
        return {f"{TYPE_TOKEN} {platform}-gateway": object_keys(settings)}


GATEWAY = GatewayConsumer()
