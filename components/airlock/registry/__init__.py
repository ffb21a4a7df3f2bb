"""The registry room: settings (``airlock:registry``), its image and policy rules, the pure
objects spec, and the PrivateRegistry component. Exports load on first use (the CLI and the
config loader never import pulumi)."""

from importlib import import_module
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)


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
