"""Gateway: an Envoy Gateway installation whose every pod pulls through the image policy.

Used on its own, with the ImageConfig that resolved its images::

    settings = GatewaySettings(classes=(ClassSettings(name="eg"),))
    images = ImageConfig("images", ImageConfigArgs(policy=policy, requests=image_requests(settings)))
    Gateway("edge", GatewayArgs(settings=settings, image_config=images))

What it creates, in order:

1. with ``crds.install: separate`` (the default), the ``gateway-crds-helm`` chart as its own
   ``helm.v4.Chart`` (Gateway API v1.6.1 and Envoy Gateway CRDs as templates: rendered the
   same on every run and upgraded with the version; see ``CrdSettings`` for the alternatives
   and why);
2. the certgen ServiceAccount, Role, RoleBinding and Job (plus, with the topology injector,
   its webhook configuration and ClusterRole): in the chart they are Helm hooks, which
   ``helm.v4.Chart`` does not render, and without the Job the controller never gets its
   certificate Secret;
3. the ``gateway-helm`` chart with ``helm.v4.Chart`` (each object shows in ``pulumi preview
   --diff``; works with ``renderYamlToDirectory``), values from ``gateway.spec.chart_values``;
4. per class an EnvoyProxy (controller namespace) and a GatewayClass referencing it with an
   explicit namespace; per Gateway the Gateway, and its own EnvoyProxy when it has proxy settings.

Every image is the policy's: controller (``global.images.envoyGateway``, also certgen and the
proxies' shutdown-manager sidecar), rate limit, proxy (``global.images.envoyProxy`` — never
left empty — and each EnvoyProxy's ``container.image``); pull secrets where the pods run.

Inside a vcluster tenant (``GatewayArgs.tenant``) every resource uses the tenant's provider;
the component creates the namespaces inside the tenant and, in each namespace where its pods
run, the copy of the pull Secret of the tenant's host namespace (where the synced pods pull).

Outputs: ``controller_image``, ``proxy_image``, ``classes``, ``gateways`` (``namespace/name``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s

from ..image_config import PendingImageConfig, adopt
from ..resources import MANAGED_BY, claim_objects, cluster_of, helm_chart, retain_crds
from ..secrets import secret_paths
from .images import CONTROLLER, PROXY, RATELIMIT
from .settings import GatewaySettings
from .spec import (
    TYPE_TOKEN,
    GatewayImages,
    certgen,
    chart_values,
    class_proxy_name,
    crds_chart_values,
    describe_problems,
    envoy_proxy,
    gateway,
    gateway_class,
    gateway_problems,
    gateway_proxy_name,
    image_problems,
    object_keys,
)

if TYPE_CHECKING:
    from ..image_config import ImageConfig
    from ..vcluster.component import VirtualCluster

__all__ = ["Gateway", "GatewayArgs"]


@dataclass(frozen=True)
class GatewayArgs:
    settings: GatewaySettings
    """Validated settings (``airlock:gateway``)."""
    image_config: ImageConfig | PendingImageConfig
    """Resolves the installation's images and holds the pull secrets; it must have requested
    them (``gateway.images.image_requests``). A pending one (the component used on its own,
    never inside a tenant) is registered as this component's child."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on every object airlock writes (``airlock/environment``)."""
    namespace_resources: Mapping[str, pulumi.Resource] = field(default_factory=dict)
    """Namespace resources on the host cluster, when the same program creates them."""
    tenant: VirtualCluster | None = None
    """Deploy inside this vcluster tenant (``settings.tenant`` names it)."""
    secret_values: bool = False
    """The settings came from secret config: the chart values are passed as a secret."""


def _resolve(
    settings: GatewaySettings, images: ImageConfig | PendingImageConfig, tenant: VirtualCluster | None
) -> GatewayImages:
    """The installation's images and pull secrets, after every check the stack loader makes
    with config paths (for a component used on its own): nothing is registered before."""
    if (settings.tenant is None) != (tenant is None) or (
        tenant is not None and tenant.tenant_name != settings.tenant
    ):
        raise ValueError(
            f"gateway: settings.tenant is {settings.tenant!r} but GatewayArgs.tenant is "
            f"{tenant.tenant_name if tenant else None!r}; pass the VirtualCluster the settings name"
        )
    if tenant is not None and isinstance(images, PendingImageConfig):
        raise ValueError(
            "gateway: inside a tenant the pull Secrets are copies of the tenant's host namespace "
            "Secret, held by the ImageConfig the tenant's images came from; pass that ImageConfig"
        )
    problems = gateway_problems(settings)
    if problems:
        raise ValueError(describe_problems(problems))

    def pulls_in(namespace: str) -> str:
        return tenant.namespace if tenant is not None else namespace

    proxy_namespace = settings.proxy_namespaces()[0]
    resolved = GatewayImages(
        controller=images.resolved(CONTROLLER, pulls_in(settings.namespace)),
        proxy=images.resolved(PROXY, pulls_in(proxy_namespace)),
        ratelimit=images.resolved(RATELIMIT, pulls_in(settings.namespace)) if settings.rate_limit else None,
        controller_pull_secrets=images.pull_secret_names(pulls_in(settings.namespace)),
        proxy_pull_secrets=images.pull_secret_names(pulls_in(proxy_namespace)),
    )
    problems = image_problems(settings, resolved.proxy)
    if problems:
        raise ValueError(describe_problems(problems))
    return resolved


class Gateway(pulumi.ComponentResource):
    # Class-level annotations are the outputs (a component package's schema reads them).
    controller_image: pulumi.Output[str]
    proxy_image: pulumi.Output[str]
    classes: pulumi.Output[list[str]]
    gateways: pulumi.Output[list[str]]

    def __init__(self, name: str, args: GatewayArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        settings, images, tenant = args.settings, args.image_config, args.tenant
        resolved = _resolve(settings, images, tenant)
        gateway_values, warnings = chart_values(settings, resolved)
        self.values: dict[str, Any] = gateway_values
        """The gateway-helm values (plain data, for tests and reviews)."""
        labels = {**MANAGED_BY, **args.labels}
        self._tenant_provider = tenant.provider if tenant is not None else None
        own_namespaces = sorted({settings.namespace, *settings.gateway_namespaces()}) if tenant else []
        pod_namespaces = sorted({settings.namespace, *settings.proxy_namespaces()})
        keys = object_keys(settings) + [("v1", "Namespace", "", ns) for ns in own_namespaces]
        on_tenant = pulumi.ResourceOptions(provider=tenant.provider) if tenant is not None else opts
        claim_objects(f"{TYPE_TOKEN} {name}", keys, cluster_of(on_tenant))
        if tenant is not None and not isinstance(images, PendingImageConfig):  # the Secret copies, too
            images.claim_pull_secrets_in(pod_namespaces, pulls_in=tenant.namespace, provider=tenant.provider)
        super().__init__(TYPE_TOKEN, name, None, opts)
        images = adopt(images, self)
        for warning in warnings:
            pulumi.log.warn(warning, self)

        # Namespaces and pull secrets: the host's come from Platform/ImageConfig; a tenant's here.
        namespace_of: dict[str, pulumi.Resource | None] = {}
        secret_of: dict[str, pulumi.Resource | None] = {}
        if tenant is not None:
            for ns in own_namespaces:
                namespace_of[ns] = k8s.core.v1.Namespace(
                    f"{name}-ns-{ns}", metadata={"name": ns, "labels": labels}, opts=self._child()
                )
            for ns in pod_namespaces:
                secret_of[ns] = images.pull_secret_in(
                    ns,
                    pulls_in=tenant.namespace,
                    cluster=tenant.tenant_name,
                    provider=tenant.provider,
                    depends_on=[r for r in (namespace_of.get(ns),) if r is not None],
                )
        else:
            for ns in sorted({settings.namespace, *settings.gateway_namespaces()}):
                namespace_of[ns] = args.namespace_resources.get(ns)
                secret_of[ns] = images.secret_for(ns)
        home = [namespace_of.get(settings.namespace), secret_of.get(settings.namespace)]

        crds: pulumi.Resource | None = None
        if settings.crds.install == "separate":
            crds = helm_chart(
                f"{name}-crds",
                release=f"{settings.release_name}-crds",
                namespace=settings.namespace,
                location=settings.chart.location(settings.chart.crds_chart),
                values=crds_chart_values(settings),
                opts=self._child(*home, transforms=[retain_crds]),
            )
        job = self._certgen(name, settings, resolved, labels, home)
        values: pulumi.Input[dict[str, Any]] = self.values
        if args.secret_values or any(secret_paths(self.values)):
            values = pulumi.Output.secret(self.values)
        chart = helm_chart(
            f"{name}-chart",
            release=settings.release_name,
            namespace=settings.namespace,
            location=settings.chart.location(),
            values=values,
            opts=self._child(
                *home, crds, job, transforms=[retain_crds] if settings.crds.install == "chart" else None
            ),
        )
        self._objects(name, settings, resolved, labels, chart, namespace_of, secret_of)

        self.controller_image = pulumi.Output.from_input(str(resolved.controller.final))
        self.proxy_image = pulumi.Output.from_input(str(resolved.proxy.final))
        self.classes = pulumi.Output.from_input([item.name for item in settings.classes])
        self.gateways = pulumi.Output.from_input([f"{gw.namespace}/{gw.name}" for gw in settings.gateways])
        self.register_outputs(
            {
                "controllerImage": self.controller_image,
                "proxyImage": self.proxy_image,
                "classes": self.classes,
                "gateways": self.gateways,
            }
        )

    def _child(self, *depends: pulumi.Resource | None, **extra: Any) -> pulumi.ResourceOptions:
        """Options of a child: parented here, on the tenant's cluster when there is one."""
        needs = [d for d in depends if d is not None]
        return pulumi.ResourceOptions(parent=self, provider=self._tenant_provider, depends_on=needs, **extra)

    def _objects(
        self,
        name: str,
        settings: GatewaySettings,
        resolved: GatewayImages,
        labels: Mapping[str, str],
        chart: pulumi.Resource,
        namespace_of: Mapping[str, pulumi.Resource | None],
        secret_of: Mapping[str, pulumi.Resource | None],
    ) -> None:
        """EnvoyProxy -> GatewayClass -> Gateway, each waiting for what it references."""
        self.manifests: list[dict[str, Any]] = []
        classes: dict[str, pulumi.Resource] = {}
        for item in settings.classes:
            proxy = self._custom(
                f"{name}-proxy-class-{item.name}",
                envoy_proxy(class_proxy_name(item), settings.namespace, item.proxy, resolved, labels),
                self._child(chart),
            )
            classes[item.name] = self._custom(
                f"{name}-class-{item.name}",
                gateway_class(item, settings.namespace, labels),
                self._child(chart, proxy),
            )
        for gw in settings.gateways:
            # Namespaces and Gateway names are DNS labels: "<namespace>.<name>" is unambiguous.
            depends = [
                chart,
                classes[gw.gateway_class_name],
                namespace_of.get(gw.namespace),
                secret_of.get(gw.namespace),
            ]
            if gw.proxy is not None:
                depends.append(
                    self._custom(
                        f"{name}-proxy-gw-{gw.namespace}.{gw.name}",
                        envoy_proxy(gateway_proxy_name(gw), gw.namespace, gw.proxy, resolved, labels),
                        self._child(chart, namespace_of.get(gw.namespace)),
                    )
                )
            self._custom(f"{name}-gw-{gw.namespace}.{gw.name}", gateway(gw, labels), self._child(*depends))

    def _certgen(
        self,
        name: str,
        settings: GatewaySettings,
        images: GatewayImages,
        labels: Mapping[str, str],
        home: list[pulumi.Resource | None],
    ) -> pulumi.Resource:
        spec = certgen(settings, images.controller, images.controller_pull_secrets, labels)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-certgen",
            metadata=spec.service_account,
            automount_service_account_token=False,
            opts=self._child(*home),
        )
        meta, rules = spec.role
        role = k8s.rbac.v1.Role(f"{name}-certgen", metadata=meta, rules=rules, opts=self._child(*home))
        meta, role_ref, subjects = spec.role_binding
        binding = k8s.rbac.v1.RoleBinding(
            f"{name}-certgen",
            metadata=meta,
            role_ref=role_ref,
            subjects=subjects,
            opts=self._child(account, role),
        )
        needs: list[pulumi.Resource | None] = [*home, account, role, binding]
        if (
            spec.cluster_role is not None
            and spec.cluster_role_binding is not None
            and spec.webhook is not None
        ):
            meta, rules = spec.cluster_role
            cluster_role = k8s.rbac.v1.ClusterRole(
                f"{name}-certgen", metadata=meta, rules=rules, opts=self._child()
            )
            meta, role_ref, subjects = spec.cluster_role_binding
            needs.append(
                k8s.rbac.v1.ClusterRoleBinding(
                    f"{name}-certgen",
                    metadata=meta,
                    role_ref=role_ref,
                    subjects=subjects,
                    opts=self._child(account, cluster_role),
                )
            )
            meta, webhooks = spec.webhook
            needs.append(
                k8s.admissionregistration.v1.MutatingWebhookConfiguration(
                    f"{name}-topology-injector", metadata=meta, webhooks=webhooks, opts=self._child()
                )
            )
        meta, job = spec.job
        # A changed Job (a new controller image) is replaced; its name is fixed, so the old one
        # must go first. The new run keeps the existing certificates (certgen never overwrites).
        return k8s.batch.v1.Job(
            f"{name}-certgen",
            metadata=meta,
            spec=job,
            opts=self._child(*needs, delete_before_replace=True),
        )

    def _custom(
        self, resource_name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions
    ) -> pulumi.Resource:
        self.manifests.append(manifest)
        return k8s.apiextensions.CustomResource(
            resource_name,
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=opts,
        )
