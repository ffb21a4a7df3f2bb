"""Platform's vcluster step (imports pulumi): one VirtualCluster per tenant, and the stack
exports ``tenants`` (namespace, background proxy image, connect commands) and the secret
``tenantKubeconfigs``."""

from __future__ import annotations

import pulumi

from ..assembly import Assembly, Composed
from .component import VirtualCluster, VirtualClusterArgs
from .settings import TenantSettings, VClusterSettings

__all__ = ["compose", "tenant_args"]


def tenant_args(assembly: Assembly, settings: VClusterSettings, tenant: TenantSettings) -> VirtualClusterArgs:
    """One tenant's component arguments (Platform, and the component package's VirtualCluster)."""
    assert assembly.image_config is not None
    return VirtualClusterArgs(
        tenant=tenant,
        image_config=assembly.image_config,
        chart=settings.chart,
        namespace_resource=assembly.namespaces.get(tenant.host_namespace),
        secret_values="airlock:vcluster" in assembly.loaded.secret_keys,
    )


def compose(assembly: Assembly, settings: VClusterSettings) -> Composed:
    tenants = {
        tenant.name: VirtualCluster(
            f"{assembly.name}-vcluster-{tenant.name}",
            tenant_args(assembly, settings, tenant),
            opts=pulumi.ResourceOptions(parent=assembly.parent),
        )
        for tenant in settings.tenants
    }
    if not tenants:
        return Composed({})
    summary = pulumi.Output.from_input(
        {
            name: {
                "namespace": cluster.namespace,
                "backgroundProxyImage": cluster.background_proxy_image,
                "connectCommand": cluster.connect_command,
            }
            for name, cluster in sorted(tenants.items())
        }
    )
    kubeconfigs = pulumi.Output.secret({name: cluster.kubeconfig for name, cluster in tenants.items()})
    return Composed(
        dict(tenants),
        {"tenants": summary, "tenantKubeconfigs": kubeconfigs},
        secret_exports=frozenset({"tenantKubeconfigs"}),
    )
