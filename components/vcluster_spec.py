"""VirtualCluster, the pure part: tenant settings and the vcluster chart values they become.

Read against the pinned chart (loft-sh/vcluster v0.36.1: ``chart/values.yaml``,
``chart/values.schema.json`` — strict, unknown keys fail — and ``chart/templates/_helper.tpl``).

Images: every image the chart deploys is set per image as ``{registry, repository, tag}``
(``controlPlane.statefulSet.image``, ``controlPlane.distro.k8s.image``,
``controlPlane.backingStore.etcd.deploy.statefulSet.image``,
``sync.toHost.pods.rewriteHosts.initContainer.image``) or as a full string
(``controlPlane.coredns.deployment.image``). ``controlPlane.advanced.defaultImageRegistry`` is
left empty on purpose: it *replaces* the registry of every vcluster image and therefore only
works when all of them sit flat at the root of one registry; per-image fields express every
layout (nest, flatten, replace). The chart joins ``registry/repository:tag`` and has no digest
field, so a digest travels in the tag (``v1.36.0@sha256:…``), which joins to a valid
tag-and-digest reference.

Tenant workloads: ``sync.toHost.pods.translateImage`` maps an image string *exactly as written
in the pod spec* to another (``pkg/controllers/resources/pods/translate/image_translator.go``),
so every spelling a tenant may write (``nginx:1.27``, ``docker.io/library/nginx:1.27``, …) is
mapped to the policy's final reference.

Precedence with the ``values`` escape hatch: it is merged last, except for the paths the image
policy owns (listed in ``POLICY_PATHS``): there the policy wins and a warning names the path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from copy import deepcopy
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from . import kube
from .images.formats import full, pull_secret_objects, registry_repository_tag
from .images.policy import ResolvedImage, StrictModel, canonical_reference
from .images.reference import parse
from .images.table import ImageRequest, catalog_request

__all__ = [
    "POLICY_PATHS",
    "TenantSettings",
    "VClusterSettings",
    "background_proxy_request",
    "check_tenant",
    "connect_commands",
    "image_spellings",
    "tenant_image_name",
    "tenant_problems",
    "tenant_requests",
    "tenant_values",
    "translate_map",
]

CHART_REPOSITORY = "https://charts.loft.sh"
CHART_VERSION = "0.36.1"
# pkg/constants/coredns.go of vcluster v0.36.1: Kubernetes minor -> CoreDNS image.
COREDNS_BY_MINOR = {"1.36": "1.14.2", "1.35": "1.14.1", "1.34": "1.12.1", "1.33": "1.12.0"}
_TENANT_NAME = re.compile(r"[a-z]([-a-z0-9]{0,50}[a-z0-9])?")
_VERSION = re.compile(r"v(1\.(3[3-6]))\.[0-9]+")

# Value paths the image policy owns; the values escape hatch cannot override them.
POLICY_PATHS = (
    ("controlPlane", "statefulSet", "image"),
    ("controlPlane", "statefulSet", "imagePullPolicy"),
    ("controlPlane", "distro", "k8s", "image"),
    ("controlPlane", "distro", "k8s", "imagePullPolicy"),
    ("controlPlane", "distro", "k8s", "version"),
    ("controlPlane", "backingStore", "etcd", "deploy", "statefulSet", "image"),
    ("controlPlane", "backingStore", "etcd", "deploy", "statefulSet", "imagePullPolicy"),
    ("controlPlane", "coredns", "deployment", "image"),
    ("controlPlane", "advanced", "defaultImageRegistry"),
    ("controlPlane", "advanced", "serviceAccount", "imagePullSecrets"),
    ("controlPlane", "advanced", "workloadServiceAccount", "imagePullSecrets"),
    ("sync", "toHost", "pods", "rewriteHosts", "initContainer", "image"),
    ("sync", "toHost", "pods", "translateImage"),
)

SELECTOR_SYNCERS = ("storageClasses", "ingressClasses", "gatewayClasses", "priorityClasses", "runtimeClasses")
AUTO_SYNCERS = ("storageClasses", "csiDrivers", "csiNodes", "csiStorageCapacities")
PLAIN_SYNCERS = ("events", "volumeSnapshotClasses", "deviceClasses")
MAPPING_SYNCERS = ("configMaps", "secrets")
TO_HOST_KEYS = (
    "ingresses",
    "networkPolicies",
    "persistentVolumes",
    "persistentVolumeClaims",
    "podDisruptionBudgets",
    "priorityClasses",
    "serviceAccounts",
    "storageClasses",
    "volumeSnapshots",
    "volumeSnapshotContents",
    "configMaps",
    "secrets",
    "services",
    "endpoints",
)


class LabelSelector(StrictModel):
    match_labels: dict[str, str] = Field(default_factory=dict)
    match_expressions: list[dict[str, Any]] = Field(default_factory=list)

    @field_validator("match_labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        return kube.labels(value)


class FromHostSyncer(StrictModel):
    """One ``sync.fromHost`` syncer; ``selector`` only where vcluster supports one."""

    enabled: bool | Literal["auto"]
    selector: LabelSelector | None = None
    mappings: dict[str, str] | None = Field(None, description="configMaps/secrets: byName mappings.")


class SyncSettings(StrictModel):
    from_host: dict[str, FromHostSyncer] = Field(default_factory=dict)
    to_host: dict[str, bool] = Field(default_factory=dict)

    @field_validator("from_host")
    @classmethod
    def _from_host(cls, value: dict[str, FromHostSyncer]) -> dict[str, FromHostSyncer]:
        known = (*SELECTOR_SYNCERS, *AUTO_SYNCERS, *PLAIN_SYNCERS, *MAPPING_SYNCERS)
        for key, syncer in value.items():
            if key not in known:
                raise ValueError(
                    f"vcluster does not know fromHost syncer {key!r}; known: {', '.join(sorted(known))}"
                )
            if syncer.selector is not None and key not in SELECTOR_SYNCERS:
                raise ValueError(
                    f"fromHost.{key} takes no selector; selectors work on {', '.join(SELECTOR_SYNCERS)}"
                )
            if syncer.enabled == "auto" and key not in AUTO_SYNCERS:
                raise ValueError(
                    f"fromHost.{key}.enabled is true or false ('auto' only for {', '.join(AUTO_SYNCERS)})"
                )
            if syncer.mappings is not None and key not in MAPPING_SYNCERS:
                raise ValueError(f"fromHost.{key} takes no mappings (only configMaps and secrets)")
            if key in MAPPING_SYNCERS and syncer.enabled is True and not syncer.mappings:
                raise ValueError(
                    f"fromHost.{key} needs mappings ('host-namespace/name': 'virtual-namespace/name')"
                )
        return value

    @field_validator("to_host")
    @classmethod
    def _to_host(cls, value: dict[str, bool]) -> dict[str, bool]:
        for key in value:
            if key not in TO_HOST_KEYS:
                raise ValueError(
                    f"vcluster does not know toHost key {key!r}; known: {', '.join(sorted(TO_HOST_KEYS))}"
                )
        return value


class TenantSettings(StrictModel):
    name: str = Field(description="Tenant (vcluster) name; a DNS-1123 label of at most 52 characters.")
    namespace: str | None = Field(None, description="Host namespace; 'vcluster-<name>' if unset.")
    backing_store: Literal["database", "etcd"] = Field(
        "database", description="database: embedded SQLite; etcd: a deployed etcd StatefulSet."
    )
    resources: dict[str, dict[str, str]] | None = Field(
        None, description="controlPlane.statefulSet.resources."
    )
    sync: SyncSettings = Field(default_factory=SyncSettings)
    translate_images: tuple[str, ...] = Field((), description="Extra images tenants run (source references).")
    server: str | None = Field(None, description="API server URL written into the exported kubeconfig.")
    values: dict[str, Any] = Field(
        default_factory=dict, description="Chart values merged last (escape hatch)."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _TENANT_NAME.fullmatch(value):
            raise ValueError(
                "a tenant name must be a DNS-1123 label starting with a letter, at most 52 characters "
                "(vcluster derives object names from it)"
            )
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str | None) -> str | None:
        return None if value is None else kube.dns_label(value, "namespace")

    @field_validator("translate_images")
    @classmethod
    def _images(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(canonical_reference(image) for image in value)

    @property
    def host_namespace(self) -> str:
        return self.namespace or f"vcluster-{self.name}"


class ChartSource(StrictModel):
    repository: str = Field(
        CHART_REPOSITORY, description="Helm repository URL, or oci://host/path for a mirror."
    )
    version: str = Field(CHART_VERSION, description="Chart version (pinned).")
    insecure: bool = Field(
        False, description="Plain HTTP: an http:// repository, or an oci:// registry without TLS."
    )

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str) -> str:
        if not re.fullmatch(r"(https?|oci)://[^\s/@]+(/[^\s@]*)?", value):
            raise ValueError(
                "repository is an https:// Helm repository or an oci:// registry path, without a login"
            )
        return value.rstrip("/")

    @model_validator(mode="after")
    def _plain_http(self) -> ChartSource:
        if self.repository.startswith("http://") and not self.insecure:
            raise ValueError(
                f"repository {self.repository!r} is plain HTTP: the chart would be downloaded without "
                "TLS; use https:// (or an oci:// mirror), or declare it with insecure: true"
            )
        if self.insecure and self.repository.startswith("https://"):
            raise ValueError("insecure: true contradicts an https:// repository; remove one")
        return self

    @property
    def is_oci(self) -> bool:
        return self.repository.startswith("oci://")


class VClusterSettings(StrictModel):
    """``airlock:vcluster``."""

    chart: ChartSource = Field(default_factory=ChartSource)
    kubernetes_version: str = Field(
        "v1.36.0", description="Tenant Kubernetes version (tag of ghcr.io/loft-sh/kubernetes)."
    )
    tenants: tuple[TenantSettings, ...] = ()

    @field_validator("kubernetes_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not _VERSION.fullmatch(value):
            raise ValueError(
                f"kubernetesVersion must be v1.MINOR.PATCH with a minor vcluster {CHART_VERSION} "
                "supports (1.33-1.36)"
            )
        return value

    @model_validator(mode="after")
    def _unique(self) -> VClusterSettings:
        names = [tenant.name for tenant in self.tenants]
        namespaces = [tenant.host_namespace for tenant in self.tenants]
        for label, items in (("tenant name", names), ("host namespace", namespaces)):
            repeated = sorted({item for item in items if items.count(item) > 1})
            if repeated:
                raise ValueError(f"{label} {', '.join(repeated)} used by more than one tenant")
        return self

    @property
    def minor(self) -> str:
        match = _VERSION.fullmatch(self.kubernetes_version)
        assert match is not None
        return match.group(1)


def image_spellings(source: str) -> list[str]:
    """Every way a pod spec may name ``source`` (translateImage matches strings exactly)."""
    ref = parse(source)
    spellings = {str(ref), ref.familiar()}
    if ref.domain == "docker.io":
        spellings.add(f"index.docker.io/{ref.path}" + str(ref)[len(ref.name) :])
        if ref.path.startswith("library/"):
            short = ref.path.removeprefix("library/")
            suffix = str(ref)[len(ref.name) :]
            spellings.update({f"library/{short}{suffix}", f"docker.io/{short}{suffix}"})
    return sorted(spellings)


def tenant_requests(
    tenant: TenantSettings, settings: VClusterSettings, workload_sources: Mapping[str, str]
) -> list[ImageRequest]:
    """Images one tenant needs; all run in its host namespace (synced pods included)."""
    namespace = tenant.host_namespace
    names = ["vcluster/control-plane", "vcluster/kubernetes", "vcluster/coredns", "vcluster/rewrite-hosts"]
    if tenant.backing_store == "etcd":
        names.append("vcluster/etcd")
    requests = []
    for name in names:
        request = catalog_request(name, namespace)
        source = request.source
        if name == "vcluster/kubernetes":
            source = str(parse(source).with_tag(settings.kubernetes_version))
        elif name == "vcluster/coredns":
            source = str(parse(source).with_tag(COREDNS_BY_MINOR[settings.minor]))
        requests.append(ImageRequest(name, source, namespace))
    for name, source in sorted(workload_sources.items()):
        requests.append(ImageRequest(name, source, namespace))
    for image in tenant.translate_images:
        requests.append(ImageRequest(tenant_image_name(image), str(parse(image)), namespace))
    return requests


def background_proxy_request() -> ImageRequest:
    """The `vcluster connect` proxy runs on the operator's Docker daemon: no namespace."""
    return catalog_request("vcluster/background-proxy", None)


def tenant_image_name(image: str) -> str:
    """Logical name of an extra tenant image: ``tenant-images/<slug of its reference>``."""
    slug = re.sub(r"[^a-z0-9]+", "-", str(parse(image).without_digest()).lower()).strip("-")[:200]
    return f"tenant-images/{slug}"


def translate_map(resolved: Iterable[ResolvedImage]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for image in resolved:
        final = full(image)
        for spelling in image_spellings(str(image.source)):
            if spelling != final:
                mapping[spelling] = final
    return dict(sorted(mapping.items()))


def _set(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = tree
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def _pop(tree: dict[str, Any], path: tuple[str, ...]) -> bool:
    node: Any = tree
    for key in path[:-1]:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    if isinstance(node, dict) and path[-1] in node:
        del node[path[-1]]
        return True
    return False


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = deepcopy(value)
    return base


def _sync_values(sync: SyncSettings) -> dict[str, Any]:
    from_host: dict[str, Any] = {}
    for key, syncer in sorted(sync.from_host.items()):
        entry: dict[str, Any] = {"enabled": syncer.enabled}
        # A disabled syncer carries nothing it added while enabled: no stale selector/mappings.
        if syncer.enabled is not False:
            if syncer.selector is not None:
                entry["selector"] = syncer.selector.model_dump(by_alias=True, exclude_defaults=True)
            if syncer.mappings:
                entry["mappings"] = {"byName": dict(sorted(syncer.mappings.items()))}
        from_host[key] = entry
    to_host = {key: {"enabled": enabled} for key, enabled in sorted(sync.to_host.items())}
    values: dict[str, Any] = {}
    if from_host:
        values["fromHost"] = from_host
    if to_host:
        values["toHost"] = to_host
    return values


# Every value path tenant_values writes below; the escape hatch must keep these mappings.
_WRITTEN_PATHS = (
    *POLICY_PATHS,
    ("controlPlane", "statefulSet", "resources"),
    ("controlPlane", "backingStore", "etcd", "deploy", "enabled"),
    ("controlPlane", "backingStore", "etcd", "deploy", "statefulSet", "enabled"),
    ("sync", "fromHost", "x"),
    ("sync", "toHost", "x"),
    ("exportKubeConfig", "context"),
    ("privateNodes", "enabled"),
)


def _private_nodes(values: Mapping[str, Any]) -> bool:
    section = values.get("privateNodes")
    return isinstance(section, Mapping) and bool(section.get("enabled"))


def tenant_problems(
    tenant: TenantSettings, kubernetes: ResolvedImage | None = None
) -> list[tuple[tuple[str, ...], object, str, str]]:
    """Problems of a tenant's ``values`` escape hatch, as (path under values, value, why, fix).

    A section airlock writes into must stay a mapping (``privateNodes: true`` would otherwise
    fail half-way through a deployment), and ``privateNodes`` cannot be combined with a
    digest-pinned Kubernetes image (pass the resolved image to check that)."""
    problems: list[tuple[tuple[str, ...], object, str, str]] = []
    reported: set[tuple[str, ...]] = set()
    for written in _WRITTEN_PATHS:
        node: Any = tenant.values
        for depth, key in enumerate(written[:-1]):
            if not isinstance(node, Mapping) or key not in node:
                break
            node = node[key]
            prefix = written[: depth + 1]
            if not isinstance(node, Mapping) and prefix not in reported:
                reported.add(prefix)
                problems.append(
                    (
                        prefix,
                        node,
                        f"must be a mapping: airlock sets {'.'.join(written[depth + 1 :])} under it",
                        f"write it as a mapping, e.g. {prefix[-1]}: {{enabled: true}}"
                        if prefix == ("privateNodes",)
                        else "write it as a mapping of chart values",
                    )
                )
                break
    if kubernetes is not None and kubernetes.pinned and _private_nodes(tenant.values):
        problems.append(
            (
                ("privateNodes", "enabled"),
                True,
                "privateNodes appends '-full' to the Kubernetes image tag, which breaks a digest-pinned tag",
                "pin vcluster/kubernetes by tag only (images.overrides, or pin: off) to use private nodes",
            )
        )
    return problems


def check_tenant(tenant: TenantSettings, kubernetes: ResolvedImage) -> None:
    """:func:`tenant_problems` as one ``ValueError`` (for components used without a stack)."""
    problems = tenant_problems(tenant, kubernetes)
    if problems:
        raise ValueError(
            "; ".join(
                f"tenant {tenant.name}: values.{'.'.join(path)}: {reason}; {fix}"
                for path, _value, reason, fix in problems
            )
        )


def tenant_values(
    tenant: TenantSettings,
    images: Mapping[str, ResolvedImage],
    pull_secrets: list[str],
    translate: Mapping[str, str],
) -> tuple[dict[str, Any], list[str]]:
    """The chart values for one tenant, and warnings about overridden escape-hatch paths."""
    values: dict[str, Any] = {"sync": _sync_values(tenant.sync)}
    if tenant.resources:
        _set(values, ("controlPlane", "statefulSet", "resources"), tenant.resources)
    user = deepcopy(tenant.values)
    warnings = [
        f"tenant {tenant.name}: values.{'.'.join(path)} is set by the image policy and was ignored; "
        f"change it through airlock:images.overrides"
        for path in POLICY_PATHS
        if _pop(user, path)
    ]
    check_tenant(tenant, images["vcluster/kubernetes"])
    values = _merge(values, user)

    control_plane = images["vcluster/control-plane"]
    kubernetes = images["vcluster/kubernetes"]
    _set(values, ("controlPlane", "statefulSet", "image"), registry_repository_tag(control_plane))
    _set(values, ("controlPlane", "statefulSet", "imagePullPolicy"), control_plane.pull_policy)
    _set(values, ("controlPlane", "distro", "k8s", "image"), registry_repository_tag(kubernetes))
    _set(values, ("controlPlane", "distro", "k8s", "imagePullPolicy"), kubernetes.pull_policy)
    _set(values, ("controlPlane", "coredns", "deployment", "image"), full(images["vcluster/coredns"]))
    _set(
        values,
        ("sync", "toHost", "pods", "rewriteHosts", "initContainer", "image"),
        registry_repository_tag(images["vcluster/rewrite-hosts"]),
    )
    if tenant.backing_store == "etcd":
        etcd = images["vcluster/etcd"]
        _set(values, ("controlPlane", "backingStore", "etcd", "deploy", "enabled"), True)
        _set(values, ("controlPlane", "backingStore", "etcd", "deploy", "statefulSet", "enabled"), True)
        _set(
            values,
            ("controlPlane", "backingStore", "etcd", "deploy", "statefulSet", "image"),
            registry_repository_tag(etcd),
        )
        _set(
            values,
            ("controlPlane", "backingStore", "etcd", "deploy", "statefulSet", "imagePullPolicy"),
            etcd.pull_policy,
        )
    secrets = pull_secret_objects(pull_secrets)
    _set(values, ("controlPlane", "advanced", "serviceAccount", "imagePullSecrets"), secrets)
    _set(values, ("controlPlane", "advanced", "workloadServiceAccount", "imagePullSecrets"), secrets)
    _set(values, ("sync", "toHost", "pods", "translateImage"), dict(translate))
    export: dict[str, Any] = {"context": f"vcluster-{tenant.name}"}
    export["server"] = tenant.server or f"https://{tenant.name}.{tenant.host_namespace}.svc:443"
    _set(values, ("exportKubeConfig",), _merge(export, values.get("exportKubeConfig", {})))
    return values, warnings


def connect_commands(tenant: TenantSettings, proxy_image: str) -> dict[str, str]:
    """How operators connect with the background proxy pulled from the private registry."""
    base = f"vcluster connect {tenant.name} --namespace {tenant.host_namespace}"
    return {
        "env": f"VCLUSTER_BACKGROUND_PROXY_IMAGE={proxy_image} {base}",
        "flag": f"{base} --background-proxy-image {proxy_image}",
    }
