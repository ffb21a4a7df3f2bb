"""Gateway, the pure part: the chart values, the certgen objects, and the EnvoyProxy,
GatewayClass and Gateway objects an Envoy Gateway installation is made of. No pulumi import.

Read against envoyproxy/gateway v1.9.0 (commit 39763b1c):

- ``charts/gateway-helm/values.tmpl.yaml`` and ``templates/_helpers.tpl``: ``eg.image`` splits
  ``global.images.envoyGateway.image`` at the first ``/`` and ``:`` and joins it again, so a full
  reference (tag and digest) passes unchanged as long as ``global.imageRegistry`` is empty;
  ``deployment.envoyGateway.image.repository`` would win over it and always gets ``:<tag>``
  appended (a digest breaks), so airlock empties it. Proxy pods get the chart's registry and
  pull secrets **only** when ``global.images.envoyProxy.image`` is set (gateway#8323): airlock
  always sets it. ``global.images.envoyProxy.pullPolicy`` is rendered into the EnvoyGateway
  config but ``KubernetesContainerSpec`` has no such field (the proxy container is hard-coded
  ``IfNotPresent``, ``internal/infrastructure/kubernetes/proxy/resource.go``), so airlock never
  sets it and uses the EnvoyProxy ``patch`` instead.
- ``templates/certgen.yaml``, ``certgen-rbac.yaml``, ``envoy-proxy-topology-injector-webhook.yaml``
  are Helm hooks. ``helm.v4.Chart`` renders ``release.Manifest`` only and drops hooks
  (pulumi-kubernetes ``provider/pkg/provider/helm/v4/chart.go``: ``DisableHooks``;
  pulumi-kubernetes#3284), so the certgen Job would never run and the controller would wait
  forever for its ``envoy-gateway`` certificate Secret. airlock creates the certgen objects
  itself, before the chart, with the controller image from the policy.
- ``api/v1alpha1/shared_types.go`` and the EnvoyProxy CRD: ``container.image`` XOR
  ``container.imageRepository`` (CEL), their patterns, ``envoyDeployment`` XOR
  ``envoyDaemonSet``; ``internal/gatewayapi/envoyproxy_merge.go``: an EnvoyProxy without
  ``mergeType`` *replaces* the less specific settings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..images.errors import PolicyError
from ..images.formats import full, pull_secret_objects
from ..images.policy import ResolvedImage
from ..kube import ObjectKey
from ..values import Path, ValuesProblem, mapping_problems, merge, set_path, take_owned
from .settings import ClassSettings, GatewayItem, GatewaySettings, ListenerSettings, ProxySettings

if TYPE_CHECKING:  # types only: this module never imports pulumi at run time
    from pulumi_kubernetes.admissionregistration.v1 import MutatingWebhookArgsDict
    from pulumi_kubernetes.batch.v1 import JobSpecArgsDict
    from pulumi_kubernetes.core.v1 import ContainerArgsDict
    from pulumi_kubernetes.meta.v1 import ObjectMetaArgsDict
    from pulumi_kubernetes.rbac.v1 import PolicyRuleArgsDict, RoleRefArgsDict, SubjectArgsDict

__all__ = [
    "BUILT_IN_PROXY_TAG",
    "CONTROLLER_NAME",
    "ENVOY_PROXY_API",
    "GATEWAY_API",
    "OWNED_PATHS",
    "PROXY_IMAGE_PATTERN",
    "PROXY_POLICY_PATHS",
    "PROXY_REPOSITORY_PATTERN",
    "TYPE_TOKEN",
    "Certgen",
    "GatewayImages",
    "RbacObject",
    "certgen",
    "chart_values",
    "class_proxy_name",
    "cluster_domain",
    "crd_names",
    "crds_chart_values",
    "describe_problems",
    "envoy_proxy",
    "envoy_proxy_container",
    "fullname",
    "gateway",
    "gateway_class",
    "gateway_problems",
    "gateway_proxy_name",
    "image_problems",
    "object_keys",
    "proxy_image_problems",
    "proxy_spec_problems",
    "values_problems",
]

TYPE_TOKEN = "airlock:index:Gateway"
CONTROLLER_NAME = "gateway.envoyproxy.io/gatewayclass-controller"
ENVOY_PROXY_API = "gateway.envoyproxy.io/v1alpha1"
GATEWAY_API = "gateway.networking.k8s.io/v1"
BUILT_IN_PROXY_TAG = "distroless-v1.39.0"
"""The tag the controller appends to ``imageRepository`` (the tag of ``DefaultEnvoyProxyImage``)."""
# The EnvoyProxy CRD's CEL rules on container.image and container.imageRepository (v1.9.0
# charts/gateway-helm/charts/crds/crds/generated/gateway.envoyproxy.io_envoyproxies.yaml).
PROXY_IMAGE_PATTERN = re.compile(
    r"^[a-zA-Z0-9._-]+(:[0-9]+)?(/[a-zA-Z0-9._/-]+)?(:[a-zA-Z0-9._-]+)?(@sha256:[a-z0-9]+)?$"
)
PROXY_REPOSITORY_PATTERN = re.compile(r"^[a-zA-Z0-9._-]+(:[0-9]+)?[a-zA-Z0-9._/-]+$")

_CONTROLLER_IMAGE = ("global", "images", "envoyGateway")
_RATELIMIT_IMAGE = ("global", "images", "ratelimit")
_PROXY_IMAGE = ("global", "images", "envoyProxy")
_EG = ("config", "envoyGateway")
_DEFAULT_PROXY = (*_EG, "envoyProxy", "provider", "kubernetes")
_IMAGES = "airlock:images (overrides['envoy-gateway/…'], pullPolicy)"
OWNED_PATHS: dict[Path, str] = {
    ("global", "imageRegistry"): _IMAGES,
    ("global", "imagePullSecrets"): _IMAGES,
    **{
        (*prefix, key): _IMAGES
        for prefix in (_CONTROLLER_IMAGE, _RATELIMIT_IMAGE, _PROXY_IMAGE)
        for key in ("image", "pullPolicy", "pullSecrets")
    },
    ("deployment", "envoyGateway", "image"): _IMAGES,
    ("deployment", "envoyGateway", "imagePullPolicy"): _IMAGES,
    ("deployment", "envoyGateway", "imagePullSecrets"): _IMAGES,
    (*_EG, "provider", "kubernetes", "shutdownManager"): _IMAGES,
    (*_EG, "provider", "kubernetes", "rateLimitDeployment"): _IMAGES,
    **{
        (*_DEFAULT_PROXY, workload, "container", field): _IMAGES
        for workload in ("envoyDeployment", "envoyDaemonSet")
        for field in ("image", "imageRepository")
    },
    **{
        (*_DEFAULT_PROXY, workload, "pod", "imagePullSecrets"): _IMAGES
        for workload in ("envoyDeployment", "envoyDaemonSet")
    },
    ("crds", "enabled"): "airlock:gateway.crds.install",
    ("crds", "gatewayAPI", "safeUpgradePolicy", "enabled"): "airlock:gateway.crds.install",
    (*_EG, "provider", "kubernetes", "deploy"): "airlock:gateway.deployType",
    (*_EG, "rateLimit"): "airlock:gateway.rateLimit",
    ("topologyInjector", "enabled"): "airlock:gateway.topologyInjector",
    ("createNamespace",): "airlock:namespaces (airlock creates the controller namespace)",
    ("namespaceOverride",): "airlock:gateway.namespace",
    ("fullnameOverride",): "airlock:gateway.releaseName (airlock names the certgen objects after it)",
    ("nameOverride",): "airlock:gateway.releaseName (airlock names the certgen objects after it)",
    (*_EG, "gateway", "controllerName"): "airlock (its GatewayClasses name the chart's default controller)",
    ("certgen",): "nothing: helm.v4.Chart does not render the certgen hooks; airlock runs certgen itself",
}
"""gateway-helm values airlock sets, and the setting that decides each: the ``values`` escape
hatch cannot change them (the value is ignored with a warning naming the setting)."""

PROXY_POLICY_PATHS: tuple[Path, ...] = (
    ("mergeType",),
    *(
        (("provider", "kubernetes", workload, "container", field))
        for workload in ("envoyDeployment", "envoyDaemonSet")
        for field in ("image", "imageRepository")
    ),
    *(
        (("provider", "kubernetes", workload, key))
        for workload in ("envoyDeployment", "envoyDaemonSet")
        for key in ("patch",)
    ),
    *(
        (("provider", "kubernetes", workload, "pod", "imagePullSecrets"))
        for workload in ("envoyDeployment", "envoyDaemonSet")
    ),
)
"""EnvoyProxy spec paths airlock sets; a proxy ``spec`` escape hatch setting one is refused."""


@dataclass(frozen=True)
class GatewayImages:
    """The resolved images of one installation and the pull secret names of its pods."""

    controller: ResolvedImage
    proxy: ResolvedImage
    ratelimit: ResolvedImage | None
    controller_pull_secrets: Sequence[str]
    """Pull secrets of the controller namespace (controller, certgen, rate limit)."""
    proxy_pull_secrets: Sequence[str]
    """Pull secrets of the namespaces proxies run in (one name in every namespace)."""


def fullname(settings: GatewaySettings) -> str:
    """The chart's ``eg.fullname``: the release name if it contains the chart name, else
    ``<release>-gateway-helm`` (63 characters at most)."""
    name = settings.chart.chart
    full = settings.release_name if name in settings.release_name else f"{settings.release_name}-{name}"
    return full[:63].rstrip("-")


# -- chart values -------------------------------------------------------------------------------
_WRITTEN: tuple[Path, ...] = (*OWNED_PATHS, ("global", "images", "x", "image"))


def values_problems(settings: GatewaySettings) -> list[ValuesProblem]:
    """The ``values`` escape hatch must keep the sections airlock writes into mappings."""
    problems = mapping_problems(settings.values, _WRITTEN)
    domain = settings.values.get("kubernetesClusterDomain")
    if domain is not None and not (isinstance(domain, str) and domain):
        problems.append(
            (("kubernetesClusterDomain",), domain, "must be the cluster's DNS domain", "e.g. cluster.local")
        )
    return problems


def cluster_domain(settings: GatewaySettings) -> str:
    """The chart's ``kubernetesClusterDomain`` (default ``cluster.local``): the controller and
    the certificates certgen issues both use it."""
    domain = settings.values.get("kubernetesClusterDomain")
    return domain if isinstance(domain, str) and domain else "cluster.local"


Where = tuple[str | int, ...]
"""A path below ``airlock:gateway``."""


def _proxies(settings: GatewaySettings) -> list[tuple[Where, ProxySettings]]:
    found: list[tuple[Where, ProxySettings]] = [
        (("classes", index, "proxy"), item.proxy) for index, item in enumerate(settings.classes)
    ]
    found += [
        (("gateways", index, "proxy"), item.proxy)
        for index, item in enumerate(settings.gateways)
        if item.proxy is not None
    ]
    return found


def gateway_problems(settings: GatewaySettings) -> list[tuple[Where, object, str, str]]:
    """Every problem of a gateway section that needs no other config key and no resolved image:
    classes the Gateways name, the escape hatches, how each EnvoyProxy merges, derived names.
    Used by the stack loader (with config paths) and by the component used on its own."""
    problems: list[tuple[Where, object, str, str]] = []
    classes = {item.name: item for item in settings.classes}
    for index, declared in enumerate(settings.gateways):
        if declared.gateway_class_name not in classes:
            problems.append(
                (
                    ("gateways", index, "gatewayClassName"),
                    declared.gateway_class_name,
                    "names no GatewayClass declared in this section",
                    f"use one of: {', '.join(classes)}, or declare it under classes",
                )
            )
    problems += [
        (("values", *path), value, reason, fix) for path, value, reason, fix in values_problems(settings)
    ]
    for where, proxy in _proxies(settings):
        problems += [
            (where + path, value, reason, fix) for path, value, reason, fix in proxy_spec_problems(proxy)
        ]
    # The chart's EnvoyGateway default always has an envoyDeployment (airlock sets
    # global.images.envoyProxy.image), and StrategicMerge keeps what the more specific proxy
    # does not replace: a DaemonSet merged onto it leaves both, and the controller creates both
    # (v1.9.0 internal/infrastructure/kubernetes/infra.go). Likewise a Gateway's proxy of
    # another workload than its class's.
    for index, kind in enumerate(settings.classes):
        if kind.proxy.workload == "DaemonSet" and kind.proxy.merge_type != "Replace":
            problems.append(
                (
                    ("classes", index, "proxy", "mergeType"),
                    kind.proxy.merge_type,
                    "a DaemonSet proxy merged onto the chart's default (an envoyDeployment) keeps both, "
                    "and Envoy Gateway would run a Deployment and a DaemonSet of proxies",
                    "use mergeType: Replace with workload: DaemonSet",
                )
            )
    for index, gw in enumerate(settings.gateways):
        owner = classes.get(gw.gateway_class_name)
        if gw.proxy is not None and owner is not None and gw.proxy.workload != owner.proxy.workload:
            problems.append(
                (
                    ("gateways", index, "proxy", "workload"),
                    gw.proxy.workload,
                    f"differs from its class {owner.name}'s ({owner.proxy.workload}); merged, the proxy "
                    "would run as both",
                    f"use workload: {owner.proxy.workload}, or a class with a {gw.proxy.workload} proxy",
                )
            )
        merge_gateways = owner is not None and owner.proxy.spec.get("mergeGateways") is True
        if merge_gateways and gw.proxy is not None:
            problems.append(
                (
                    ("gateways", index, "proxy"),
                    gw.proxy.model_dump(by_alias=True, exclude_defaults=True),
                    f"class {gw.gateway_class_name} merges its Gateways (mergeGateways), and Envoy Gateway "
                    "refuses a Gateway-level EnvoyProxy then",
                    "remove this Gateway's proxy settings, or mergeGateways from the class",
                )
            )
    for index, kind in enumerate(settings.classes):
        if kind.proxy.spec.get("mergeGateways") is True and settings.deploy_type == "GatewayNamespace":
            problems.append(
                (
                    ("classes", index, "proxy", "spec", "mergeGateways"),
                    True,
                    "Envoy Gateway cannot merge Gateways with deployType GatewayNamespace (each "
                    "Gateway's proxies run in its own namespace)",
                    "use deployType ControllerNamespace, or remove mergeGateways",
                )
            )
    certgen_name = f"{fullname(settings)}-certgen"
    if len(certgen_name) > 63:
        problems.append(
            (
                ("releaseName",),
                settings.release_name,
                f"the certgen Job would be named {certgen_name!r} ({len(certgen_name)} characters); "
                "a Job name becomes its pods' job-name label, at most 63",
                "shorten it: the release name plus '-gateway-helm-certgen' must fit in 63 characters "
                "(42 for the release name)",
            )
        )
    return problems


def image_problems(settings: GatewaySettings, proxy: ResolvedImage) -> list[tuple[Where, object, str, str]]:
    """Whether the final proxy reference fits each EnvoyProxy's chosen field."""
    return [
        ((*where, "imageField"), item.image_field, reason, "")
        for where, item in _proxies(settings)
        for reason in proxy_image_problems(proxy, item.image_field)
    ]


def describe_problems(problems: Sequence[tuple[Where, object, str, str]]) -> str:
    """Problems as one message for a component used without a stack."""

    def path(where: Where) -> str:
        return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in where).lstrip(".")

    return "gateway: " + "; ".join(
        f"{path(where)}: {reason}" + (f"; {fix}" if fix else "") for where, _, reason, fix in problems
    )


def chart_values(settings: GatewaySettings, images: GatewayImages) -> tuple[dict[str, Any], list[str]]:
    """gateway-helm values, and warnings for escape-hatch values airlock's settings override."""
    user = deepcopy(settings.values)
    warnings = [
        f"gateway: values.{'.'.join(path)} is set by airlock and was ignored; change it through "
        f"{OWNED_PATHS[path]}"
        for path in take_owned(user, OWNED_PATHS)
    ]
    values: dict[str, Any] = merge({}, user)
    controller_secrets = pull_secret_objects(images.controller_pull_secrets)
    set_path(values, ("global", "imageRegistry"), "")
    set_path(values, ("global", "imagePullSecrets"), [])
    set_path(
        values,
        _CONTROLLER_IMAGE,
        {
            "image": full(images.controller),
            "pullPolicy": images.controller.pull_policy,
            "pullSecrets": controller_secrets,
        },
    )
    if images.ratelimit is not None:
        set_path(
            values,
            _RATELIMIT_IMAGE,
            {
                "image": full(images.ratelimit),
                "pullPolicy": images.ratelimit.pull_policy,
                "pullSecrets": controller_secrets,
            },
        )
    # Never empty: with the default "" the proxies pull docker.io with no secret (gateway#8323).
    # No pullPolicy: the controller drops it (no such field); the EnvoyProxy patch carries it.
    set_path(
        values,
        _PROXY_IMAGE,
        {
            "image": full(images.proxy),
            "pullPolicy": "",
            "pullSecrets": pull_secret_objects(images.proxy_pull_secrets),
        },
    )
    set_path(values, ("deployment", "envoyGateway", "image"), {"repository": "", "tag": ""})
    set_path(values, ("deployment", "envoyGateway", "imagePullPolicy"), "")
    set_path(values, ("deployment", "envoyGateway", "imagePullSecrets"), [])
    set_path(values, ("crds", "enabled"), settings.crds.install == "chart")
    if settings.crds.install == "chart":
        set_path(values, ("crds", "gatewayAPI", "safeUpgradePolicy", "enabled"), False)
    set_path(values, ("topologyInjector", "enabled"), settings.topology_injector)
    set_path(values, ("createNamespace",), False)
    if settings.deploy_type == "GatewayNamespace":
        set_path(values, (*_EG, "provider", "kubernetes", "deploy"), {"type": "GatewayNamespace"})
    if settings.rate_limit is not None:
        set_path(
            values,
            (*_EG, "rateLimit"),
            {"backend": {"type": "Redis", "redis": {"url": settings.rate_limit.redis_url}}},
        )
    return values, warnings


def crds_chart_values(settings: GatewaySettings) -> dict[str, Any]:
    """gateway-crds-helm values (its ``values.tmpl.yaml``: both sets are off by default)."""
    return {
        "crds": {
            "gatewayAPI": {"enabled": True, "channel": settings.crds.channel},
            "envoyGateway": {"enabled": True},
        }
    }


# Gateway API v1.6.1 bundle in gateway-crds-helm v1.9.0 (templates/{standard,experimental}-
# gatewayapi-crds.yaml) and the eight Envoy Gateway CRDs (templates/generated/).
_GATEWAY_API_STANDARD = (
    "backendtlspolicies",
    "gatewayclasses",
    "gateways",
    "grpcroutes",
    "httproutes",
    "listenersets",
    "referencegrants",
    "tcproutes",
    "tlsroutes",
    "udproutes",
)
_GATEWAY_API_EXPERIMENTAL = ("xbackends", "xbackendtrafficpolicies", "xmeshes")
_ENVOY_GATEWAY_CRDS = (
    "backends",
    "backendtrafficpolicies",
    "clienttrafficpolicies",
    "envoyextensionpolicies",
    "envoypatchpolicies",
    "envoyproxies",
    "httproutefilters",
    "securitypolicies",
)


def crd_names(settings: GatewaySettings) -> list[str]:
    """The CRDs this installation creates (none with ``crds.install: none``)."""
    if settings.crds.install == "none":
        return []
    names = [f"{name}.gateway.networking.k8s.io" for name in _GATEWAY_API_STANDARD]
    if settings.crds.channel == "experimental":
        names += [f"{name}.gateway.networking.x-k8s.io" for name in _GATEWAY_API_EXPERIMENTAL]
    return names + [f"{name}.gateway.envoyproxy.io" for name in _ENVOY_GATEWAY_CRDS]


# -- certgen (Helm hooks helm.v4.Chart does not run) -------------------------------------------------
RbacObject = tuple["ObjectMetaArgsDict", list["PolicyRuleArgsDict"]]
Binding = tuple["ObjectMetaArgsDict", "RoleRefArgsDict", list["SubjectArgsDict"]]


@dataclass(frozen=True)
class Certgen:
    """What the chart's certgen hooks create, as airlock creates them: its ServiceAccount and
    Role (Secrets in the controller namespace), the Job, and with the topology injector the
    webhook configuration certgen patches plus the ClusterRole that allows it."""

    name: str
    service_account: ObjectMetaArgsDict
    role: RbacObject
    role_binding: tuple[ObjectMetaArgsDict, RoleRefArgsDict, list[SubjectArgsDict]]
    cluster_role: RbacObject | None
    cluster_role_binding: tuple[ObjectMetaArgsDict, RoleRefArgsDict, list[SubjectArgsDict]] | None
    webhook: tuple[ObjectMetaArgsDict, list[MutatingWebhookArgsDict]] | None
    job: tuple[ObjectMetaArgsDict, JobSpecArgsDict]


def certgen(
    settings: GatewaySettings,
    controller: ResolvedImage,
    pull_secrets: Sequence[str],
    labels: Mapping[str, str],
) -> Certgen:
    """The chart's certgen hooks (v1.9.0 ``templates/certgen.yaml``, ``certgen-rbac.yaml``,
    ``envoy-proxy-topology-injector-webhook.yaml``), with the controller image from the policy.

    The Job has no ``ttlSecondsAfterFinished`` (the chart's is 30 s): Kubernetes would delete a
    Job Pulumi tracks and every ``pulumi refresh`` would recreate it."""
    namespace = settings.namespace
    name = f"{fullname(settings)}-certgen"
    meta: ObjectMetaArgsDict = {"name": name, "namespace": namespace, "labels": dict(labels)}
    subject: list[SubjectArgsDict] = [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]
    role: RbacObject = (
        meta,
        [{"api_groups": [""], "resources": ["secrets"], "verbs": ["get", "create", "update"]}],
    )
    role_ref: RoleRefArgsDict = {"api_group": "rbac.authorization.k8s.io", "kind": "Role", "name": name}
    role_binding: Binding = (meta, role_ref, subject)
    cluster_role: RbacObject | None = None
    cluster_role_binding: Binding | None = None
    webhook: tuple[ObjectMetaArgsDict, list[MutatingWebhookArgsDict]] | None = None
    webhook_name = f"envoy-gateway-topology-injector.{namespace}"
    if settings.topology_injector:
        cluster_meta: ObjectMetaArgsDict = {"name": f"{name}:{namespace}", "labels": dict(labels)}
        cluster_role = (
            cluster_meta,
            [
                {
                    "api_groups": ["admissionregistration.k8s.io"],
                    "resources": ["mutatingwebhookconfigurations"],
                    "verbs": ["get", "list", "watch"],
                },
                {
                    "api_groups": ["admissionregistration.k8s.io"],
                    "resources": ["mutatingwebhookconfigurations"],
                    "resource_names": [webhook_name],
                    "verbs": ["update", "patch"],
                },
            ],
        )
        cluster_ref: RoleRefArgsDict = {
            "api_group": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": f"{name}:{namespace}",
        }
        cluster_role_binding = (
            cluster_meta,
            cluster_ref,
            subject,
        )
        webhook_meta: ObjectMetaArgsDict = {
            "name": webhook_name,
            "labels": {**labels, "app.kubernetes.io/component": "topology-injector"},
        }
        webhook = (webhook_meta, [_topology_webhook(settings)])
    container: ContainerArgsDict = {
        "name": "envoy-gateway-certgen",
        "image": full(controller),
        "image_pull_policy": controller.pull_policy,
        "command": ["envoy-gateway", "certgen"],
        "env": [
            {
                "name": "ENVOY_GATEWAY_NAMESPACE",
                "value_from": {"field_ref": {"api_version": "v1", "field_path": "metadata.namespace"}},
            },
            {"name": "KUBERNETES_CLUSTER_DOMAIN", "value": cluster_domain(settings)},
        ],
        "security_context": {
            "run_as_non_root": True,
            "run_as_group": 65532,
            "run_as_user": 65532,
            "seccomp_profile": {"type": "RuntimeDefault"},
            "allow_privilege_escalation": False,
            "capabilities": {"drop": ["ALL"]},
            "privileged": False,
            "read_only_root_filesystem": True,
        },
    }
    if not settings.topology_injector:
        container["args"] = ["--disable-topology-injector"]
    job: JobSpecArgsDict = {
        "backoff_limit": 1,
        "completions": 1,
        "parallelism": 1,
        "template": {
            "metadata": {"labels": {"app": "certgen"}},
            "spec": {
                "automount_service_account_token": True,
                "security_context": {
                    "run_as_non_root": True,
                    "run_as_group": 65532,
                    "run_as_user": 65532,
                    "fs_group": 65532,
                    "seccomp_profile": {"type": "RuntimeDefault"},
                },
                "containers": [container],
                "image_pull_secrets": pull_secret_objects(pull_secrets),  # type: ignore[typeddict-item]
                "restart_policy": "Never",
                "service_account_name": name,
            },
        },
    }
    return Certgen(name, meta, role, role_binding, cluster_role, cluster_role_binding, webhook, (meta, job))


def _topology_webhook(settings: GatewaySettings) -> MutatingWebhookArgsDict:
    webhook: MutatingWebhookArgsDict = {
        "name": "topology.webhook.gateway.envoyproxy.io",
        "admission_review_versions": ["v1"],
        "side_effects": "None",
        "client_config": {
            "service": {
                "name": "envoy-gateway",
                "namespace": settings.namespace,
                "path": "/inject-pod-topology",
                "port": 9443,
            }
        },
        "failure_policy": "Ignore",
        "rules": [
            {
                "operations": ["CREATE"],
                "api_groups": [""],
                "api_versions": ["v1"],
                "resources": ["pods/binding"],
            }
        ],
    }
    if settings.deploy_type == "ControllerNamespace":
        webhook["namespace_selector"] = {
            "match_expressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "In", "values": [settings.namespace]}
            ]
        }
    return webhook


# -- EnvoyProxy, GatewayClass, Gateway ---------------------------------------------------------------
def envoy_proxy_container(
    image: ResolvedImage, field: str = "image", *, controller_tag: str = BUILT_IN_PROXY_TAG
) -> dict[str, str]:
    """``container.image`` (the full final reference, digest kept) or, when asked for and exact,
    ``container.imageRepository`` (repository only; the controller appends ``controller_tag``)."""
    final = image.final
    if field == "image":
        return {"image": full(image)}
    if final.digest is not None:
        raise PolicyError(
            f"image {image.name or final}",
            str(final),
            f"imageRepository carries no digest, and this image is pinned ({image.digest_from or 'digest'}); "
            f"the controller would pull '{final.name}:{controller_tag}' by tag instead",
            "use imageField: image (a full reference, which Envoy Gateway accepts with its digest), "
            "or unpin the proxy (pin: off or preferred without a lock entry)",
        )
    if final.tag != controller_tag:
        raise PolicyError(
            f"image {image.name or final}",
            str(final),
            f"imageRepository carries no tag; the controller appends its built-in '{controller_tag}' "
            f"and would pull '{final.name}:{controller_tag}' instead of tag '{final.tag}'",
            "use imageField: image, or keep the proxy at the controller's tag",
        )
    return {"imageRepository": final.name}


def proxy_image_problems(image: ResolvedImage, field: str) -> list[str]:
    """Why the final proxy reference cannot go into the EnvoyProxy field (the CRD's CEL patterns
    and ``imageRepository``'s exactness), empty when it can."""
    try:
        container = envoy_proxy_container(image, field)
    except PolicyError as error:
        return [f"{error.reason}; {error.fix}"]
    value = container.get("image") or container["imageRepository"]
    pattern = PROXY_IMAGE_PATTERN if field == "image" else PROXY_REPOSITORY_PATTERN
    if not pattern.match(value):
        return [
            f"{value!r} does not match the EnvoyProxy CRD's {field} pattern {pattern.pattern} (a "
            "bracketed IPv6 host or a digest other than sha256 cannot be written there); mirror "
            "the proxy to a registry with a DNS name or IPv4 address and pin it by sha256"
        ]
    return []


def proxy_spec_problems(proxy: ProxySettings) -> list[ValuesProblem]:
    """A proxy ``spec`` escape hatch may not set what airlock sets."""
    problems: list[ValuesProblem] = []
    user: dict[str, Any] = deepcopy(proxy.spec)
    for path in PROXY_POLICY_PATHS:
        node: Any = user
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, Mapping) and path[-1] in node:
            if path[-1] in ("image", "imageRepository"):
                reason = (
                    "Either image or imageRepository can be set (EnvoyProxy CEL rule), and airlock sets "
                    f"container.{proxy.image_field} from the image policy"
                )
                fix = (
                    "set the proxy image with airlock:images.overrides['envoy-gateway/proxy'] and the "
                    "field with imageField"
                )
            else:
                reason = "is set by airlock (image pull secrets, pull-policy patch, mergeType)"
                fix = "use the proxy's mergeType setting, or airlock:images (pullPolicy, overrides)"
            problems.append((("spec", *path), node[path[-1]], reason, fix))
    workloads = (
        user.get("provider", {}).get("kubernetes", {}) if isinstance(user.get("provider"), Mapping) else {}
    )
    ours, other, other_workload = (
        ("envoyDeployment", "envoyDaemonSet", "DaemonSet")
        if proxy.workload == "Deployment"
        else ("envoyDaemonSet", "envoyDeployment", "Deployment")
    )
    if isinstance(workloads, Mapping) and other in workloads:
        problems.append(
            (
                ("spec", "provider", "kubernetes", other),
                workloads[other],
                "only one of envoyDeployment or envoyDaemonSet can be specified (EnvoyProxy CEL rule), "
                f"and airlock writes {ours}",
                f"choose the workload with workload: {other_workload}",
            )
        )
    problems += mapping_problems(
        proxy.spec, (("provider", "kubernetes", "x", "container", "image"), ("provider", "type"))
    )
    return problems


def class_proxy_name(item: ClassSettings) -> str:
    return f"class-{item.name}"


def gateway_proxy_name(item: GatewayItem) -> str:
    return f"gateway-{item.name}"


def envoy_proxy(
    name: str,
    namespace: str,
    proxy: ProxySettings,
    images: GatewayImages,
    labels: Mapping[str, str],
) -> dict[str, Any]:
    """One EnvoyProxy: the proxy image in the chosen field, the pull secrets on the pod, and a
    StrategicMerge ``patch`` for a pull policy other than the hard-coded ``IfNotPresent``
    (envoy and shutdown-manager containers). It carries the image and secrets itself, so it is
    right under every ``mergeType`` (an unset one would replace the chart's defaults)."""
    workload: dict[str, Any] = {
        "container": envoy_proxy_container(images.proxy, proxy.image_field),
    }
    secrets = pull_secret_objects(images.proxy_pull_secrets)
    if secrets:
        workload["pod"] = {"imagePullSecrets": secrets}
    if proxy.replicas is not None:
        workload["replicas"] = proxy.replicas
    policies = [
        {"name": container, "imagePullPolicy": image.pull_policy}
        for container, image in (("envoy", images.proxy), ("shutdown-manager", images.controller))
        if image.pull_policy != "IfNotPresent"
    ]
    if policies:
        workload["patch"] = {
            "type": "StrategicMerge",
            "value": {"spec": {"template": {"spec": {"containers": policies}}}},
        }
    kubernetes: dict[str, Any] = {
        "envoyDeployment" if proxy.workload == "Deployment" else "envoyDaemonSet": workload
    }
    if proxy.service_type is not None:
        kubernetes["envoyService"] = {"type": proxy.service_type}
    spec = merge(
        deepcopy(proxy.spec),
        {
            "mergeType": proxy.merge_type,
            "provider": {"type": "Kubernetes", "kubernetes": kubernetes},
        },
    )
    return {
        "apiVersion": ENVOY_PROXY_API,
        "kind": "EnvoyProxy",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": spec,
    }


def gateway_class(
    item: ClassSettings, controller_namespace: str, labels: Mapping[str, str]
) -> dict[str, Any]:
    """A GatewayClass for this controller, referencing its EnvoyProxy with an explicit namespace
    (a missing one means ``default``: v1.9.0 internal/provider/kubernetes/controller.go)."""
    spec: dict[str, Any] = {
        "controllerName": CONTROLLER_NAME,
        "parametersRef": {
            "group": "gateway.envoyproxy.io",
            "kind": "EnvoyProxy",
            "name": class_proxy_name(item),
            "namespace": controller_namespace,
        },
    }
    if item.description:
        spec["description"] = item.description
    return {
        "apiVersion": GATEWAY_API,
        "kind": "GatewayClass",
        "metadata": {"name": item.name, "labels": dict(labels)},
        "spec": spec,
    }


def _listener(listener: ListenerSettings) -> dict[str, Any]:
    namespaces: dict[str, Any] = {"from": listener.allowed_routes}
    if listener.route_namespace_labels:
        namespaces["selector"] = {"matchLabels": dict(listener.route_namespace_labels)}
    entry: dict[str, Any] = {
        "name": listener.name,
        "protocol": listener.protocol,
        "port": listener.port,
        "allowedRoutes": {"namespaces": namespaces},
    }
    if listener.hostname:
        entry["hostname"] = listener.hostname
    if listener.protocol == "HTTPS":
        entry["tls"] = {
            "mode": "Terminate",
            "certificateRefs": [
                {"group": "", "kind": "Secret", "name": name} for name in listener.certificate_refs
            ],
        }
    return entry


def gateway(item: GatewayItem, labels: Mapping[str, str]) -> dict[str, Any]:
    """A Gateway; with its own proxy settings it references its EnvoyProxy (same namespace)."""
    spec: dict[str, Any] = {
        "gatewayClassName": item.gateway_class_name,
        "listeners": [_listener(listener) for listener in item.listeners],
    }
    if item.proxy is not None:
        spec["infrastructure"] = {
            "parametersRef": {
                "group": "gateway.envoyproxy.io",
                "kind": "EnvoyProxy",
                "name": gateway_proxy_name(item),
            }
        }
    return {
        "apiVersion": GATEWAY_API,
        "kind": "Gateway",
        "metadata": {"name": item.name, "namespace": item.namespace, "labels": dict(labels)},
        "spec": spec,
    }


def object_keys(settings: GatewaySettings) -> list[ObjectKey]:
    """Objects of this installation another component could also create: the chart release and
    its fixed-name objects (v1.9.0 templates: ``envoy-gateway`` Deployment, Service and
    ServiceAccount, ``envoy-gateway-config``, the ``<fullname>-envoy-gateway-role`` ClusterRole),
    the certgen objects, the CRDs, the classes, EnvoyProxies and Gateways."""
    namespace, full_name = settings.namespace, fullname(settings)
    certgen_name = f"{full_name}-certgen"
    keys: list[ObjectKey] = [
        ("helm.sh/v4", "Chart", namespace, settings.release_name),
        ("apps/v1", "Deployment", namespace, "envoy-gateway"),
        ("v1", "Service", namespace, "envoy-gateway"),
        ("v1", "ServiceAccount", namespace, "envoy-gateway"),
        ("v1", "ConfigMap", namespace, "envoy-gateway-config"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole", "", f"{full_name}-envoy-gateway-role"),
        ("v1", "ServiceAccount", namespace, certgen_name),
        ("rbac.authorization.k8s.io/v1", "Role", namespace, certgen_name),
        ("rbac.authorization.k8s.io/v1", "RoleBinding", namespace, certgen_name),
        ("batch/v1", "Job", namespace, certgen_name),
    ]
    if settings.topology_injector:
        keys += [
            ("rbac.authorization.k8s.io/v1", "ClusterRole", "", f"{certgen_name}:{namespace}"),
            ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", f"{certgen_name}:{namespace}"),
            (
                "admissionregistration.k8s.io/v1",
                "MutatingWebhookConfiguration",
                "",
                f"envoy-gateway-topology-injector.{namespace}",
            ),
        ]
    keys += [
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", name) for name in crd_names(settings)
    ]
    if settings.crds.install == "separate":
        keys.append(("helm.sh/v4", "Chart", namespace, f"{settings.release_name}-crds"))
    for item in settings.classes:
        keys += [
            (GATEWAY_API, "GatewayClass", "", item.name),
            (ENVOY_PROXY_API, "EnvoyProxy", namespace, class_proxy_name(item)),
        ]
    for gw in settings.gateways:
        keys.append((GATEWAY_API, "Gateway", gw.namespace, gw.name))
        if gw.proxy is not None:
            keys.append((ENVOY_PROXY_API, "EnvoyProxy", gw.namespace, gateway_proxy_name(gw)))
    return keys
