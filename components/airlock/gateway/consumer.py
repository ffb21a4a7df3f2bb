"""Envoy Gateway as a consumer of the stack (pure): the section, the images and where they run,
and the checks across keys (declared classes and namespaces, the tenant, the escape hatches,
and whether the proxy's final reference fits the EnvoyProxy field)."""

from __future__ import annotations

from typing import ClassVar

from ..consumers import Consumer, ObjectKey, Problem, StackFacts
from ..images.table import ImageRequest, ImageTable
from ..vcluster.settings import VClusterSettings
from .images import CATALOG, PROXY, image_requests
from .settings import GatewaySettings, ProxySettings
from .spec import TYPE_TOKEN, object_keys, proxy_image_problems, proxy_spec_problems, values_problems

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


def _proxies(settings: GatewaySettings) -> list[tuple[tuple[str | int, ...], ProxySettings]]:
    found: list[tuple[tuple[str | int, ...], ProxySettings]] = [
        (("classes", index, "proxy"), item.proxy) for index, item in enumerate(settings.classes)
    ]
    found += [
        (("gateways", index, "proxy"), item.proxy)
        for index, item in enumerate(settings.gateways)
        if item.proxy is not None
    ]
    return found


class GatewayConsumer(Consumer[GatewaySettings]):
    key: ClassVar[str] = "gateway"
    description: ClassVar[str] = "Envoy Gateway: chart source, CRDs, classes, Gateways."
    settings = GatewaySettings
    catalog = CATALOG
    component: ClassVar[str] = "airlock.gateway.compose:compose"

    def requests(self, settings: GatewaySettings, facts: StackFacts) -> list[ImageRequest]:
        if settings.tenant is not None and tenant_host_namespace(settings, facts) is None:
            return []  # reported by problems(): the tenant is not declared
        return image_requests(settings, tenant_host_namespace(settings, facts))

    def namespaces(self, settings: GatewaySettings) -> list[str]:
        return [] if settings.tenant is not None else [settings.namespace]

    def problems(self, settings: GatewaySettings, facts: StackFacts) -> list[Problem]:
        problems: list[Problem] = []
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
        classes = [item.name for item in settings.classes]
        for index, item in enumerate(settings.gateways):
            if item.gateway_class_name not in classes:
                problems.append(
                    Problem(
                        ("gateways", index, "gatewayClassName"),
                        item.gateway_class_name,
                        "names no GatewayClass declared in this section",
                        f"use one of: {', '.join(classes)}, or declare it under classes",
                    )
                )
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
        problems += [
            Problem(("values", *path), value, reason, fix)
            for path, value, reason, fix in values_problems(settings)
        ]
        for location, proxy in _proxies(settings):
            problems += [
                Problem((*location, *path), value, reason, fix)
                for path, value, reason, fix in proxy_spec_problems(proxy)
            ]
        return problems

    def table_problems(self, settings: GatewaySettings, table: ImageTable) -> list[Problem]:
        proxy = table.resolved(PROXY)
        problems: list[Problem] = []
        for location, settings_of_proxy in _proxies(settings):
            field = settings_of_proxy.image_field
            problems += [
                Problem((*location, "imageField"), field, reason)
                for reason in proxy_image_problems(proxy, field)
            ]
        return problems

    def claims(self, settings: GatewaySettings, platform: str) -> dict[str, list[ObjectKey]]:
        # Inside a tenant the objects live on the tenant's cluster; the component claims them
        # there when it is constructed (before it registers).
        if settings.tenant is not None:
            return {}
        return {f"{TYPE_TOKEN} {platform}-gateway": object_keys(settings)}


GATEWAY = GatewayConsumer()
