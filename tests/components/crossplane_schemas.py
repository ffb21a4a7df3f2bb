"""The parts of Crossplane v2.3.4's chart values and CRDs that airlock's objects use.

Encoded by hand, our own statement of what we rely on; no upstream file is copied here.

- ``CROSSPLANE_VALUES``: ``cluster/charts/crossplane/values.yaml`` at v2.3.4, the keys airlock
  emits (the chart has no values.schema.json; every object here is closed).
- ``PACKAGE`` (Provider, Function, Configuration, ``pkg.crossplane.io/v1``) and ``IMAGE_CONFIG``
  (``pkg.crossplane.io/v1beta1``): ``openAPIV3Schema`` of ``cluster/crds/pkg.crossplane.io_*.yaml``
  for the fields airlock writes, with their defaults and every ``x-kubernetes-validations`` rule
  on those objects (the rule expressions are what the tests evaluate): the package reference
  rule (one per package kind) and ``matchImages`` non-empty.
"""

from __future__ import annotations

from typing import Any

from .gateway_schemas import BOOLEAN, STRING, crd_object, obj

CROSSPLANE_VALUES = obj(
    image=obj(
        repository=STRING,
        tag=STRING,
        pullPolicy={"enum": ["Always", "IfNotPresent", "Never"]},
        ignoreTag=BOOLEAN,
    ),
    imagePullSecrets={"type": "array", "items": STRING},  # plain names, not {name} objects
    registryCaBundleConfig=obj(name=STRING, key=STRING),
    customAnnotations={"type": "object", "additionalProperties": STRING},
    provider=obj(packages={"type": "array", "items": STRING}),
    configuration=obj(packages={"type": "array", "items": STRING}),
    function=obj(packages={"type": "array", "items": STRING}),
)

PACKAGE_RULE = {
    "message": "must be a fully qualified image name, including the registry, repository, and tag or "
    "digest. For example, 'registry.example.com/repo/package:tag' or "
    "'registry.example.com/repo/package[:tag]@sha256:1234567890abcdef1234567890abcdef1234567890abcdef"
    "1234567890abcdef'.",
    "rule": r"self.matches('^[^\\.\\/]+(\\.[^\\.\\/]+)+(\\/[^\\/:@]+)+(:[^:@]+(@sha256.+)?|@sha256.+)$')",
}


def _package(runtime: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "package": {"type": "string", "x-kubernetes-validations": [PACKAGE_RULE]},
        "packagePullPolicy": {"type": "string", "default": "IfNotPresent"},
        "packagePullSecrets": {
            "type": "array",
            "items": {"type": "object", "properties": {"name": {"type": "string", "default": ""}}},
        },
        "revisionActivationPolicy": {"type": "string", "default": "Automatic"},
        "revisionHistoryLimit": {"type": "integer", "default": 1},
        "ignoreCrossplaneConstraints": {"type": "boolean", "default": False},
        "skipDependencyResolution": {"type": "boolean", "default": False},
        "commonLabels": {"type": "object", "additionalProperties": STRING},
        "commonAnnotations": {"type": "object", "additionalProperties": STRING},
    }
    if runtime:
        spec["runtimeConfigRef"] = {
            "type": "object",
            "default": {"name": "default"},
            "required": ["name"],
            "properties": {"apiVersion": STRING, "kind": STRING, "name": STRING},
        }
    return {
        "type": "object",
        "properties": {
            "apiVersion": STRING,
            "kind": STRING,
            "metadata": {"type": "object"},
            "spec": {"type": "object", "required": ["package"], "properties": spec},
        },
    }


PACKAGE = _package(runtime=True)
CONFIGURATION = _package(runtime=False)

IMAGE_CONFIG = {
    "type": "object",
    "properties": {
        "apiVersion": STRING,
        "kind": STRING,
        "metadata": {"type": "object"},
        "spec": {
            "type": "object",
            "required": ["matchImages"],
            "properties": {
                "matchImages": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["prefix"],
                        "properties": {
                            "prefix": STRING,
                            "type": {"type": "string", "enum": ["Prefix"], "default": "Prefix"},
                        },
                    },
                    "x-kubernetes-validations": [
                        {"message": "matchImages should have at least one element.", "rule": "size(self) > 0"}
                    ],
                },
                "registry": crd_object(
                    authentication={
                        "type": "object",
                        "required": ["pullSecretRef"],
                        "properties": {"pullSecretRef": crd_object(name={"type": "string", "default": ""})},
                    }
                ),
                "rewriteImage": {"type": "object", "required": ["prefix"], "properties": {"prefix": STRING}},
            },
        },
    },
}

CUSTOM_RESOURCES: dict[tuple[str, str], dict[str, Any]] = {
    ("pkg.crossplane.io/v1", "Provider"): PACKAGE,
    ("pkg.crossplane.io/v1", "Function"): PACKAGE,
    ("pkg.crossplane.io/v1", "Configuration"): CONFIGURATION,
    ("pkg.crossplane.io/v1beta1", "ImageConfig"): IMAGE_CONFIG,
}
