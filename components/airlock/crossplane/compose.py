"""Platform's Crossplane step (imports pulumi): the Crossplane component with the stack's
completed policy and, for packages from the platform registry, its CA; the stack export
``crossplane``."""

from __future__ import annotations

import pulumi

from ..assembly import Assembly, Composed
from ..registry.compose import platform_registry_ca
from .component import Crossplane, CrossplaneArgs
from .settings import CrossplaneSettings

__all__ = ["compose", "crossplane_args"]


def crossplane_args(assembly: Assembly, settings: CrossplaneSettings) -> CrossplaneArgs:
    """The component arguments (Platform, and the component package's Crossplane)."""
    assert assembly.image_config is not None
    config = assembly.loaded.config
    registry_ca, registry_hosts = platform_registry_ca(assembly)
    return CrossplaneArgs(
        settings=settings,
        image_config=assembly.image_config,
        policy=config.effective_policy(),
        labels=assembly.labels,
        namespace_resource=assembly.namespaces.get(settings.namespace),
        registry_ca=registry_ca,
        registry_hosts=registry_hosts,
        secret_values="airlock:crossplane" in assembly.loaded.secret_keys,
    )


def compose(assembly: Assembly, settings: CrossplaneSettings) -> Composed:
    component = Crossplane(
        f"{assembly.name}-crossplane",
        crossplane_args(assembly, settings),
        opts=pulumi.ResourceOptions(parent=assembly.parent),
    )
    export = pulumi.Output.from_input(
        {
            "namespace": settings.namespace,
            "packageSource": settings.package_source,
            "coreImage": component.core_image,
            "packages": component.packages,
            "imageConfigs": component.image_configs,
        }
    )
    return Composed({"crossplane": component}, {"crossplane": export})
