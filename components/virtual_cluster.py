"""VirtualCluster: one vcluster tenant whose every image goes through the image policy.

The chart is installed with ``pulumi_kubernetes.helm.v4.Chart``, not ``helm.v3.Release``:
v4 renders the chart into ordinary Pulumi resources (each object shows up in ``pulumi preview
--diff``, review works object by object, and no Helm release Secret holds a second copy of the
state), and it works with the provider's ``renderYamlToDirectory`` option, so GitOps users can
write the rendered manifests to a directory for Argo CD or Flux instead of applying them.
The chart source can be the loft repository or an OCI mirror (``oci://registry/charts``).

Values come from ``components.vcluster_spec`` (pure): images per image from the ImageConfig,
pull secrets on both service accounts, ``translateImage`` for tenant workloads, fromHost/toHost
sync and the escape hatch (policy-owned paths always win, with a warning).

Outputs: ``kubeconfig`` (secret; read from the ``vc-<name>`` Secret vcluster writes),
``provider`` (a Kubernetes provider for the tenant, for components deployed inside it),
``background_proxy_image`` and ``connect_command``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes

from .image_config import as_secret
from .images.policy import ResolvedImage
from .vcluster_spec import ChartSource, TenantSettings, connect_commands, tenant_values, translate_map

__all__ = ["VirtualCluster", "VirtualClusterArgs"]

k8s: Any = pulumi_kubernetes


@dataclass(frozen=True)
class VirtualClusterArgs:
    tenant: TenantSettings
    """Validated tenant settings."""
    images: Mapping[str, ResolvedImage]
    """Resolved images by logical name, from the ImageConfig (vcluster/*, translate images)."""
    translate: tuple[str, ...]
    """Logical names whose images tenant workloads may use (translateImage entries)."""
    pull_secrets: list[str]
    """Pull-secret names present in the tenant's host namespace."""
    background_proxy: ResolvedImage
    """The `vcluster connect` background proxy image."""
    chart: ChartSource = field(default_factory=ChartSource)
    """Chart repository (or OCI mirror) and pinned version."""
    namespace_resource: pulumi.Resource | None = None
    """The host namespace's resource, when this stack creates it."""
    pull_secret_resources: list[pulumi.Resource] = field(default_factory=list)
    """The pull Secrets the tenant's pods need, so the chart waits for them."""
    secret_values: bool = False
    """The tenant's ``values`` came from secret config: the chart values are passed as a secret
    (Pulumi then keeps them encrypted in state and masked in previews)."""


class VirtualCluster(pulumi.ComponentResource):
    kubeconfig: pulumi.Output[str]
    provider: Any
    background_proxy_image: pulumi.Output[str]
    connect_command: pulumi.Output[dict[str, str]]
    values: dict[str, Any]
    namespace: str

    def __init__(
        self, name: str, args: VirtualClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        tenant = args.tenant
        translate = translate_map(args.images[image] for image in args.translate)
        self.values, warnings = tenant_values(tenant, args.images, args.pull_secrets, translate)
        super().__init__("airlock:index:VirtualCluster", name, None, opts)
        self.namespace = tenant.host_namespace
        for warning in warnings:
            pulumi.log.warn(warning, self)
        depends = [args.namespace_resource, *args.pull_secret_resources]
        chart_options: dict[str, Any] = {"chart": "vcluster", "version": args.chart.version}
        if args.chart.is_oci:
            chart_options["chart"] = f"{args.chart.repository}/vcluster"
            if args.chart.insecure:
                chart_options["plain_http"] = True
        else:
            chart_options["repository_opts"] = {"repo": args.chart.repository}
        # Values from secret config may hold credentials anywhere (a database dataSource...):
        # the whole input is secret then (Pulumi's secretness covers a top-level input anyway).
        values: Any = (
            pulumi.Output.secret(self.values) if args.secret_values and tenant.values else self.values
        )
        chart = k8s.helm.v4.Chart(
            f"{name}-chart",
            name=tenant.name,
            namespace=tenant.host_namespace,
            values=values,
            **chart_options,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[d for d in depends if d is not None]),
        )
        secret = k8s.core.v1.Secret.get(
            f"{name}-kubeconfig",
            f"{tenant.host_namespace}/vc-{tenant.name}",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[chart]),
        )
        self.kubeconfig = as_secret(
            secret.data.apply(lambda data: base64.b64decode((data or {}).get("config", "")).decode())
        )
        self.provider = k8s.Provider(
            f"{name}-provider", kubeconfig=self.kubeconfig, opts=pulumi.ResourceOptions(parent=self)
        )
        proxy = str(args.background_proxy.final)
        self.background_proxy_image = pulumi.Output.from_input(proxy)
        self.connect_command = pulumi.Output.from_input(connect_commands(tenant, proxy))
        self.register_outputs(
            {
                "kubeconfig": self.kubeconfig,
                "background_proxy_image": self.background_proxy_image,
                "connect_command": self.connect_command,
            }
        )
