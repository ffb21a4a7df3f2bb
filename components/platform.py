"""Platform: composes airlock's components from a validated StackConfig.

Other stacks import it (``from components.platform import Platform, PlatformArgs``) and read
its outputs, or read this stack's exports through a StackReference.

Order: namespaces, then the PrivateRegistry (its own image is resolved so that it never comes
from itself), then ImageConfig, which receives the registry's endpoint-derived policy, its
login (password as a secret Output) and its CA — so every consumer's pull secret and trust
include the platform registry without the stack repeating them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from .config import StackConfig
from .image_config import MANAGED_BY, ImageConfig, ImageConfigArgs, RegistryLoginInput
from .images.lock import Lockfile
from .images.table import ImageTable, build_table
from .registry import PrivateRegistry, PrivateRegistryArgs
from .vcluster_spec import check_tenant, tenant_image_name
from .virtual_cluster import VirtualCluster, VirtualClusterArgs

__all__ = ["Platform", "PlatformArgs"]


@dataclass(frozen=True)
class PlatformArgs:
    config: StackConfig
    """The validated stack configuration."""
    lock: Lockfile = field(default_factory=Lockfile)
    """images.lock."""
    credentials: Mapping[str, RegistryLoginInput] = field(default_factory=dict)
    """Registry logins (passwords as secrets), by registry host[:port]."""
    not_mirrored: frozenset[str] = frozenset()
    """Final references a verify report found missing (warned about, exported)."""
    secret_keys: frozenset[str] = frozenset()
    """Config keys that are secrets (``airlock:vcluster``: tenant values stay secret)."""


class Platform(pulumi.ComponentResource):
    """Namespaces, the platform registry, and the ImageConfig every other component consumes."""

    images: pulumi.Output[list[dict[str, object]]]
    pull_secrets: pulumi.Output[dict[str, str]]
    namespaces: pulumi.Output[list[str]]
    registry: PrivateRegistry | None

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        config = args.config
        policy = config.effective_policy()
        requests = config.image_requests()
        # The same resolution ImageConfig performs, done before anything registers.
        table = build_table(
            requests,
            policy,
            args.lock,
            credential_registries=config.credential_registries(),
            pull_secret_name=config.pull_secret_name,
        )
        # Every check before the first registration: a tenant's values cannot fail half-way.
        if config.vcluster is not None and config.vcluster.tenants:
            kubernetes = table.resolved("vcluster/kubernetes")
            for tenant in config.vcluster.tenants:
                check_tenant(tenant, kubernetes)
        super().__init__("airlock:index:Platform", name, None, opts)
        labels = {**MANAGED_BY, "airlock/environment": config.environment}
        namespace_resources: dict[str, pulumi.Resource] = {}
        for namespace, spec in sorted(config.all_namespaces().items()):
            if spec.create:
                namespace_resources[namespace] = k8s.core.v1.Namespace(
                    f"{name}-ns-{namespace}",
                    metadata={"name": namespace, "labels": {**labels, **spec.labels}},
                    opts=pulumi.ResourceOptions(parent=self),
                )

        credentials = dict(args.credentials)
        self.registry = None
        if config.registry is not None:
            self.registry = self._registry(name, config, table, namespace_resources)
            if self.registry.password is not None:
                login = RegistryLoginInput(username=config.registry.username, password=self.registry.password)
                credentials.update({host: login for host in config.registry.served_registries()})

        self.image_config = ImageConfig(
            f"{name}-images",
            ImageConfigArgs(
                policy=policy,
                requests=requests,
                lock=args.lock,
                credentials=credentials,
                pull_secret_name=config.pull_secret_name,
                labels={"airlock/environment": config.environment},
                namespace_resources=namespace_resources,
                not_mirrored=args.not_mirrored,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.tenants = self._tenants(name, config, table, namespace_resources, args.secret_keys)
        self.images = self.image_config.images
        self.pull_secrets = self.image_config.pull_secrets
        self.namespaces = pulumi.Output.from_input(sorted(config.all_namespaces()))
        outputs: dict[str, object] = {
            "images": self.images,
            "pull_secrets": self.pull_secrets,
            "namespaces": self.namespaces,
        }
        if self.registry is not None:
            outputs["registry"] = self.registry_summary()
        if self.tenants:
            outputs["tenants"] = self.tenant_summary()
        self.register_outputs(outputs)

    def _tenants(
        self,
        name: str,
        config: StackConfig,
        table: ImageTable,
        namespace_resources: Mapping[str, pulumi.Resource],
        secret_keys: frozenset[str],
    ) -> dict[str, VirtualCluster]:
        if config.vcluster is None:
            return {}
        tenants: dict[str, VirtualCluster] = {}
        secret_values = "airlock:vcluster" in secret_keys
        translate = tuple(sorted(config.workload_images))
        for tenant in config.vcluster.tenants:
            namespace = tenant.host_namespace
            extra = tuple(tenant_image_name(image) for image in tenant.translate_images)
            names = table.names_in(namespace)
            tenants[tenant.name] = VirtualCluster(
                f"{name}-vcluster-{tenant.name}",
                VirtualClusterArgs(
                    tenant=tenant,
                    images={image: table.resolved(image) for image in names},
                    translate=translate + extra,
                    pull_secrets=table.pull_secrets_for(namespace),
                    background_proxy=table.resolved("vcluster/background-proxy"),
                    chart=config.vcluster.chart,
                    namespace_resource=namespace_resources.get(namespace),
                    pull_secret_resources=[self.image_config.secrets[namespace]]
                    if namespace in self.image_config.secrets
                    else [],
                    secret_values=secret_values,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        return tenants

    def tenant_summary(self) -> pulumi.Output[dict[str, object]]:
        """Per tenant: host namespace, background proxy image and connect commands (no secrets)."""
        return pulumi.Output.from_input(
            {
                tenant: {
                    "namespace": cluster.namespace,
                    "backgroundProxyImage": cluster.background_proxy_image,
                    "connectCommand": cluster.connect_command,
                }
                for tenant, cluster in sorted(self.tenants.items())
            }
        )

    def registry_summary(self) -> pulumi.Output[dict[str, object]]:
        """What a downstream stack needs to pull from the platform registry (no secrets)."""
        assert self.registry is not None
        return pulumi.Output.all(
            endpoint=self.registry.endpoint,
            caBundle=self.registry.ca_bundle,
            username=self.registry.username,
            caches=self.registry.caches,
        ).apply(lambda values: dict(values))

    def _registry(
        self,
        name: str,
        config: StackConfig,
        table: ImageTable,
        namespace_resources: Mapping[str, pulumi.Resource],
    ) -> PrivateRegistry:
        settings = config.registry
        assert settings is not None
        image = table.resolved("registry/registry") if settings.mode != "external" else None
        namespace = settings.namespace if settings.mode == "in-cluster" else None
        password = pulumi.Output.secret(settings.password) if settings.password else None
        return PrivateRegistry(
            f"{name}-registry",
            PrivateRegistryArgs(
                settings=settings,
                image=image,
                pull_secrets=table.pull_secrets_for(namespace),
                labels={"airlock/environment": config.environment},
                namespace_resource=namespace_resources.get(namespace) if namespace else None,
                external_password=password,
                upstream_passwords={
                    cache.upstream: pulumi.Output.secret(cache.password)
                    for cache in settings.caches
                    if cache.password is not None
                },
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
