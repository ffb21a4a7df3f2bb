"""Crossplane, the pure part: chart values, the CA bundle, package objects and ImageConfigs.

Read against crossplane/crossplane v2.3.4 (commit c2670a73) and crossplane-runtime v2.3.3:

- ``cluster/charts/crossplane/values.yaml`` and ``templates/deployment.yaml``: ``image.repository``
  with ``image.tag`` (default ``v<appVersion>``), or with ``image.ignoreTag: true`` the repository
  verbatim — the only way to pass a digest; ``imagePullSecrets`` are plain names, rendered onto
  the ``crossplane`` and ``rbac-manager`` ServiceAccounts; ``registryCaBundleConfig.{name,key}``
  mounts a ConfigMap at ``/certs`` and sets ``CA_BUNDLE_PATH``, whose certificates are added to
  the system pool of the package fetcher (``cmd/crossplane/core/certs.go``).
- The CRDs (``cluster/crds/pkg.crossplane.io_*.yaml``) are applied by the init container, not
  the chart: package objects and ImageConfigs can only be created once Crossplane runs.
- ``spec.package`` must match the CEL rule in ``settings.PACKAGE_PATTERN``.
- ImageConfig (``pkg.crossplane.io/v1beta1``): the best match is the longest ``matchImages``
  prefix among the ImageConfigs that set the wanted field, chosen separately for
  ``rewriteImage`` and for ``registry.authentication`` (crossplane-runtime
  ``pkg/xpkg/config.go`` ``bestMatch``, ``RewritePath``, ``PullSecretFor``); the rewrite is
  ``prefix + TrimPrefix(image, matchedPrefix)``, and the pull secret is looked up for the
  rewritten reference.
- Plain HTTP: there is no option (crossplane#6159). go-containerregistry (v0.21.6
  ``pkg/name/registry.go`` ``Scheme``) falls back to HTTP only for ``localhost``,
  ``*.localhost``, loopback and RFC1918 IP literals; of those, only an RFC1918 address reaches
  another machine from inside the crossplane pod.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from ..images.formats import pull_secret_objects
from ..images.policy import ImagePolicy, ResolvedImage
from ..kube import ObjectKey, slug
from ..values import Path, ValuesProblem, mapping_problems, merge, set_path, take_owned
from .settings import PACKAGE_PATTERN, PACKAGE_RULE_MESSAGE, CrossplaneSettings, PackageSettings

__all__ = [
    "CA_ANNOTATION",
    "CA_CONFIG_MAP",
    "CA_KEY",
    "IMAGE_CONFIG_API",
    "OWNED_PATHS",
    "PACKAGE_API",
    "TYPE_TOKEN",
    "Rewrite",
    "chart_values",
    "crossplane_image",
    "effective_reference",
    "fetched_over_http",
    "image_configs",
    "object_keys",
    "package_object",
    "package_problems",
    "package_pull_policy",
    "package_reference",
    "rewrites",
    "values_problems",
]

TYPE_TOKEN = "airlock:index:Crossplane"
PACKAGE_API = "pkg.crossplane.io/v1"
IMAGE_CONFIG_API = "pkg.crossplane.io/v1beta1"
CA_CONFIG_MAP = "airlock-registry-ca"
CA_KEY = "ca.crt"
CA_ANNOTATION = "airlock/registry-ca-sha256"
"""Pod annotation with the bundle's hash: a changed CA restarts Crossplane, which reads it once."""

_IMAGES = "airlock:images (overrides['crossplane/crossplane'], pullPolicy)"
_PACKAGES = "airlock:crossplane.packages (airlock creates the package objects itself)"
OWNED_PATHS: dict[Path, str] = {
    ("image", "repository"): _IMAGES,
    ("image", "tag"): _IMAGES,
    ("image", "pullPolicy"): _IMAGES,
    ("image", "ignoreTag"): _IMAGES,
    ("imagePullSecrets",): _IMAGES,
    ("registryCaBundleConfig",): "airlock:images.registries (caBundle) and the platform registry's CA",
    ("provider", "packages"): _PACKAGES,
    ("configuration", "packages"): _PACKAGES,
    ("function", "packages"): _PACKAGES,
    ("serviceAccount", "create"): "airlock (its pull secrets are set on the chart's ServiceAccount)",
    ("serviceAccount", "name"): "airlock (its pull secrets are set on the chart's ServiceAccount)",
}
"""Chart values airlock sets or relies on, and the setting that decides each: the escape hatch
cannot change them (ignored with a warning naming the setting)."""


def crossplane_image(image: ResolvedImage) -> dict[str, object]:
    """Crossplane chart ``image`` values: repository/tag, or a digest via ``ignoreTag``."""
    final = image.final
    values: dict[str, object] = {"pullPolicy": image.pull_policy}
    if final.digest is not None or final.tag is None:
        # ignoreTag: the chart uses repository verbatim (an empty tag would fall back to
        # v<appVersion>, which is not what the policy decided).
        values.update(repository=str(final), ignoreTag=True)
    else:
        values.update(repository=final.name, tag=final.tag, ignoreTag=False)
    return values


def values_problems(settings: CrossplaneSettings) -> list[ValuesProblem]:
    return mapping_problems(settings.values, (*OWNED_PATHS, ("image", "x")))


def chart_values(
    settings: CrossplaneSettings, core: ResolvedImage, pull_secrets: Sequence[str], with_ca: bool
) -> tuple[dict[str, Any], list[str]]:
    """The chart values, and warnings for escape-hatch values airlock's settings override."""
    user = deepcopy(settings.values)
    warnings = [
        f"crossplane: values.{'.'.join(path)} is set by airlock and was ignored; change it through "
        f"{OWNED_PATHS[path]}"
        for path in take_owned(user, OWNED_PATHS)
    ]
    values = merge({}, user)
    set_path(values, ("image",), crossplane_image(core))
    set_path(values, ("imagePullSecrets",), list(pull_secrets))
    set_path(
        values,
        ("registryCaBundleConfig",),
        {"name": CA_CONFIG_MAP, "key": CA_KEY} if with_ca else {"name": "", "key": ""},
    )
    for kind in ("provider", "configuration", "function"):
        set_path(values, (kind, "packages"), [])
    return values, warnings


# -- packages and ImageConfigs -------------------------------------------------------------------
@dataclass(frozen=True, order=True)
class Rewrite:
    """One ImageConfig ``rewriteImage``: references starting with ``match`` continue under
    ``prefix`` (a rule of the image policy, as string prefixes)."""

    match: str
    prefix: str


def rewrites(policy: ImagePolicy, packages: Iterable[ResolvedImage]) -> list[Rewrite]:
    """The policy's location rules that relocate these packages, once each, as Crossplane
    string prefixes.

    A rule for a whole repository (``ghcr.io/team/provider-x``) becomes ``<repo>:`` or
    ``<repo>@`` (a reference continues with its tag or digest there, not with '/'). A rule that
    keeps its source where it is rewrites nothing, unless a shorter relocating prefix would
    catch its references: then it is written as an identity rewrite, which wins by length."""
    found: set[Rewrite] = set()
    for image in packages:
        pair = policy.location_prefixes(image.source)
        if pair is None:
            continue
        match, prefix = pair
        name = image.source.name
        if not name.startswith(match) and match == f"{name}/":
            separator = ":" if image.source.tag else "@"
            match, prefix = f"{name}{separator}", f"{prefix.removesuffix('/')}{separator}"
        found.add(Rewrite(match, prefix))
    moving = [config for config in found if config.match != config.prefix]
    kept = [
        config
        for config in found
        if config.match == config.prefix
        and any(config.match.startswith(other.match) and other.match != config.match for other in moving)
    ]
    return sorted([*moving, *kept])


def effective_reference(reference: str, configs: Iterable[Rewrite]) -> str:
    """What Crossplane fetches for ``reference``: the rewrite of the longest matching prefix
    (crossplane-runtime v2.3.3 ``ImageConfigStore.RewritePath``), or the reference itself."""
    best: Rewrite | None = None
    for config in configs:
        if reference.startswith(config.match) and (best is None or len(config.match) > len(best.match)):
            best = config
    return reference if best is None else best.prefix + reference[len(best.match) :]


def package_reference(settings: CrossplaneSettings, image: ResolvedImage) -> str:
    """``spec.package``: the final reference (``mirror``), or the upstream name with the final
    tag and digest (``rewrite``: the ImageConfigs relocate it)."""
    if settings.package_source == "mirror":
        return str(image.final)
    source = image.source.without_digest()
    return str(source.with_digest(image.final.digest) if image.final.digest else source)


def fetched_over_http(registry: str) -> bool:
    """Whether Crossplane's fetcher can reach a plain-HTTP ``registry``: go-containerregistry
    falls back to HTTP for localhost, ``*.localhost``, loopback and RFC1918 IP literals, and of
    those only an RFC1918 address (a ClusterIP, a node) is another machine: inside the crossplane
    pod, localhost and loopback are the pod itself (kind's ``localhost:5001`` exists only in the
    nodes' containerd configuration)."""
    host = registry.rsplit(":", 1)[0] if ":" in registry and not registry.startswith("[") else registry
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    private = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
    return address.version == 4 and any(address in ipaddress.ip_network(net) for net in private)


Problem = tuple[tuple[str | int, ...], object, str, str]


def package_problems(
    settings: CrossplaneSettings, resolved: Mapping[str, ResolvedImage], policy: ImagePolicy
) -> list[Problem]:
    """Why a package cannot be installed as configured: its ``spec.package`` fails the CRD's
    CEL rule, its registry is plain HTTP (crossplane#6159), or the ImageConfig rewrites would
    not fetch the policy's final reference."""
    problems: list[Problem] = []
    configs = rewrites(policy, resolved.values())
    for index, package in enumerate(settings.packages):
        image = resolved[package.logical_name]
        reference = package_reference(settings, image)
        where = ("packages", index, "package")
        if not PACKAGE_PATTERN.match(reference):
            problems.append(
                (
                    where,
                    reference,
                    f"spec.package {PACKAGE_RULE_MESSAGE}",
                    "mirror packages to a registry with a DNS name (or an IP literal), or use "
                    "packageSource: rewrite to keep the upstream name in spec.package"
                    if settings.package_source == "mirror"
                    else "take the package from a registry whose host has a dot (Crossplane checks "
                    "the upstream name in spec.package)",
                )
            )
        if image.insecure and not fetched_over_http(image.registry):
            problems.append(
                (
                    where,
                    str(image.final),
                    f"comes from {image.registry}, declared plain HTTP, and Crossplane's package fetcher "
                    "has no plain-HTTP option (crossplane#6159); it would fail, not fall back",
                    "serve that registry over TLS and put its CA in airlock:images.registries (any port "
                    "works), or mirror packages to an RFC1918 IP literal (a ClusterIP), which the "
                    "fetcher reaches over HTTP (the Provider and Function Deployments run the same "
                    "reference, so every node's containerd must then pull it over HTTP too), or pull "
                    "this package from upstream (an images.mirrors rule that keeps its source)",
                )
            )
        fetched = effective_reference(reference, configs)
        if fetched != str(image.final):
            problems.append(
                (
                    where,
                    reference,
                    f"Crossplane would fetch {fetched!r}, not the policy's {str(image.final)!r}: "
                    + (
                        "an ImageConfig rewrite works per prefix, and this package is relocated by "
                        f"{image.rule}"
                        if settings.package_source == "rewrite"
                        else "an ImageConfig that rewrites another package's source matches this final "
                        "reference"
                    ),
                    "use packageSource: mirror"
                    if settings.package_source == "rewrite"
                    else "give the mirror a location that is not another source's prefix",
                )
            )
    return problems


def _config_name(kind: str, prefix: str) -> str:
    digest = hashlib.sha256(prefix.encode()).hexdigest()[:8]
    return f"airlock-{kind}-{slug(prefix)[:40].strip('-')}-{digest}"


def image_configs(
    configs: Sequence[Rewrite],
    pull_registries: Iterable[str],
    pull_secret: str | None,
    labels: Mapping[str, str],
) -> list[dict[str, Any]]:
    """ImageConfigs: one per rewrite rule (so dependencies Crossplane resolves by upstream name
    come through the mirror too), and one per registry whose login the pull secret holds,
    matching the rewritten (mirror) prefix, which is what Crossplane matches pull secrets on."""
    objects = [
        {
            "apiVersion": IMAGE_CONFIG_API,
            "kind": "ImageConfig",
            "metadata": {"name": _config_name("rewrite", config.match), "labels": dict(labels)},
            "spec": {
                "matchImages": [{"type": "Prefix", "prefix": config.match}],
                "rewriteImage": {"prefix": config.prefix},
            },
        }
        for config in configs
    ]
    if pull_secret is not None:
        objects += [
            {
                "apiVersion": IMAGE_CONFIG_API,
                "kind": "ImageConfig",
                "metadata": {"name": _config_name("pull", f"{registry}/"), "labels": dict(labels)},
                "spec": {
                    "matchImages": [{"type": "Prefix", "prefix": f"{registry}/"}],
                    "registry": {"authentication": {"pullSecretRef": {"name": pull_secret}}},
                },
            }
            for registry in sorted(set(pull_registries))
        ]
    return objects


def package_pull_policy(image: ResolvedImage) -> str:
    """``packagePullPolicy`` from the image's pull policy: ``Always`` makes Crossplane check the
    registry on every sync; ``Never`` becomes ``IfNotPresent``, because the package cache is an
    emptyDir and a package the cache never held could never install ("package not in cache and
    pull policy is Never", crossplane-runtime v2.3.3 pkg/xpkg/client.go)."""
    return "IfNotPresent" if image.pull_policy == "Never" else image.pull_policy


def package_object(
    package: PackageSettings,
    reference: str,
    image: ResolvedImage,
    pull_secrets: Sequence[str],
    labels: Mapping[str, str],
) -> dict[str, Any]:
    spec: dict[str, Any] = {"package": reference, "packagePullPolicy": package_pull_policy(image)}
    if pull_secrets:
        spec["packagePullSecrets"] = pull_secret_objects(pull_secrets)
    if package.revision_activation_policy is not None:
        spec["revisionActivationPolicy"] = package.revision_activation_policy
    return {
        "apiVersion": PACKAGE_API,
        "kind": package.kind,
        "metadata": {"name": package.name, "labels": dict(labels)},
        "spec": spec,
    }


def object_keys(settings: CrossplaneSettings) -> list[ObjectKey]:
    """Objects another component could also create: the release, the chart's fixed-name
    Deployments and ServiceAccounts (v2.3.4 templates: ``crossplane``, ``crossplane-rbac-manager``),
    the CA ConfigMap and the package objects."""
    namespace = settings.namespace
    keys: list[ObjectKey] = [
        ("helm.sh/v4", "Chart", namespace, settings.release_name),
        ("apps/v1", "Deployment", namespace, "crossplane"),
        ("apps/v1", "Deployment", namespace, "crossplane-rbac-manager"),
        ("v1", "ServiceAccount", namespace, "crossplane"),
        ("v1", "ServiceAccount", namespace, "rbac-manager"),
        ("v1", "ConfigMap", namespace, CA_CONFIG_MAP),
    ]
    keys += [(PACKAGE_API, package.kind, "", package.name) for package in settings.packages]
    return keys
