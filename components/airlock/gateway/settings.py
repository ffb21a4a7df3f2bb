"""Envoy Gateway settings (pure): ``airlock:gateway``, the charts, the classes and the Gateways.

Read against envoyproxy/gateway v1.9.0: ``charts/gateway-helm/values.tmpl.yaml`` (chart
values), ``api/v1alpha1/envoygateway_types.go`` (``deploy.type``, ``rateLimit``),
``api/v1alpha1/envoyproxy_types.go`` (``mergeType``, ``envoyDeployment``/``envoyDaemonSet``,
``envoyService``), and the Gateway API v1.6.1 CRDs the chart ships
(``charts/gateway-helm/charts/crds/crds/gatewayapi-crds.yaml``: listener names, ports,
hostnames, ``allowedRoutes``, ``certificateRefs``).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from .. import kube
from ..charts import ChartSource
from ..model import StrictModel

__all__ = [
    "CHART_REPOSITORY",
    "CHART_VERSION",
    "ClassSettings",
    "CrdSettings",
    "GatewayChart",
    "GatewayItem",
    "GatewaySettings",
    "ListenerSettings",
    "ProxySettings",
    "RateLimitSettings",
]

CHART_REPOSITORY = "oci://docker.io/envoyproxy"
CHART_VERSION = "v1.9.0"
# Gateway API v1.6.1: SectionName (listener names) and Hostname (listener hostnames).
_SECTION_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_HOSTNAME = re.compile(r"(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


_DNS_1035 = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")


def _class_name(value: str) -> str:
    """GatewayClass names: Envoy Gateway writes them as a label value on every proxy object
    (``gateway.envoyproxy.io/owning-gatewayclass``; v1.9.0 internal/gatewayapi/helpers.go), and
    with ``mergeGateways`` names the proxy's objects after them: a DNS-1123 label."""
    return kube.dns_label(value, "a GatewayClass name")


def _gateway_name(value: str) -> str:
    """Gateway names: a label value (``owning-gateway-name``) and the base of the proxy's object
    names, its Service's included (``proxy.Name = gateway.Name``, internal/gatewayapi/
    translator.go; a hash suffix keeps the rest): Service names are DNS-1035 labels."""
    if len(value) > 63:
        raise ValueError(
            f"a Gateway name is {len(value)} characters long; Envoy Gateway writes it as a label value "
            "and names the proxy's Service after it, so at most 63; shorten it"
        )
    if not _DNS_1035.fullmatch(value):
        raise ValueError(
            "a Gateway name must be a DNS-1035 label (Envoy Gateway names the proxy's Service after "
            "it): a lowercase letter first, then lowercase letters, digits and '-'; no '.'"
        )
    return value


class GatewayChart(ChartSource):
    """The Envoy Gateway charts (``gateway-helm`` and ``gateway-crds-helm``): Docker Hub's OCI
    repository by default, or a mirror holding both under the same path."""

    chart: ClassVar[str] = "gateway-helm"
    crds_chart: ClassVar[str] = "gateway-crds-helm"
    repository: str = Field(
        CHART_REPOSITORY, description="oci://host/path holding both charts, or a Helm repository."
    )
    version: str = Field(CHART_VERSION, description="Chart version (pinned; published as v1.9.0 and 1.9.0).")


class CrdSettings(StrictModel):
    """Where the Gateway API and Envoy Gateway CRDs come from.

    ``separate`` (default): the ``gateway-crds-helm`` chart as its own ``helm.v4.Chart``; its CRDs
    are templates, so they are rendered identically on every run and upgraded with the version,
    and the Gateway API channel is a choice. ``chart``: the ``crds`` subchart of
    ``gateway-helm`` (experimental channel only); Helm installs its ``crds/`` once and never
    upgrades them, but ``helm.v4.Chart`` renders them as ordinary resources, so Pulumi does
    upgrade them; its safe-upgrade ValidatingAdmissionPolicy is turned off there, because that
    template ``lookup``s the live policy and stops rendering it once a non-Helm owner (Pulumi)
    created it, so every second ``pulumi up`` would delete it. ``none``: the cluster already has
    them (another installation, a managed Gateway API)."""

    install: Literal["separate", "chart", "none"] = Field(
        "separate",
        description="separate: the gateway-crds-helm chart; chart: the CRDs of gateway-helm; "
        "none: installed by someone else.",
    )
    channel: Literal["experimental", "standard"] = Field(
        "experimental",
        description="Gateway API channel (separate only). experimental is what the chart's own "
        "subchart installs; the safe-upgrade policy refuses experimental over standard, so "
        "switching between the modes keeps working.",
    )

    @model_validator(mode="after")
    def _channel(self) -> CrdSettings:
        if self.install == "chart" and self.channel != "experimental":
            raise ValueError(
                "the gateway-helm crds subchart ships the experimental channel only; "
                "use install: separate to choose the standard channel"
            )
        return self


class ProxySettings(StrictModel):
    """One EnvoyProxy (``gateway.envoyproxy.io/v1alpha1``): how the proxy fleet of a class (or
    of one Gateway) runs. Its image and pull secrets always come from the image policy."""

    image_field: Literal["image", "imageRepository"] = Field(
        "image",
        description="container.image (the full final reference, digest kept) or, on explicit "
        "request, container.imageRepository (repository only; the controller appends its "
        "built-in tag, so only when that is exactly the final reference).",
    )
    merge_type: Literal["StrategicMerge", "Replace"] = Field(
        "StrategicMerge",
        description="How it merges with the less specific EnvoyProxy settings (EnvoyGateway "
        "default < GatewayClass < Gateway). Unset upstream means Replace.",
    )
    workload: Literal["Deployment", "DaemonSet"] = Field("Deployment", description="How the proxies run.")
    replicas: int | None = Field(None, ge=1, description="envoyDeployment.replicas.")
    service_type: Literal["LoadBalancer", "NodePort", "ClusterIP"] | None = Field(
        None, description="envoyService.type (Envoy Gateway's default: LoadBalancer)."
    )
    spec: dict[str, Any] = Field(
        default_factory=dict,
        description="Further EnvoyProxy spec merged under airlock's (escape hatch); the image, "
        "pull secrets, patch and mergeType are the policy's and refused here.",
    )

    @model_validator(mode="after")
    def _replicas(self) -> ProxySettings:
        if self.replicas is not None and self.workload == "DaemonSet":
            raise ValueError("replicas applies to workload: Deployment; a DaemonSet runs one proxy per node")
        return self


class ClassSettings(StrictModel):
    """A GatewayClass of this Envoy Gateway, with the EnvoyProxy it references."""

    name: str = Field(description="GatewayClass name (cluster-scoped).")
    description: str | None = Field(
        None, max_length=64, description="GatewayClass spec.description (at most 64 characters)."
    )
    proxy: ProxySettings = Field(
        default_factory=ProxySettings,
        description="The EnvoyProxy of this class's proxies (image, replicas, service).",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _class_name(value)


class ListenerSettings(StrictModel):
    """A Gateway listener. HTTPS terminates TLS with certificates from Secrets in the Gateway's
    namespace (``certificateRefs``)."""

    name: str = Field(description="Listener name, unique in its Gateway.")
    protocol: Literal["HTTP", "HTTPS"] = Field(
        description="Listener protocol; HTTPS terminates TLS with certificateRefs."
    )
    port: int = Field(ge=1, le=65535, description="Listener port.")
    hostname: str | None = Field(None, description="Hostname the listener matches; any if unset.")
    certificate_refs: tuple[str, ...] = Field((), description="Secret names (kubernetes.io/tls) for HTTPS.")
    allowed_routes: Literal["Same", "All", "Selector"] = Field(
        "Same", description="Namespaces whose routes may attach (allowedRoutes.namespaces.from)."
    )
    route_namespace_labels: dict[str, str] = Field(
        default_factory=dict, description="allowedRoutes.namespaces.selector.matchLabels (Selector only)."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if len(value) > 253 or not _SECTION_NAME.fullmatch(value):
            raise ValueError(
                "a listener name must be a DNS-1123 subdomain (Gateway API SectionName); use "
                "lowercase letters, digits, '-' and '.'"
            )
        return value

    @field_validator("hostname")
    @classmethod
    def _hostname(cls, value: str | None) -> str | None:
        if value is not None and (len(value) > 253 or not _HOSTNAME.fullmatch(value)):
            raise ValueError(
                "a listener hostname is a lowercase DNS name, optionally starting with '*.'; "
                "no port, no IP address"
            )
        return value

    @field_validator("certificate_refs")
    @classmethod
    def _refs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(kube.dns_subdomain(name, "a certificate Secret name") for name in value)

    @field_validator("route_namespace_labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        return kube.labels(value)

    @model_validator(mode="after")
    def _tls(self) -> ListenerSettings:
        if self.protocol == "HTTPS" and not self.certificate_refs:
            raise ValueError(
                "an HTTPS listener terminates TLS and needs certificateRefs (Secret names in the "
                "Gateway's namespace)"
            )
        if self.protocol == "HTTP" and self.certificate_refs:
            raise ValueError(
                "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP'] (Gateway CEL rule); "
                "remove certificateRefs or use protocol HTTPS"
            )
        if self.allowed_routes == "Selector" and not self.route_namespace_labels:
            raise ValueError("allowedRoutes: Selector needs routeNamespaceLabels")
        if self.allowed_routes != "Selector" and self.route_namespace_labels:
            raise ValueError("routeNamespaceLabels apply to allowedRoutes: Selector only")
        return self


class GatewayItem(StrictModel):
    """A Gateway (``gateway.networking.k8s.io/v1``) of one of the declared classes."""

    name: str = Field(description="Gateway name.")
    namespace: str = Field(description="The Gateway's namespace (declared in namespaces).")
    gateway_class_name: str = Field(description="The GatewayClass (one of classes) the Gateway uses.")
    listeners: tuple[ListenerSettings, ...] = Field(description="The Gateway's listeners (at least one).")
    proxy: ProxySettings | None = Field(
        None, description="An EnvoyProxy for this Gateway only (spec.infrastructure.parametersRef)."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _gateway_name(value)

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        return kube.dns_label(value, "namespace")

    @field_validator("listeners")
    @classmethod
    def _count(cls, value: tuple[ListenerSettings, ...]) -> tuple[ListenerSettings, ...]:
        if not 1 <= len(value) <= 64:
            raise ValueError(f"a Gateway has 1 to 64 listeners (Gateway API), not {len(value)}")
        return value

    @model_validator(mode="after")
    def _listeners(self) -> GatewayItem:
        names = [listener.name for listener in self.listeners]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(
                f"listener name {', '.join(repeated)} repeats: Listener name must be unique within "
                "the Gateway (Gateway CEL rule)"
            )
        keys = [(listener.port, listener.protocol, listener.hostname) for listener in self.listeners]
        for key in dict.fromkeys(k for k in keys if keys.count(k) > 1):
            raise ValueError(
                f"two listeners use port {key[0]}, {key[1]}, hostname {key[2] or '(none)'}: the "
                "Combination of port, protocol and hostname must be unique for each listener "
                "(Gateway CEL rule)"
            )
        return self


class RateLimitSettings(StrictModel):
    """Global rate limiting: Envoy Gateway then deploys the ratelimit service (its own image)."""

    redis_url: str = Field(
        description="rateLimit.backend.redis.url (host:port; a password belongs in secret config)."
    )


class GatewaySettings(StrictModel):
    """``airlock:gateway``: one Envoy Gateway installation, its classes and Gateways."""

    chart: GatewayChart = Field(
        default_factory=GatewayChart,
        description="The gateway-helm (and gateway-crds-helm) chart source and version.",
    )
    namespace: str = Field("envoy-gateway-system", description="The controller namespace.")
    release_name: str = Field("eg", description="Helm release name (object name prefixes).")
    crds: CrdSettings = Field(
        default_factory=CrdSettings, description="Where the Gateway API and Envoy Gateway CRDs come from."
    )
    deploy_type: Literal["ControllerNamespace", "GatewayNamespace"] = Field(
        "ControllerNamespace",
        description="Where proxy pods run: the controller namespace, or each Gateway's namespace.",
    )
    rate_limit: RateLimitSettings | None = Field(
        None, description="Global rate limiting (deploys the ratelimit service); none by default."
    )
    topology_injector: bool = Field(
        False,
        description="The proxy topology-injector webhook (zone labels on proxy pods). Its "
        "MutatingWebhookConfiguration is a Helm hook, which helm.v4.Chart does not render; "
        "airlock creates it when true.",
    )
    tenant: str | None = Field(None, description="Deploy inside this vcluster tenant (its provider).")
    classes: tuple[ClassSettings, ...] = Field(
        description="The GatewayClasses this installation controls (at least one)."
    )
    gateways: tuple[GatewayItem, ...] = Field((), description="Gateways to create.")
    values: dict[str, Any] = Field(
        default_factory=dict, description="gateway-helm values merged last (escape hatch)."
    )

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        return kube.dns_label(value, "namespace")

    @field_validator("release_name")
    @classmethod
    def _release(cls, value: str) -> str:
        return kube.helm_release_name(value)

    @field_validator("classes")
    @classmethod
    def _classes(cls, value: tuple[ClassSettings, ...]) -> tuple[ClassSettings, ...]:
        if not value:
            raise ValueError("declare at least one GatewayClass (classes: [{name: eg}])")
        return value

    @model_validator(mode="after")
    def _gateway_namespace_mode(self) -> GatewaySettings:
        if self.deploy_type == "GatewayNamespace" and not self.gateways:
            raise ValueError(
                "deployType GatewayNamespace runs the proxies in each Gateway's namespace; declare "
                "the Gateways (gateways) so that airlock puts the pull secret there"
            )
        return self

    @model_validator(mode="after")
    def _unique(self) -> GatewaySettings:
        classes = [item.name for item in self.classes]
        gateways = [f"{item.namespace}/{item.name}" for item in self.gateways]
        for label, items in (("GatewayClass", classes), ("Gateway", gateways)):
            repeated = sorted({item for item in items if items.count(item) > 1})
            if repeated:
                raise ValueError(f"{label} {', '.join(repeated)} is declared more than once")
        return self

    def gateway_namespaces(self) -> list[str]:
        return sorted({gateway.namespace for gateway in self.gateways})

    def proxy_namespaces(self) -> list[str]:
        """Where proxy pods run (deploy.type): the controller namespace (also for Gateways of
        these classes declared elsewhere), or each declared Gateway's namespace."""
        if self.deploy_type == "GatewayNamespace":
            return self.gateway_namespaces()
        return [self.namespace]
