"""A component package input, from any language, turned into a validated stack (imports pulumi).

Another language sends plain data, with ``Output``s where a value is secret or comes from
another resource (``pulumi.provider.server``'s Construct). airlock plans from values: which
images, which Secrets, which charts — so every input is made plain first. An Output whose
value the engine already sent (a secret, a known output of another resource) is read as its
value; its secretness is kept (its config key is treated as secret config, exactly like a
``--secret`` value in a stack file). A value still unknown (a resource the same deployment has
yet to create) cannot decide a plan: that is an error naming the field, except for a registry
password, which only ever reaches a pull Secret and stays an Output.

The plain data then goes through the stack's own loader (``config.load_stack_config``), so a
component used from TypeScript is validated exactly like a stack file, and its problems come
back as ``InputPropertiesError`` with the paths in the caller's (camelCase) spelling.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.errors import InputPropertiesError, InputPropertyErrorDetails
from pulumi.output import contains_unknowns

from ..config import ConfigError, LoadedConfig, load_stack_config
from ..image_config import RegistryLoginInput
from ..images.errors import PolicyError, PolicyErrors
from ..images.lock import LOCK_VERSION, Lockfile
from ..resources import as_secret

__all__ = [
    "PlainInputs",
    "SecretValue",
    "camel_path",
    "load",
    "lockfile",
    "logins",
    "plain_inputs",
    "settle",
    "settled",
    "summary",
]

Path = tuple[str | int, ...]
DEFERRED = "airlock-deferred-secret"
"""What the loader sees for a registry password that is still an Output (it checks only that
one is given)."""
_SNAKE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)+")


def _camel(key: str) -> str:
    if not _SNAKE.fullmatch(key):
        return key
    first, *rest = key.split("_")
    return first + "".join(word[:1].upper() + word[1:] for word in rest)


def camel_path(path: Path) -> str:
    """``("images", "registry_credentials", "r.example.com")`` ->
    ``images.registryCredentials["r.example.com"]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            text += ("." if text else "") + _camel(part)
        else:
            text += f'["{part}"]'
    return text


@dataclass
class PlainInputs:
    data: dict[str, Any]
    """The inputs as plain data (keys as the provider mapped them: snake_case field names)."""
    secret: set[Path] = field(default_factory=set)
    """Paths of the values that arrived as secrets."""
    deferred: dict[Path, pulumi.Output[Any]] = field(default_factory=dict)
    """Registry passwords still unknown: they stay Outputs (the pull Secret's payload)."""


@dataclass(frozen=True)
class SecretValue:
    """A leaf that arrived as a secret, carried through the SDK's mapping of input names (which
    copies leaves as they are, and passes integers through ``int()``)."""

    value: Any

    def __int__(self) -> int:
        return int(self.value)


def settled(output: pulumi.Output[Any]) -> tuple[bool, Any, bool]:
    """(known, value, secret) of an Output whose data is already there (what Construct hands a
    provider: ``rpc.deserialize_properties`` builds each from a completed future); an Output
    still being computed in this process counts as not known."""
    data = getattr(output, "_data", None)
    if not isinstance(data, asyncio.Future) or not data.done() or data.cancelled() or data.exception():
        return False, None, False
    settled = data.result()
    if not settled.is_known or contains_unknowns(settled.value):
        return False, None, bool(settled.is_secret)
    return True, settled.value, bool(settled.is_secret)


async def _resolved(value: Any) -> Any:
    return value


def _unknown_secret() -> pulumi.Output[Any]:
    """A secret whose value a preview does not know yet."""
    return pulumi.Output(set(), _resolved(None), _resolved(False), _resolved(True))


UNRESOLVED = object()
"""Where :func:`settle` found a value not known yet (reported; never used)."""
UNKNOWN_REASON = (
    "is not known yet (an output of a resource this deployment has not created); airlock decides "
    "from it which images, Secrets and charts to deploy, so it must be a plain value or an output "
    "that already exists"
)


def settle(
    value: Any,
    path: Path,
    deferrable: Callable[[Path], bool],
    errors: list[InputPropertyErrorDetails],
    secret: bool = False,
) -> Any:
    """``value`` with every Output that has a value replaced by it, at any depth; each leaf
    that was (inside) a secret becomes a :class:`SecretValue`. A value not known yet is an
    error naming its path, unless ``deferrable(path)``: then it stays an Output (a secret one)."""
    if isinstance(value, pulumi.Output):
        known, inner, is_secret = settled(value)
        if known:
            return settle(inner, path, deferrable, errors, secret or is_secret)
        if deferrable(path):
            return value
        errors.append({"property_path": camel_path(path), "reason": UNKNOWN_REASON})
        return UNRESOLVED
    if isinstance(value, SecretValue):
        return settle(value.value, path, deferrable, errors, True)
    if isinstance(value, Mapping):
        return {
            str(key): settle(item, (*path, str(key)), deferrable, errors, secret)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [settle(item, (*path, index), deferrable, errors, secret) for index, item in enumerate(value)]
    if contains_unknowns(value):
        if deferrable(path):
            return _unknown_secret()
        errors.append({"property_path": camel_path(path), "reason": UNKNOWN_REASON})
        return UNRESOLVED
    return SecretValue(value) if secret else value


def plain_inputs(args: Mapping[str, Any], deferrable: Callable[[Path], bool]) -> PlainInputs:
    """``args`` as plain data: settled (:func:`settle`; raises ``InputPropertiesError`` naming
    each value not known yet), secrets noted by path, deferred passwords kept as Outputs."""
    errors: list[InputPropertyErrorDetails] = []
    settled_args = {
        key: settle(value, (key,), deferrable, errors) for key, value in args.items() if value is not None
    }
    if errors:
        raise InputPropertiesError(summary(errors), errors)
    result = PlainInputs({})

    def strip(value: Any, path: Path) -> Any:
        if isinstance(value, SecretValue):
            result.secret.add(path)
            return value.value
        if isinstance(value, pulumi.Output):  # a deferred password (settle kept it)
            result.deferred[path] = value
            return DEFERRED
        if isinstance(value, Mapping):
            return {key: strip(item, (*path, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [strip(item, (*path, index)) for index, item in enumerate(value)]
        return value

    result.data = {key: strip(value, (key,)) for key, value in settled_args.items()}
    return result


def summary(errors: Sequence[InputPropertyErrorDetails]) -> str:
    count = f"{len(errors)} problem{'s' if len(errors) != 1 else ''}"
    lines = [f"{count} in the airlock inputs; nothing was deployed:"]
    lines += [f"  - {error['property_path']}: {error['reason']}" for error in errors]
    return "\n".join(lines)


def lockfile(digests: Mapping[str, Any] | None, where: str) -> Lockfile:
    """A lockfile from ``{source reference: digest}`` (the ``images`` of an ``images.lock``)."""
    try:
        return Lockfile.from_data(
            {
                "version": LOCK_VERSION,
                "images": {key: {"digest": value} for key, value in (digests or {}).items()},
            }
        )
    except PolicyErrors as error:
        problems = error.problems
    except PolicyError as error:
        problems = [error]
    errors: list[InputPropertyErrorDetails] = []
    for problem in problems:
        key_path = problem.path.removeprefix("images.lock").removesuffix(".digest")
        reason = f"{problem.value!r}: {problem.reason}" + (f"; {problem.fix}" if problem.fix else "")
        errors.append(
            {"property_path": where + key_path.replace("['", '["').replace("']", '"]'), "reason": reason}
        )
    raise InputPropertiesError(summary(errors), errors)


_SNAKE_SEGMENT = re.compile(r"(?:(?<=^)|(?<=[.\]]))([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?=$|[.\[])")


@functools.cache
def _field_names() -> frozenset[str]:
    """Every settings field name (snake_case): pydantic echoes these in its error locations."""
    from ..config import StackConfig
    from ..consumers import CONSUMERS
    from .codegen import models_of

    models = models_of([StackConfig, *(consumer.settings for consumer in CONSUMERS)])
    return frozenset(name for model in models for name in model.model_fields)


def _translate(path: str, prefixes: Sequence[tuple[str, str]]) -> str:
    """A stack path as the caller's input path: the component's prefix, and field names in
    camelCase (the provider hands the loader snake_case field names, which pydantic echoes;
    a map key the caller chose, ``web_app``, stays as written)."""
    names = _field_names()
    return _SNAKE_SEGMENT.sub(
        lambda match: _camel(match.group(1)) if match.group(1) in names else match.group(1),
        _prefixed(path, prefixes),
    )


_CONFIG_SET = re.compile(r"pulumi config set --secret --path '[^']*'(?: <[a-z]+>)?")
_STACK_PATH = re.compile(r"airlock:[A-Za-z][\w.\-/]*(?:\[[^\]]*\][\w.\-/]*)*")


def _reason(text: str, prefixes: Sequence[tuple[str, str]]) -> str:
    """A loader message in the caller's terms: input paths for config paths, a secret input
    for ``pulumi config set --secret``."""
    text = _CONFIG_SET.sub("pass it as a secret (pulumi.secret(...), config.requireSecret(...))", text)
    text = text.replace("is not a secret config value", "is not a secret")
    text = text.replace("values from secret config stay secret", "secret values stay secret")
    return _STACK_PATH.sub(lambda match: _translate(match.group(0), prefixes), text)


def _prefixed(path: str, prefixes: Sequence[tuple[str, str]]) -> str:
    for stack_prefix, facade_prefix in prefixes:
        if path == stack_prefix or path.startswith((f"{stack_prefix}.", f"{stack_prefix}[")):
            rest = path[len(stack_prefix) :]
            if not facade_prefix:
                return rest.removeprefix(".")
            return facade_prefix + rest
    return path.removeprefix("airlock:")


def load(
    keys: Mapping[str, Any],
    *,
    secret: set[str],
    lock: Lockfile,
    prefixes: Sequence[tuple[str, str]],
) -> LoadedConfig:
    """Validate ``keys`` (stack config keys without ``airlock:`` -> plain data) as the stack
    loader does; ``secret``: the keys that came (partly) as secrets; ``prefixes``: stack path ->
    input path, longest first, for the messages."""
    raw = {
        f"airlock:{key}": value if isinstance(value, str) else json.dumps(value)
        for key, value in keys.items()
    }
    try:
        return load_stack_config(
            raw,
            {f"airlock:{key}" for key in secret},
            stack=pulumi.get_stack(),
            lock=lock,
        )
    except ConfigError as error:
        errors: list[InputPropertyErrorDetails] = []
        for problem, line in zip(error.problems, error.rendered, strict=True):
            errors.append(
                {
                    "property_path": _translate(problem.path, prefixes),
                    "reason": _reason(line.removeprefix(f"{problem.path}: "), prefixes),
                }
            )
        raise InputPropertiesError(summary(errors), errors) from None


def logins(loaded: LoadedConfig, deferred: Mapping[str, pulumi.Output[Any]]) -> dict[str, RegistryLoginInput]:
    """The pull secrets' logins: each password a secret Output (a deferred one as given)."""
    return {
        host: RegistryLoginInput(
            username=login.username, password=as_secret(deferred.get(host, login.password))
        )
        for host, login in loaded.config.registry_credentials.items()
    }
