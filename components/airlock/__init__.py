"""airlock: one controlled door for every container image a Kubernetes platform pulls.

The components and their arguments, for composing them into your own Pulumi program::

    from airlock import ImageConfig, ImageConfigArgs, ImagePolicy, ImageRequest

Exports load on first use, so ``import airlock`` costs nothing until a name is used (the
``airlock`` command starts without pulumi or pydantic).
"""

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

_EXPORTS = {
    # components and their arguments
    "ImageConfig": "image_config",
    "ImageConfigArgs": "image_config",
    "RegistryLoginInput": "image_config",
    "Platform": "platform",
    "PlatformArgs": "platform",
    "PrivateRegistry": "registry.component",
    "PrivateRegistryArgs": "registry.component",
    "VirtualCluster": "vcluster.component",
    "VirtualClusterArgs": "vcluster.component",
    "Gateway": "gateway.component",
    "GatewayArgs": "gateway.component",
    "Crossplane": "crossplane.component",
    "CrossplaneArgs": "crossplane.component",
    # settings (the stack sections, usable in code)
    "RegistrySettings": "registry.settings",
    "TenantSettings": "vcluster.settings",
    "VClusterChart": "vcluster.settings",
    "VClusterSettings": "vcluster.settings",
    "GatewaySettings": "gateway.settings",
    "CrossplaneSettings": "crossplane.settings",
    "StackConfig": "config",
    "LoadedConfig": "config",
    "ConfigError": "config",
    "load_stack_config": "config",
    # the image core
    "ImagePolicy": "images.policy",
    "ImageRequest": "images.table",
    "ImageTable": "images.table",
    "Lockfile": "images.lock",
    "ResolvedImage": "images.policy",
    "DuplicateObjectError": "resources",
    # each room's image requests (what to ask an ImageConfig for)
    "registry_image_requests": "registry.images:image_requests",
    "vcluster_image_requests": "vcluster.images:image_requests",
    "gateway_image_requests": "gateway.images:image_requests",
    "crossplane_image_requests": "crossplane.images:image_requests",
}

if TYPE_CHECKING:
    from .config import ConfigError, LoadedConfig, StackConfig, load_stack_config
    from .crossplane.component import Crossplane, CrossplaneArgs
    from .crossplane.images import image_requests as crossplane_image_requests
    from .crossplane.settings import CrossplaneSettings
    from .gateway.component import Gateway, GatewayArgs
    from .gateway.images import image_requests as gateway_image_requests
    from .gateway.settings import GatewaySettings
    from .image_config import ImageConfig, ImageConfigArgs, RegistryLoginInput
    from .images.lock import Lockfile
    from .images.policy import ImagePolicy, ResolvedImage
    from .images.table import ImageRequest, ImageTable
    from .platform import Platform, PlatformArgs
    from .registry.component import PrivateRegistry, PrivateRegistryArgs
    from .registry.images import image_requests as registry_image_requests
    from .registry.settings import RegistrySettings
    from .resources import DuplicateObjectError
    from .vcluster.component import VirtualCluster, VirtualClusterArgs
    from .vcluster.images import image_requests as vcluster_image_requests
    from .vcluster.settings import TenantSettings, VClusterChart, VClusterSettings


__getattr__ = lazy_exports(__name__, _EXPORTS)


__all__ = [
    "ConfigError",
    "Crossplane",
    "CrossplaneArgs",
    "CrossplaneSettings",
    "DuplicateObjectError",
    "Gateway",
    "GatewayArgs",
    "GatewaySettings",
    "ImageConfig",
    "ImageConfigArgs",
    "ImagePolicy",
    "ImageRequest",
    "ImageTable",
    "LoadedConfig",
    "Lockfile",
    "Platform",
    "PlatformArgs",
    "PrivateRegistry",
    "PrivateRegistryArgs",
    "RegistryLoginInput",
    "RegistrySettings",
    "ResolvedImage",
    "StackConfig",
    "TenantSettings",
    "VClusterChart",
    "VClusterSettings",
    "VirtualCluster",
    "VirtualClusterArgs",
    "crossplane_image_requests",
    "gateway_image_requests",
    "load_stack_config",
    "registry_image_requests",
    "vcluster_image_requests",
]
