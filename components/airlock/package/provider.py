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
from pulumi.errors import InputPropertiesError, InputPropertyError
from pulumi.provider import main as serve
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.provider import ConstructResult
from pulumi.provider.server import ComponentInitError

from .components import COMPONENTS
from .inputs import SECRET_INPUTS, settled

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
        self.schema = json.dumps(_markdown(json.loads(self.schema)))

    def construct(
        self,
        name: str,
        resource_type: str,
        inputs: pulumi.Inputs,
        options: pulumi.ResourceOptions | None = None,
    ) -> ConstructResult:
        # A top-level input the engine sent as one Output (a secret nested in an object, from
        # an SDK without output values): its value, and its secretness noted for the component.
        plain: dict[str, Any] = {}
        whole_secrets: set[str] = set()
        for key, value in inputs.items():
            if isinstance(value, pulumi.Output):
                known, inner, secret = settled(value)
                if known:
                    value = inner
                    if secret:
                        whole_secrets.add(key)
            plain[key] = value
        token = SECRET_INPUTS.set(frozenset(whole_secrets))
        try:
            return super().construct(name, resource_type, plain, options)
        except ComponentInitError as error:
            if isinstance(error.inner, (InputPropertiesError, InputPropertyError)):
                raise error.inner from None
            raise
        finally:
            SECRET_INPUTS.reset(token)


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
