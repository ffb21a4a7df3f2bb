"""The plan document: a stable JSON description of what a stack declares.

Shape (documented in the README; keys sorted when written)::

    {"project": str, "stack": str,
     "resources": [{"urn", "type", "name", "parent", "dependencies", "inputs"}],  # by URN
     "images": [{"consumer", "role", "name", "namespace", "source", "final", "rule",
                 "pullPolicy", "pullSecrets", "registry", "insecure", "digestFrom"}],
     "outputs": {...},
     "warnings": [...]}

Integers stay integers (the engine hands every number over as a float), and every secret —
wherever it sits — is replaced by ``"[secret]"``: never the value, never ciphertext.
"""

from __future__ import annotations

import json
from typing import Any

from pulumi.runtime import rpc

from ..images.table import ROW_FIELDS
from .engine import Recording

__all__ = ["IMAGE_CONFIG_TYPE", "SECRET", "build_document", "dumps"]

SECRET = "[secret]"
UNKNOWN = "[unknown]"
IMAGE_CONFIG_TYPE = "airlock:index:ImageConfig"
IMAGE_FIELDS = ROW_FIELDS


def clean(value: Any) -> Any:
    """Secrets masked, unknowns marked, integral floats as integers, internal keys dropped."""
    if rpc.is_rpc_secret(value):
        return SECRET
    if value is rpc.UNKNOWN:
        return UNKNOWN
    if isinstance(value, dict):
        return {str(key): clean(item) for key, item in value.items() if not str(key).startswith("__")}
    if isinstance(value, (list, tuple)):
        return [clean(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def build_document(recording: Recording) -> dict[str, Any]:
    resources = [
        {
            "urn": resource.urn,
            "type": resource.type,
            "name": resource.name,
            "parent": resource.parent,
            "dependencies": resource.dependencies,
            "inputs": clean(resource.inputs),
        }
        for resource in sorted(recording.resources, key=lambda r: r.urn)
    ]
    images: list[dict[str, Any]] = []
    for component in recording.of_type(IMAGE_CONFIG_TYPE):
        for entry in clean(component.outputs.get("images") or []):
            images.append({key: entry.get(key) for key in IMAGE_FIELDS})
    images.sort(key=lambda image: (image["consumer"], image["role"], image["namespace"] or ""))
    return {
        "project": recording.project,
        "stack": recording.stack,
        "resources": resources,
        "images": images,
        "outputs": clean(recording.outputs),
        "warnings": sorted(set(recording.warnings)),
    }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
