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

from collections.abc import Iterable, Mapping
from copy import deepcopy
from typing import Any

from ..images.errors import PolicyError
from ..images.formats import full, pull_secret_objects
from ..images.policy import ResolvedImage
from ..images.reference import parse
from ..kube import ObjectKey
from ..values import ValuesProblem, mapping_problems, merge, set_path, take_owned
from .settings import SyncSettings, TenantSettings

__all__ = [
    "POLICY_PATHS",
    "TYPE_TOKEN",
    "check_tenant",
    "connect_commands",
    "image_spellings",
    "object_keys",
    "pinning_problems",
    "registry_repository_tag",
    "structure_problems",
    "tenant_problems",
    "tenant_values",
    "translate_map",
]

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


def registry_repository_tag(image: ResolvedImage) -> dict[str, str]:
    """vcluster's image object. A digest rides in the tag: ``0.36.1@sha256:…``.

    The chart joins ``registry/repository:tag`` (v0.36.1 ``chart/templates/_helper.tpl``,
    ``vcluster.image``) and has no digest field, so a digest travels inside the tag as
    ``<tag>@<digest>``; the joined string is then a valid tag-and-digest reference and
    runtimes pull by the digest. A digest without a tag cannot be expressed (the template
    always writes ``:``) and is refused."""
    final = image.final
    if final.tag is None:
        raise PolicyError(
            f"image {image.name or final}",
            str(final),
            "vcluster image fields are registry/repository:tag and need a tag even with a digest",
            "give the image a tag (an override 'tag') alongside its digest",
        )
    tag = f"{final.tag}@{final.digest}" if final.digest else final.tag
    return {"registry": final.domain, "repository": final.path, "tag": tag}


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


def translate_map(resolved: Iterable[ResolvedImage]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for image in resolved:
        final = full(image)
        for spelling in image_spellings(str(image.source)):
            if spelling != final:
                mapping[spelling] = final
    return dict(sorted(mapping.items()))


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


def structure_problems(tenant: TenantSettings) -> list[ValuesProblem]:
    """Sections of the ``values`` escape hatch airlock writes into must stay mappings
    (``privateNodes: true`` would otherwise fail half-way through a deployment)."""
    return mapping_problems(
        tenant.values,
        _WRITTEN_PATHS,
        {("privateNodes",): "write it as a mapping, e.g. privateNodes: {enabled: true}"},
    )


def pinning_problems(tenant: TenantSettings, kubernetes: ResolvedImage) -> list[ValuesProblem]:
    """``privateNodes`` cannot be combined with a digest-pinned Kubernetes image."""
    if not (kubernetes.pinned and _private_nodes(tenant.values)):
        return []
    return [
        (
            ("privateNodes", "enabled"),
            True,
            "privateNodes appends '-full' to the Kubernetes image tag, which breaks a digest-pinned tag",
            "pin vcluster/kubernetes by tag only (images.overrides, or pin: off) to use private nodes",
        )
    ]


def tenant_problems(tenant: TenantSettings, kubernetes: ResolvedImage | None = None) -> list[ValuesProblem]:
    """Every problem of a tenant's ``values``; with the resolved Kubernetes image, pinning too."""
    problems = structure_problems(tenant)
    return problems + (pinning_problems(tenant, kubernetes) if kubernetes is not None else [])


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
        set_path(values, ("controlPlane", "statefulSet", "resources"), tenant.resources)
    user = deepcopy(tenant.values)
    warnings = [
        f"tenant {tenant.name}: values.{'.'.join(path)} is set by the image policy and was ignored; "
        f"change it through airlock:images.overrides"
        for path in take_owned(user, POLICY_PATHS)
    ]
    check_tenant(tenant, images["vcluster/kubernetes"])
    values = merge(values, user)

    control_plane = images["vcluster/control-plane"]
    kubernetes = images["vcluster/kubernetes"]
    set_path(values, ("controlPlane", "statefulSet", "image"), registry_repository_tag(control_plane))
    set_path(values, ("controlPlane", "statefulSet", "imagePullPolicy"), control_plane.pull_policy)
    set_path(values, ("controlPlane", "distro", "k8s", "image"), registry_repository_tag(kubernetes))
    set_path(values, ("controlPlane", "distro", "k8s", "imagePullPolicy"), kubernetes.pull_policy)
    set_path(values, ("controlPlane", "coredns", "deployment", "image"), full(images["vcluster/coredns"]))
    set_path(
        values,
        ("sync", "toHost", "pods", "rewriteHosts", "initContainer", "image"),
        registry_repository_tag(images["vcluster/rewrite-hosts"]),
    )
    if tenant.backing_store == "etcd":
        etcd = images["vcluster/etcd"]
        set_path(values, ("controlPlane", "backingStore", "etcd", "deploy", "enabled"), True)
        set_path(values, ("controlPlane", "backingStore", "etcd", "deploy", "statefulSet", "enabled"), True)
        set_path(
            values,
            ("controlPlane", "backingStore", "etcd", "deploy", "statefulSet", "image"),
            registry_repository_tag(etcd),
        )
        set_path(
            values,
            ("controlPlane", "backingStore", "etcd", "deploy", "statefulSet", "imagePullPolicy"),
            etcd.pull_policy,
        )
    secrets = pull_secret_objects(pull_secrets)
    set_path(values, ("controlPlane", "advanced", "serviceAccount", "imagePullSecrets"), secrets)
    # The workload ServiceAccount's template concatenates serviceAccount.imagePullSecrets with its
    # own list (chart/templates/workload-serviceaccount.yaml, `concat`): the secret is named once,
    # on the control plane's ServiceAccount, and reaches both (it was listed twice).
    set_path(values, ("controlPlane", "advanced", "workloadServiceAccount", "imagePullSecrets"), [])
    set_path(values, ("sync", "toHost", "pods", "translateImage"), dict(translate))
    export: dict[str, Any] = {"context": f"vcluster-{tenant.name}"}
    export["server"] = tenant.server or f"https://{tenant.name}.{tenant.host_namespace}.svc:443"
    set_path(values, ("exportKubeConfig",), merge(export, values.get("exportKubeConfig", {})))
    return values, warnings


TYPE_TOKEN = "airlock:index:VirtualCluster"


def object_keys(tenant: TenantSettings) -> list[ObjectKey]:
    """Objects a tenant's chart release creates that another component could also create: the
    release itself, and the Service and StatefulSet named after it in the host namespace
    (v0.36.1 ``chart/templates/service.yaml`` and ``statefulset.yaml``: ``{{ .Release.Name }}``)."""
    namespace = tenant.host_namespace
    return [
        ("helm.sh/v4", "Chart", namespace, tenant.name),
        ("v1", "Service", namespace, tenant.name),
        ("apps/v1", "StatefulSet", namespace, tenant.name),
    ]


def connect_commands(tenant: TenantSettings, proxy_image: str) -> dict[str, str]:
    """How operators connect with the background proxy pulled from the private registry."""
    base = f"vcluster connect {tenant.name} --namespace {tenant.host_namespace}"
    return {
        "env": f"VCLUSTER_BACKGROUND_PROXY_IMAGE={proxy_image} {base}",
        "flag": f"{base} --background-proxy-image {proxy_image}",
    }
