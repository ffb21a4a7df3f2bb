"""What every component shares (imports pulumi): labels, secret wrapping, and object claims.

Claims: two components that would create the same Kubernetes object (same apiVersion, kind,
namespace and name) — two ImageConfigs that both write ``apps/airlock-pull``, say — are
refused when the second one is constructed, before it registers anything, with an error that
names both. Claims are kept per Pulumi program run (per root stack resource). Platform claims
for every child it will create before it registers itself, so inside a Platform a conflict
registers nothing at all.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from typing import Any

import pulumi

from .charts import ChartLocation
from .kube import ObjectKey

__all__ = [
    "MANAGED_BY",
    "DuplicateObjectError",
    "ObjectKey",
    "as_secret",
    "claim_objects",
    "cluster_of",
    "describe",
    "helm_chart",
    "retain_crds",
]

MANAGED_BY = {"app.kubernetes.io/managed-by": "airlock"}


def helm_chart(
    resource_name: str,
    *,
    release: str,
    namespace: str,
    location: ChartLocation,
    values: pulumi.Input[Mapping[str, Any]],
    opts: pulumi.ResourceOptions,
) -> pulumi.Resource:
    """A chart installed with ``helm.v4.Chart`` from a repository or an OCI location (each room's
    ``ChartSource.location()``): every rendered object is an ordinary Pulumi resource. Helm hooks
    are not rendered (pulumi-kubernetes#3284); a room whose chart needs one creates it itself."""
    import pulumi_kubernetes as k8s

    return k8s.helm.v4.Chart(
        resource_name,
        name=release,
        namespace=namespace,
        chart=location.chart,
        version=location.version,
        repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=location.repo) if location.repo else None,
        plain_http=True if location.plain_http else None,
        values=values,
        opts=opts,
    )


CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"


def retain_crds(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """A transform for a chart that installs CRDs: its CustomResourceDefinitions are retained
    when Pulumi deletes them (``retain_on_delete``). Deleting a CRD deletes every object of its
    kind in the cluster; removing the component, or handing the CRDs to another resource (a
    changed ``crds.install``), must not. Transforms reach the children of ``helm.v4.Chart``."""
    if args.type_ != CRD_TYPE:
        return None
    return pulumi.ResourceTransformResult(
        args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(retain_on_delete=True))
    )


def as_secret(value: pulumi.Input[str]) -> pulumi.Output[str]:
    """``pulumi.Output.secret`` with a usable type (the SDK's signature infers ``Never``)."""
    source: pulumi.Input[str] = value
    wrapped: pulumi.Output[str] = pulumi.Output.secret(source)
    return wrapped


class DuplicateObjectError(ValueError):
    """Two components would create the same Kubernetes object."""


Claim = tuple[str, ObjectKey]
"""(the cluster: its Kubernetes provider, the object)."""

_BY_RUN: weakref.WeakKeyDictionary[Any, dict[Claim, str]] = weakref.WeakKeyDictionary()
_WITHOUT_STACK: dict[Claim, str] = {}


def describe(key: ObjectKey) -> str:
    api_version, kind, namespace, name = key
    return f"{kind} {namespace + '/' if namespace else ''}{name} ({api_version})"


def cluster_of(opts: pulumi.ResourceOptions | None) -> str:
    """The cluster a component's objects go to: the Kubernetes provider in its options, or its
    parent's, else the default provider (objects on two clusters never collide)."""
    if opts is None:
        return "default provider"
    candidates: list[Any] = [opts.provider] if opts.provider is not None else []
    providers: Any = opts.providers
    candidates += list(providers.values()) if isinstance(providers, Mapping) else list(providers or [])
    parent_providers = getattr(opts.parent, "_providers", None) or {}
    candidates.append(parent_providers.get("kubernetes"))
    for provider in candidates:
        if provider is not None and getattr(provider, "package", None) == "kubernetes":
            return f"provider {getattr(provider, '_name', id(provider))}"
    return "default provider"


def _claims() -> dict[Claim, str]:
    root = pulumi.runtime.settings.get_root_resource()
    if root is None:
        return _WITHOUT_STACK
    claims = _BY_RUN.get(root)
    if claims is None:
        claims = _BY_RUN[root] = {}
    return claims


def claim_objects(owner: str, keys: Iterable[ObjectKey], cluster: str = "default provider") -> None:
    """Record that ``owner`` (``"<type token> <name>"``) creates ``keys`` on ``cluster``
    (:func:`cluster_of`); refuse objects another owner already claimed there, naming both.
    Nothing is recorded when any key conflicts."""
    claims = _claims()
    wanted = [(cluster, key) for key in dict.fromkeys(keys)]
    conflicts = [
        (key, claims[(cluster, key)]) for _, key in wanted if claims.get((cluster, key), owner) != owner
    ]
    if conflicts:
        lines = [f"{describe(key)} is created by both {other} and {owner}" for key, other in conflicts]
        raise DuplicateObjectError(
            "; ".join(lines) + ": one Kubernetes object can have one owner. Give one of them another name or "
            "namespace (e.g. ImageConfigArgs.pull_secret_name), or let one component create it"
        )
    for claim in wanted:
        claims[claim] = owner
