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
from collections.abc import Iterable
from typing import Any

import pulumi

__all__ = [
    "MANAGED_BY",
    "DuplicateObjectError",
    "ObjectKey",
    "as_secret",
    "claim_objects",
    "describe",
]

MANAGED_BY = {"app.kubernetes.io/managed-by": "airlock"}

ObjectKey = tuple[str, str, str, str]
"""(apiVersion, kind, namespace, name); namespace is '' for cluster-scoped objects."""


def as_secret(value: pulumi.Input[str]) -> pulumi.Output[str]:
    """``pulumi.Output.secret`` with a usable type (the SDK's signature infers ``Never``)."""
    source: pulumi.Input[str] = value
    wrapped: pulumi.Output[str] = pulumi.Output.secret(source)
    return wrapped


class DuplicateObjectError(ValueError):
    """Two components would create the same Kubernetes object."""


_BY_RUN: weakref.WeakKeyDictionary[Any, dict[ObjectKey, str]] = weakref.WeakKeyDictionary()
_WITHOUT_STACK: dict[ObjectKey, str] = {}


def describe(key: ObjectKey) -> str:
    api_version, kind, namespace, name = key
    return f"{kind} {namespace + '/' if namespace else ''}{name} ({api_version})"


def _claims() -> dict[ObjectKey, str]:
    root = pulumi.runtime.settings.get_root_resource()
    if root is None:
        return _WITHOUT_STACK
    claims = _BY_RUN.get(root)
    if claims is None:
        claims = _BY_RUN[root] = {}
    return claims


def claim_objects(owner: str, keys: Iterable[ObjectKey]) -> None:
    """Record that ``owner`` (``"<type token> <name>"``) creates ``keys``; refuse objects another
    owner already claimed, naming both. Nothing is recorded when any key conflicts."""
    claims = _claims()
    wanted = list(dict.fromkeys(keys))
    conflicts = [(key, claims[key]) for key in wanted if claims.get(key, owner) != owner]
    if conflicts:
        lines = [f"{describe(key)} is created by both {other} and {owner}" for key, other in conflicts]
        raise DuplicateObjectError(
            "; ".join(lines) + ": one Kubernetes object can have one owner. Give one of them another name or "
            "namespace (e.g. ImageConfigArgs.pull_secret_name), or let one component create it"
        )
    for key in wanted:
        claims[key] = owner
