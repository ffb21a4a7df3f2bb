"""The vcluster room: settings (``airlock:vcluster``), each tenant's images, the pure chart
values, and the VirtualCluster component. Exports load on first use (the CLI and the config
loader never import pulumi)."""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "VirtualCluster": "component",
    "VirtualClusterArgs": "component",
    "VClusterSettings": "settings",
    "VClusterChart": "settings",
    "TenantSettings": "settings",
    "SyncSettings": "settings",
    "image_requests": "images",
    "tenant_requests": "images",
    "tenant_values": "spec",
}

if TYPE_CHECKING:
    from .component import VirtualCluster, VirtualClusterArgs
    from .images import image_requests, tenant_requests
    from .settings import SyncSettings, TenantSettings, VClusterChart, VClusterSettings
    from .spec import tenant_values


__getattr__ = lazy_exports(__name__, _EXPORTS)


__all__ = [
    "SyncSettings",
    "TenantSettings",
    "VClusterChart",
    "VClusterSettings",
    "VirtualCluster",
    "VirtualClusterArgs",
    "image_requests",
    "tenant_requests",
    "tenant_values",
]
