"""The airlock component package's provider: what ``provider/__main__.py`` runs (imports pulumi).

Pulumi's Python component provider (``pulumi.provider.experimental``) infers the package
schema from the components' annotations (``components.COMPONENTS``) and serves Construct: it
maps the camelCase inputs another language sends onto the ``TypedDict`` field names, calls
the component, and maps its annotated outputs back.

``AirlockProvider`` adds one thing to the SDK's ``ComponentProvider``: the SDK wraps every
exception a component's ``__init__`` raises into a generic error carrying a Python traceback;
airlock's input problems (``InputPropertiesError``: the field path in the caller's spelling
and the reason) are re-raised as they are, so the engine reports them per property, in every
language, like any provider's input errors. This is why the entry point hosts the provider
itself instead of calling ``component_provider_host`` (which builds the SDK's class).
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from typing import Any

import pulumi
from pulumi.errors import InputPropertiesError, InputPropertyError, InputPropertyErrorDetails
from pulumi.provider import main as serve
from pulumi.provider.experimental.analyzer import PropertyDefinition
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.provider import ConstructResult
from pulumi.provider.server import ComponentInitError

from ..secrets import is_secret_key
from .components import COMPONENTS
from .inputs import camel_path, settle, summary

__all__ = ["NAME", "AirlockProvider", "main", "package_version", "schema"]

NAME = "airlock"
"""The package name: type tokens are ``airlock:index:<Component>``, as the Python classes register."""


def package_version() -> str:
    """The installed airlock's version (pyproject.toml): the schema's version."""
    try:
        return installed_version("airlock")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree without install
        return "0.0.0"


class AirlockProvider(ComponentProvider):
    def __init__(self, version: str | None = None) -> None:
        super().__init__(list(COMPONENTS), NAME, version=version or package_version())
        assert self.schema is not None
        document = _markdown(json.loads(self.schema))
        # What the analyzer cannot see: which outputs are secrets, and which inputs (the
        # credential-named strings, airlock.secrets' rule) generated SDKs should send as secrets.
        for component in COMPONENTS:
            outputs = document["resources"][f"{NAME}:index:{component.__name__}"]["properties"]
            for name in getattr(component, "_secret_outputs", ()):
                outputs[camel_path((name,))]["secret"] = True
        for definition in document["types"].values():
            for name, prop in definition.get("properties", {}).items():
                if prop.get("type") == "string" and is_secret_key(name):
                    prop["secret"] = True
        self.schema = json.dumps(document)

    def construct(
        self,
        name: str,
        resource_type: str,
        inputs: pulumi.Inputs,
        options: pulumi.ResourceOptions | None = None,
    ) -> ConstructResult:
        self.validate_resource_type(self._name, resource_type)
        component = self._component_defs[resource_type.rsplit(":", 1)[-1]]
        # Before the SDK maps names: it keeps only the properties the schema has (a misspelt
        # key would vanish) and maps an object that arrived as an Output to an empty object.
        errors: list[InputPropertyErrorDetails] = []
        plain = {key: settle(value, (key,), _password, errors) for key, value in inputs.items()}
        self._unknown_keys(plain, component.inputs, (), errors)
        if errors:
            raise InputPropertiesError(summary(errors), errors)
        try:
            return super().construct(name, resource_type, plain, options)
        except ComponentInitError as error:
            if isinstance(error.inner, (InputPropertiesError, InputPropertyError)):
                raise error.inner from None
            raise

    def _unknown_keys(
        self,
        value: Any,
        properties: dict[str, PropertyDefinition],
        path: tuple[str | int, ...],
        errors: list[InputPropertyErrorDetails],
    ) -> None:
        """Each key of an object the schema does not declare, and each required property that
        is missing, reported on its path (all at once, in the caller's spelling)."""
        if not isinstance(value, dict):
            return
        for key, prop in properties.items():
            if not prop.optional and value.get(key) is None:
                errors.append({"property_path": camel_path((*path, key)), "reason": "is required"})
        for key, item in value.items():
            if key not in properties:
                known = ", ".join(sorted(properties))
                errors.append(
                    {
                        "property_path": camel_path((*path, key)),
                        "reason": f"is not a property here (misspelt?); the properties are: {known}",
                    }
                )
                continue
            self._descend(item, properties[key], (*path, key), errors)

    def _descend(
        self,
        value: Any,
        prop: PropertyDefinition,
        path: tuple[str | int, ...],
        errors: list[InputPropertyErrorDetails],
    ) -> None:
        if prop.ref:
            definition = self.get_type_definition(prop)  # None: any value
            if definition is not None and not definition.enum:
                self._unknown_keys(value, definition.properties, path, errors)
        elif prop.items is not None and isinstance(value, list):
            for index, item in enumerate(value):
                self._descend(item, prop.items, (*path, index), errors)
        elif prop.additional_properties is not None and isinstance(value, dict):
            for key, item in value.items():
                self._descend(item, prop.additional_properties, (*path, key), errors)


def _password(path: tuple[str | int, ...]) -> bool:
    """A registry login's password (schema names): it only reaches a pull Secret, so it may
    stay unknown in a preview."""
    return len(path) >= 3 and path[-1] == "password" and path[-3] == "registryCredentials"


def _markdown(node: Any) -> Any:
    """Descriptions come from docstrings (reStructuredText ``code``); a schema's are Markdown."""
    if isinstance(node, dict):
        return {
            key: value.replace("``", "`")
            if key == "description" and isinstance(value, str)
            else _markdown(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_markdown(item) for item in node]
    return node


def schema(version: str | None = None) -> dict[str, Any]:
    """The package schema, as the analyzer infers it (no Pulumi CLI involved)."""
    text = AirlockProvider(version).schema
    assert text is not None
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def main(argv: list[str] | None = None) -> None:
    """Serve the provider (the language host passes the engine address and flags)."""
    serve(AirlockProvider(), sys.argv[1:] if argv is None else argv)
