"""Validate custom resources as the API server does: defaults, structural schema, CEL rules.

The schemas are transcriptions (``tests/components/gateway_schemas.py``) in the CRD's own
``openAPIV3Schema`` form, ``x-kubernetes-validations`` included. The API server applies
``default``s, prunes or (with strict field validation, as server-side apply requests it)
rejects unknown fields, checks the structural schema, then evaluates every CEL rule with
``self`` bound to its node. Here: defaults by hand, the structural part with jsonschema (every
object without ``x-kubernetes-preserve-unknown-fields`` is closed), and the rules with
cel-python, a real CEL implementation. Transition rules (``oldSelf``) only run on updates and
are skipped.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass
from functools import cache
from typing import Any

import celpy
import jsonschema

__all__ = ["CrdError", "apply_defaults", "rules_of", "validate_custom_resource"]


@dataclass(frozen=True)
class CrdError:
    path: str
    message: str
    rule: str | None = None
    """The CEL rule that failed (None: a structural error)."""


def apply_defaults(schema: dict[str, Any], value: Any) -> Any:
    """A copy of ``value`` with the schema's ``default``s filled in, as the API server does."""
    value = deepcopy(value)
    _defaults(schema, value)
    return value


def _defaults(schema: dict[str, Any], value: Any) -> None:
    if isinstance(value, dict):
        for key, sub in schema.get("properties", {}).items():
            if key not in value and "default" in sub:
                value[key] = deepcopy(sub["default"])
            if key in value:
                _defaults(sub, value[key])
    elif isinstance(value, list) and "items" in schema:
        for item in value:
            _defaults(schema["items"], item)


def _structural(schema: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of a CRD schema: objects with properties are closed unless they preserve
    unknown fields; the Kubernetes extensions are dropped."""
    out: dict[str, Any] = {
        key: value
        for key, value in schema.items()
        if not key.startswith("x-kubernetes-")
        and key not in ("properties", "items", "default", "description")
    }
    if "properties" in schema:
        out["properties"] = {key: _structural(sub) for key, sub in schema["properties"].items()}
        if not schema.get("x-kubernetes-preserve-unknown-fields"):
            out.setdefault("additionalProperties", False)
    if "items" in schema:
        out["items"] = _structural(schema["items"])
    if schema.get("format") == "int32":
        out["minimum"] = max(out.get("minimum", -(2**31)), -(2**31))
        out["maximum"] = min(out.get("maximum", 2**31 - 1), 2**31 - 1)
    return out


def rules_of(schema: dict[str, Any], path: str = "") -> list[tuple[str, str, str]]:
    """Every (path, rule, message) in a schema; ``[]`` marks list items."""
    found = [(path, rule["rule"], rule["message"]) for rule in schema.get("x-kubernetes-validations", [])]
    for key, sub in schema.get("properties", {}).items():
        found += rules_of(sub, f"{path}.{key}")
    if "items" in schema:
        found += rules_of(schema["items"], f"{path}[]")
    return found


@cache
def _program(rule: str) -> Any:
    environment = celpy.Environment()
    return environment.program(environment.compile(rule))


def _cel(schema: dict[str, Any], value: Any, path: str, errors: list[CrdError]) -> None:
    for rule in schema.get("x-kubernetes-validations", []):
        if "oldSelf" in rule["rule"]:
            continue
        try:
            result = _program(rule["rule"]).evaluate({"self": celpy.json_to_cel(value)})
        except celpy.CELEvalError as error:  # the API server rejects a rule that errors
            result = error
        if isinstance(result, celpy.CELEvalError) or not bool(result):
            errors.append(CrdError(path or ".", rule["message"], rule["rule"]))
    if isinstance(value, dict):
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                _cel(sub, value[key], f"{path}.{key}", errors)
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            _cel(schema["items"], item, f"{path}[{index}]", errors)


def validate_custom_resource(schema: dict[str, Any], manifest: dict[str, Any]) -> list[CrdError]:
    """Every error the API server would report for ``manifest`` (``schema``: the version's
    ``openAPIV3Schema``); empty when it would be admitted."""
    manifest = apply_defaults(schema, manifest)
    validator = jsonschema.Draft7Validator(_structural(schema))
    errors = [
        CrdError("." + ".".join(map(str, error.absolute_path)), error.message)
        for error in validator.iter_errors(manifest)
    ]
    if errors:
        return errors  # CEL runs on structurally valid objects only
    _cel(schema, manifest, "", errors)
    return errors
