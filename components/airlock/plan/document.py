"""The plan document: a stable JSON description of what a stack declares.

Shape (documented in the README; keys sorted when written)::

    {"project": str, "stack": str,
     "resources": [{"urn", "type", "name", "parent", "dependencies", "inputs"}],  # by URN
     "images": [{"consumer", "role", "name", "namespace", "source", "final", "rule",
                 "pullPolicy", "pullSecrets", "registry", "insecure", "digestFrom"}],
     "outputs": {...},
     "warnings": [...]}

Integers stay integers (the engine hands every number over as a float), and every secret —
wherever it sits — is replaced by ``"[secret <fingerprint>]"``: never the value, never
ciphertext. The fingerprint changes when the value changes, so a review sees which secrets an
update rewrites. It is the first 16 hex digits of HMAC-SHA256, keyed per project and stack,
over the offline tokens the secret holds — and nothing else: a ``secure:`` config value
reaches the plan as a token derived from its ciphertext (``plan/stackfiles.py``), a value a
provider generates (passwords, keys) as a ``[computed at deploy: …]`` placeholder. A secret
that holds no token (a real value handed to the program) is shown as ``[secret]``: a hash of
it, with a key anyone can compute, could be guessed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from pulumi.runtime import rpc

from ..images.table import ROW_FIELDS
from .engine import Recording
from .manifests import unwrap_secrets
from .stackfiles import SECRET_PLACEHOLDER

__all__ = ["IMAGE_CONFIG_TYPE", "SECRET", "build_document", "dumps"]

SECRET = "[secret]"
UNKNOWN = "[unknown]"
IMAGE_CONFIG_TYPE = "airlock:index:ImageConfig"
IMAGE_FIELDS = ROW_FIELDS


def fingerprint_key(project: str, stack: str) -> bytes:
    return hashlib.sha256(f"airlock plan secret fingerprint\0{project}\0{stack}".encode()).digest()


# What the offline plan holds in place of secret values: ciphertext-derived tokens of secure:
# config (plan/stackfiles.py) and the placeholders of values only a deployment produces.
_OFFLINE_TOKENS = re.compile(
    rf"{re.escape(SECRET_PLACEHOLDER)}-[0-9a-f]{{16}}|\[(?:computed|read) at deploy: [^\]]*\]"
)


def fingerprint(value: Any, key: bytes) -> str:
    """``[secret <16 hex>]``: HMAC-SHA256 over the offline tokens the secret holds (never over
    anything else in it, so a real value that reached the plan cannot be guessed from it);
    ``[secret]`` when it holds none."""
    text = json.dumps(clean(unwrap_secrets(value)), sort_keys=True, separators=(",", ":"), default=str)
    tokens = sorted(set(_OFFLINE_TOKENS.findall(text)))
    if not tokens:
        return SECRET
    digest = hmac.new(key, "\0".join(tokens).encode(), hashlib.sha256).hexdigest()[:16]
    return f"[secret {digest}]"


def clean(value: Any, key: bytes | None = None) -> Any:
    """Secrets fingerprinted (``key``) or masked, unknowns marked, integral floats as integers,
    internal keys dropped."""
    if rpc.is_rpc_secret(value):
        return SECRET if key is None else fingerprint(value, key)
    if value is rpc.UNKNOWN:
        return UNKNOWN
    if isinstance(value, dict):
        return {str(k): clean(item, key) for k, item in value.items() if not str(k).startswith("__")}
    if isinstance(value, (list, tuple)):
        return [clean(item, key) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def build_document(recording: Recording) -> dict[str, Any]:
    key = fingerprint_key(recording.project, recording.stack)
    resources = [
        {
            "urn": resource.urn,
            "type": resource.type,
            "name": resource.name,
            "parent": resource.parent,
            "dependencies": resource.dependencies,
            "inputs": clean(resource.inputs, key),
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
        "outputs": clean(recording.outputs, key),
        "warnings": sorted(set(recording.warnings)),
    }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
