"""The registry room: settings (``airlock:registry``), its image and policy rules, the pure
objects spec, and the PrivateRegistry component. Exports load on first use (the CLI and the
config loader never import pulumi)."""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "PrivateRegistry": "component",
    "PrivateRegistryArgs": "component",
    "RegistrySettings": "settings",
    "CacheSpec": "settings",
    "StorageSpec": "settings",
    "TlsSpec": "settings",
    "NetworkPolicySpec": "settings",
    "ResourcesSpec": "settings",
    "derive_policy": "images",
    "image_requests": "images",
}

if TYPE_CHECKING:
    from .component import PrivateRegistry, PrivateRegistryArgs
    from .images import derive_policy, image_requests
    from .settings import CacheSpec, NetworkPolicySpec, RegistrySettings, ResourcesSpec, StorageSpec, TlsSpec


__getattr__ = lazy_exports(__name__, _EXPORTS)


__all__ = [
    "CacheSpec",
    "NetworkPolicySpec",
    "PrivateRegistry",
    "PrivateRegistryArgs",
    "RegistrySettings",
    "ResourcesSpec",
    "StorageSpec",
    "TlsSpec",
    "derive_policy",
    "image_requests",
]
