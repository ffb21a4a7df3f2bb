"""Read Pulumi.yaml and Pulumi.<stack>.yaml as the Pulumi CLI would, without the CLI.

Mirrors the CLI's merge (pkg/workspace/config.go ``mergeConfig``): stack values win, project
``default``/``value`` fill keys the stack does not set, and a project-namespaced key with
neither that the stack lacks is a missing required key. Values reach the program as strings;
structured values as JSON. ``secure:`` values cannot be decrypted offline: they become an
opaque placeholder and their whole top-level key is marked secret, as the engine does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..yaml_io import YamlError, load_bytes

__all__ = ["SECRET_PLACEHOLDER", "StackFiles", "StackFilesError", "read_stack_files"]

SECRET_PLACEHOLDER = "offline-plan-secret-placeholder"


class StackFilesError(ValueError):
    pass


@dataclass(frozen=True)
class StackFiles:
    project: str
    stack: str
    config: dict[str, str]
    secret_keys: frozenset[str]
    main: str | None = None
    """Pulumi.yaml ``main``: the program's file or folder, relative to the project."""


def _replace_secure(value: Any) -> tuple[Any, bool]:
    """Replace every ``{secure: …}`` by a placeholder that names its ciphertext (a SHA-256 of
    the committed ciphertext, never the value): a rotated secret changes the placeholder, so
    the plan shows the resources it flows into as changed. Report whether any was found."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            cipher = hashlib.sha256(str(value["secure"]).encode()).hexdigest()[:16]
            return f"{SECRET_PLACEHOLDER}-{cipher}", True
        found = False
        result = {}
        for key, item in value.items():
            result[key], item_found = _replace_secure(item)
            found = found or item_found
        return result, found
    if isinstance(value, list):
        pairs = [_replace_secure(item) for item in value]
        return [item for item, _ in pairs], any(found for _, found in pairs)
    return value, False


def _as_config_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, sort_keys=True)


def _qualify(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = load_bytes(path.read_bytes(), source=str(path)) or {}
    except FileNotFoundError:
        raise StackFilesError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise StackFilesError(f"{path} is a directory, not a stack file") from None
    except OSError as error:
        raise StackFilesError(f"{path}: cannot read it ({error.strerror})") from None
    except YamlError as error:
        raise StackFilesError(f"{error}") from None
    if not isinstance(data, dict):
        raise StackFilesError(f"{path}: the top level must be a mapping (found a {type(data).__name__})")
    return data


def _mapping(data: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    """``config:`` of a file: a mapping of config keys, or absent."""
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise StackFilesError(
            f"{path}: '{key}:' must be a mapping of config keys to values (found a "
            f"{type(value).__name__}); write e.g. '{key}:\n  airlock:environment: dev'"
        )
    for item in value:
        if not isinstance(item, str):
            raise StackFilesError(f"{path}: config key {item!r} must be a string; quote it")
    return value


def read_stack_files(project_dir: str | Path, stack: str) -> StackFiles:
    root = Path(project_dir)
    project_data = _load_yaml(root / "Pulumi.yaml")
    project = str(project_data.get("name") or "")
    if not project:
        raise StackFilesError(f"{root / 'Pulumi.yaml'} has no 'name'")
    stack_file = root / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        existing = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
        raise StackFilesError(
            f"stack {stack!r} has no {stack_file.name} in {root}; "
            + (f"the stacks here: {', '.join(existing)}" if existing else "there is no stack file here")
            + f" (a new stack: pulumi stack init {stack}, then pulumi config set …)"
        )
    stack_data = _load_yaml(stack_file)
    config: dict[str, str] = {}
    secrets: set[str] = set()
    for key, value in _mapping(stack_data, "config", root / f"Pulumi.{stack}.yaml").items():
        full_key = _qualify(str(key), project)
        plain, secret = _replace_secure(value)
        config[full_key] = _as_config_string(plain)
        if secret:
            secrets.add(full_key)
    missing = []
    for key, declaration in _mapping(project_data, "config", root / "Pulumi.yaml").items():
        full_key = _qualify(str(key), project)
        if full_key in config:
            continue
        if not isinstance(declaration, dict):
            config[full_key] = _as_config_string(declaration)
        elif declaration.get("default") is not None or declaration.get("value") is not None:
            # As the CLI: a null default is no default (pkg/workspace/config.go mergeConfig).
            value = declaration["default"] if declaration.get("default") is not None else declaration["value"]
            config[full_key] = _as_config_string(value)
        elif full_key.startswith(f"{project}:"):
            missing.append(full_key)
    if missing:
        raise StackFilesError(
            f"stack {stack!r} is missing required configuration keys: {', '.join(sorted(missing))}; "
            f"set them in Pulumi.{stack}.yaml"
        )
    main = project_data.get("main")
    if main is not None and not isinstance(main, str):
        raise StackFilesError(f"{root / 'Pulumi.yaml'}: 'main' must be a path (found {main!r})")
    return StackFiles(project=project, stack=stack, config=config, secret_keys=frozenset(secrets), main=main)
