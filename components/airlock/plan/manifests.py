"""The Kubernetes objects a recorded plan declares, as the API server would receive them.

Secrets are unwrapped here (never printed): these objects are for schema validation and for
rendering manifests, not for display.
"""

from __future__ import annotations

import re
from typing import Any

from pulumi.runtime import rpc

from .engine import Recording

__all__ = ["kubernetes_objects", "unwrap_secrets"]

_KUBERNETES_TYPE = re.compile(r"kubernetes:(?P<group>[a-z0-9.]+)/(?P<version>v[0-9a-z]+):(?P<kind>[A-Za-z]+)")


def unwrap_secrets(value: Any) -> Any:
    if rpc.is_rpc_secret(value):
        return unwrap_secrets(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {key: unwrap_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def kubernetes_objects(recording: Recording) -> list[dict[str, Any]]:
    """Every plain Kubernetes resource (``kubernetes:<group>/<version>:<Kind>``) in the plan."""
    objects = []
    for resource in sorted(recording.resources, key=lambda r: r.urn):
        if resource.custom and _KUBERNETES_TYPE.fullmatch(resource.type):
            objects.append(unwrap_secrets(resource.inputs))
    return objects
