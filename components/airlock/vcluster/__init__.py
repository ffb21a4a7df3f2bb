"""The vcluster room: settings (``airlock:vcluster``), each tenant's images, the pure chart
values, and the VirtualCluster component. Exports load on first use (the CLI and the config
loader never import pulumi)."""

from importlib import import_module
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)


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
