"""Platform's image sync step (imports pulumi): the ImageSync component over the stack's mirror
list, with the policy's CAs, the platform registry's CA output and the logins ImageConfig holds;
the stack export ``imageSync``."""

from __future__ import annotations

import pulumi

from ..assembly import Assembly, Composed
from ..oci.supply import plan_mirror
from ..registry.compose import platform_registry_ca
from .component import ImageSync, ImageSyncArgs
from .settings import ImageSyncSettings

__all__ = ["compose", "image_sync_args"]


def image_sync_args(assembly: Assembly, settings: ImageSyncSettings) -> ImageSyncArgs:
    """The component arguments: the list ``airlock images mirror`` copies (placeholder digests
    synced by tag: ``pulumi up`` refuses them anyway), and how to reach each registry."""
    assert assembly.image_config is not None
    config = assembly.loaded.config
    policy = config.effective_policy()
    pairs = plan_mirror(
        assembly.loaded.table.entries,
        assembly.loaded.lock,
        pin=policy.pin,
        pull_through=config.pull_through_prefixes(),
        placeholders="by-tag",
    )
    hosts = {reference.domain for pair in pairs for reference in pair}
    cas: dict[str, pulumi.Input[str]] = {
        host: trust.ca_bundle
        for host, trust in policy.registries.items()
        if host in hosts and trust.ca_bundle
    }
    registry_ca, served = platform_registry_ca(assembly)
    if registry_ca is not None:
        for host in sorted(served & hosts):
            cas.setdefault(host, registry_ca)
    return ImageSyncArgs(
        settings=settings,
        pairs=pairs,
        image_config=assembly.image_config,
        cas=cas,
        insecure=frozenset(host for host, trust in policy.registries.items() if trust.insecure),
        logins={
            host: login
            for host in sorted(hosts)
            if (login := assembly.image_config.login_for(host)) is not None
        },
        labels=assembly.labels,
        namespace_resource=assembly.namespaces.get(settings.namespace),
    )


def compose(assembly: Assembly, settings: ImageSyncSettings) -> Composed:
    component = ImageSync(
        f"{assembly.name}-image-sync",
        image_sync_args(assembly, settings),
        opts=pulumi.ResourceOptions(parent=assembly.parent),
    )
    export = pulumi.Output.from_input(
        {
            "namespace": settings.namespace,
            "cronJob": settings.name,
            "schedule": component.schedule,
            "shards": component.shards,
            "images": component.images,
        }
    )
    return Composed({"imageSync": component}, {"imageSync": export})
