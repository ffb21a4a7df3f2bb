"""Platform's gateway step (imports pulumi): the Gateway component, on the host cluster or
inside the vcluster tenant the settings name, and the stack export ``gateway``."""

from __future__ import annotations

import pulumi

from ..assembly import Assembly, Composed
from ..vcluster.component import VirtualCluster
from .component import Gateway, GatewayArgs
from .settings import GatewaySettings

__all__ = ["compose", "gateway_args"]


def gateway_args(assembly: Assembly, settings: GatewaySettings) -> GatewayArgs:
    """The component arguments (Platform, and the component package's Gateway)."""
    assert assembly.image_config is not None
    tenant = None
    if settings.tenant is not None:
        found = assembly.composed.get("vcluster")
        candidate = found.components.get(settings.tenant) if found else None
        assert isinstance(candidate, VirtualCluster), "the config loader checked the tenant exists"
        tenant = candidate
    return GatewayArgs(
        settings=settings,
        image_config=assembly.image_config,
        labels=assembly.labels,
        namespace_resources=assembly.namespaces,
        tenant=tenant,
        secret_values="airlock:gateway" in assembly.loaded.secret_keys,
    )


def compose(assembly: Assembly, settings: GatewaySettings) -> Composed:
    component = Gateway(
        f"{assembly.name}-gateway",
        gateway_args(assembly, settings),
        opts=pulumi.ResourceOptions(parent=assembly.parent),
    )
    export = pulumi.Output.from_input(
        {
            "namespace": settings.namespace,
            "tenant": settings.tenant,
            "crds": settings.crds.install,
            "deployType": settings.deploy_type,
            "controllerImage": component.controller_image,
            "proxyImage": component.proxy_image,
            "classes": component.classes,
            "gateways": component.gateways,
        }
    )
    return Composed({"gateway": component}, {"gateway": export})
