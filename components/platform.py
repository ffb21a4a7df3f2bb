"""Platform: composes airlock's components from a validated StackConfig.

Other stacks import it (``from components.platform import Platform, PlatformArgs``) and read
its outputs, or read this stack's exports through a StackReference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from .config import StackConfig
from .image_config import MANAGED_BY, ImageConfig, ImageConfigArgs, RegistryLoginInput
from .images.lock import Lockfile
from .images.table import build_table

__all__ = ["Platform", "PlatformArgs"]


@dataclass(frozen=True)
class PlatformArgs:
    config: StackConfig
    """The validated stack configuration."""
    lock: Lockfile = field(default_factory=Lockfile)
    """images.lock."""
    credentials: Mapping[str, RegistryLoginInput] = field(default_factory=dict)
    """Registry logins (passwords as secrets), by registry host[:port]."""


class Platform(pulumi.ComponentResource):
    """Namespaces and the ImageConfig every other component consumes."""

    images: pulumi.Output[list[dict[str, object]]]
    pull_secrets: pulumi.Output[dict[str, str]]
    namespaces: pulumi.Output[list[str]]

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        config = args.config
        # The same resolution ImageConfig performs, done before anything registers.
        build_table(
            config.image_requests(),
            config.images,
            args.lock,
            credential_registries=args.credentials.keys(),
            pull_secret_name=config.pull_secret_name,
        )
        super().__init__("airlock:index:Platform", name, None, opts)
        labels = {**MANAGED_BY, "airlock/environment": config.environment}
        namespace_resources: dict[str, pulumi.Resource] = {}
        for namespace, spec in sorted(config.namespaces.items()):
            if spec.create:
                namespace_resources[namespace] = k8s.core.v1.Namespace(
                    f"{name}-ns-{namespace}",
                    metadata={"name": namespace, "labels": {**labels, **spec.labels}},
                    opts=pulumi.ResourceOptions(parent=self),
                )
        self.image_config = ImageConfig(
            f"{name}-images",
            ImageConfigArgs(
                policy=config.images,
                requests=config.image_requests(),
                lock=args.lock,
                credentials=args.credentials,
                pull_secret_name=config.pull_secret_name,
                labels={"airlock/environment": config.environment},
                namespace_resources=namespace_resources,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.images = self.image_config.images
        self.pull_secrets = self.image_config.pull_secrets
        self.namespaces = pulumi.Output.from_input(sorted(config.namespaces))
        self.register_outputs(
            {"images": self.images, "pull_secrets": self.pull_secrets, "namespaces": self.namespaces}
        )
