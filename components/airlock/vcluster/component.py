"""VirtualCluster: one vcluster tenant whose every image goes through the image policy.

Used on its own, with the ImageConfig that resolved its images::

    settings = VClusterSettings(tenants=(TenantSettings(name="team-a"),))
    images = ImageConfig("images", ImageConfigArgs(policy=policy, requests=image_requests(settings, {})))
    VirtualCluster("team-a", VirtualClusterArgs(tenant=settings.tenants[0], image_config=images))

The chart is installed with ``pulumi_kubernetes.helm.v4.Chart``, not ``helm.v3.Release``:
v4 renders the chart into ordinary Pulumi resources (each object shows up in ``pulumi preview
--diff``, review works object by object, and no Helm release Secret holds a second copy of the
state), and it works with the provider's ``renderYamlToDirectory`` option, so GitOps users can
write the rendered manifests to a directory for Argo CD or Flux instead of applying them.
The chart source can be the loft repository or an OCI mirror (``oci://registry/charts``).

Values come from ``vcluster.spec`` (pure): images per image from the ImageConfig, pull secrets
on both service accounts, ``translateImage`` for tenant workloads, fromHost/toHost sync and
the escape hatch (policy-owned paths always win, with a warning).

Outputs: ``kubeconfig`` (secret; read from the ``vc-<name>`` Secret vcluster writes),
``provider`` (a Kubernetes provider for the tenant, for components deployed inside it),
``background_proxy_image`` and ``connect_command``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s

from ..image_config import adopt
from ..resources import as_secret, claim_objects, cluster_of, helm_chart
from ..secrets import secret_paths
from .images import BACKGROUND_PROXY, own_images
from .settings import TenantSettings, VClusterChart
from .spec import TYPE_TOKEN, connect_commands, object_keys, tenant_values, translate_map

if TYPE_CHECKING:
    from ..image_config import ImageConfig, PendingImageConfig

__all__ = ["VirtualCluster", "VirtualClusterArgs"]


@dataclass(frozen=True)
class VirtualClusterArgs:
    tenant: TenantSettings
    """Validated tenant settings."""
    image_config: ImageConfig | PendingImageConfig
    """Resolves the tenant's images and holds the pull secret of its host namespace; it must
    have requested them (``vcluster.images.image_requests``). A pending one (the component
    used on its own) is registered as this component's child."""
    chart: VClusterChart = field(default_factory=VClusterChart)
    """Chart repository (or OCI mirror) and pinned version."""
    translate: tuple[str, ...] | None = None
    """Logical names of images tenant workloads may use (``translateImage``); None: every image
    the ImageConfig resolves for the host namespace other than vcluster's own."""
    namespace_resource: pulumi.Resource | None = None
    """The host namespace's resource, when the same program creates it."""
    secret_values: bool = False
    """The tenant's ``values`` came from secret config: the chart values are passed as a secret
    (Pulumi then keeps them encrypted in state and masked in previews). They are anyway when
    ``values`` holds anything password-shaped (``airlock.secrets``: a ``password``/``token``
    key, a URL with a password, a PEM private key)."""


class VirtualCluster(pulumi.ComponentResource):
    # Class-level annotations are the outputs (a component package's schema reads them); the
    # plain attributes (provider, values, namespace, tenant_name) are annotated in __init__.
    kubeconfig: pulumi.Output[str]
    background_proxy_image: pulumi.Output[str]
    connect_command: pulumi.Output[dict[str, str]]

    def __init__(
        self, name: str, args: VirtualClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        tenant, images = args.tenant, args.image_config
        namespace = tenant.host_namespace
        own = own_images(tenant)
        resolved = {image: images.resolved(image, namespace) for image in own}
        translate = args.translate
        if translate is None:
            translate = tuple(image for image in images.names_in(namespace) if image not in own)
        resolved.update({image: images.resolved(image, namespace) for image in translate})
        chart_values, warnings = tenant_values(
            tenant,
            resolved,
            images.pull_secret_names(namespace),
            translate_map(resolved[image] for image in translate),
        )
        self.values: dict[str, Any] = chart_values
        proxy = str(images.resolved(BACKGROUND_PROXY, None).final)
        claim_objects(f"{TYPE_TOKEN} {name}", object_keys(tenant), cluster_of(opts))
        super().__init__(TYPE_TOKEN, name, None, opts)
        self.namespace: str = namespace
        """The tenant's host namespace (its synced pods run and pull there)."""
        self.tenant_name: str = tenant.name
        images = adopt(images, self)
        for warning in warnings:
            pulumi.log.warn(warning, self)
        depends = [args.namespace_resource, images.secret_for(namespace)]
        location = args.chart.location()
        # Values from secret config may hold credentials anywhere (a database dataSource...):
        # the whole input is secret then (Pulumi's secretness covers a top-level input anyway).
        values: pulumi.Input[dict[str, Any]] = self.values
        if tenant.values and (args.secret_values or any(secret_paths(tenant.values))):
            values = pulumi.Output.secret(self.values)
        chart = helm_chart(
            f"{name}-chart",
            release=tenant.name,
            namespace=namespace,
            location=location,
            values=values,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[d for d in depends if d is not None]),
        )
        secret = k8s.core.v1.Secret.get(
            f"{name}-kubeconfig",
            f"{namespace}/vc-{tenant.name}",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[chart]),
        )
        self.kubeconfig = as_secret(
            secret.data.apply(lambda data: base64.b64decode((data or {}).get("config", "")).decode())
        )
        self.provider: k8s.Provider = k8s.Provider(
            f"{name}-provider", kubeconfig=self.kubeconfig, opts=pulumi.ResourceOptions(parent=self)
        )
        self.background_proxy_image = pulumi.Output.from_input(proxy)
        self.connect_command = pulumi.Output.from_input(connect_commands(tenant, proxy))
        self.register_outputs(
            {
                "kubeconfig": self.kubeconfig,
                "background_proxy_image": self.background_proxy_image,
                "connect_command": self.connect_command,
            }
        )
