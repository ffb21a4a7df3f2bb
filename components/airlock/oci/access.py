"""Who may talk to which registry, and how: logins from auth files, trust per registry.

Kept apart from the supply chain so that ``airlock images copy`` loads neither the lockfile
(PyYAML) nor the policy (pydantic): a copy's start-up time is most of a re-copy's.

Logins come, in this order of precedence (later wins for the same registry):

1. the stack's own registry, with ``--stack-login``: ``pulumi stack output
   registryPullSecretPayload --show-secrets`` (the Pulumi CLI, run in the project directory);
2. the auth files: every ``--authfile`` in order; without one, ``REGISTRY_AUTH_FILE``; without
   that, the files skopeo and podman read (containers-auth.json(5)):
   ``$XDG_RUNTIME_DIR/containers/auth.json``, ``~/.config/containers/auth.json`` and
   ``~/.docker/config.json`` — for these, the first file that has a registry wins.

Logins kept only by a credential helper (``credsStore``/``credHelpers``) are not read.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..images.dockerconfig import RegistryCredential, parse_dockerconfigjson
from ..images.errors import PolicyError
from .client import RegistryTransport

if TYPE_CHECKING:
    from ..images.policy import ImagePolicy

__all__ = [
    "AccessError",
    "auth_files",
    "load_credentials",
    "stack_registry_login",
    "transports_for",
]

STACK_LOGIN_OUTPUT = "registryPullSecretPayload"


class AccessError(RuntimeError):
    """An auth file or the stack's login could not be read; the message says which and why."""


def _default_auth_files() -> list[Path]:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    candidates = [Path(runtime) / "containers" / "auth.json"] if runtime else []
    home = Path.home()
    candidates += [home / ".config" / "containers" / "auth.json", home / ".docker" / "config.json"]
    return [path for path in candidates if path.is_file()]


def auth_files(explicit: Sequence[str] | str | None) -> tuple[list[Path], bool]:
    """The auth files to read, and whether they were named (``--authfile``/the variable)."""
    if isinstance(explicit, str):
        explicit = [explicit]
    if explicit:
        return [Path(path) for path in explicit], True
    variable = os.environ.get("REGISTRY_AUTH_FILE")
    if variable:
        return [Path(variable)], True
    return _default_auth_files(), False


def load_credentials(
    authfiles: Sequence[str] | str | None = None,
    *,
    base: Mapping[str, RegistryCredential] | None = None,
) -> dict[str, RegistryCredential]:
    """Logins from ``base`` (the stack's own), overridden by the auth files. No file: anonymous."""
    credentials = dict(base or {})
    paths, named = auth_files(authfiles)
    # Named files: the last one wins. Default locations: the first one that has a registry wins.
    for path in paths if named else list(reversed(paths)):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise AccessError(
                f"auth file {path}: cannot read it ({error.strerror}); pass an existing file with --authfile"
            ) from None
        try:
            credentials.update(parse_dockerconfigjson(text))
        except PolicyError as error:
            raise AccessError(f"auth file {path}: {error}") from None
    return credentials


def stack_registry_login(project_dir: Path, stack: str) -> dict[str, RegistryCredential]:
    """The login of the stack's deployed registry, read through the Pulumi CLI.

    The value is a secret: it is parsed, never printed, and not written anywhere."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise AccessError(
            "--stack-login needs the Pulumi CLI on PATH; without it, save the login with "
            f"`pulumi stack output {STACK_LOGIN_OUTPUT} --show-secrets --stack {stack} > auth.json` "
            "elsewhere and pass --authfile auth.json"
        )
    command = [pulumi, "stack", "output", STACK_LOGIN_OUTPUT, "--show-secrets", "--json", "--stack", stack]
    try:
        result = subprocess.run(
            command, cwd=project_dir, capture_output=True, text=True, timeout=300, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise AccessError(f"`pulumi stack output {STACK_LOGIN_OUTPUT}` did not run: {error}") from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise AccessError(
            f"`pulumi stack output {STACK_LOGIN_OUTPUT} --stack {stack}` failed ({last}); the stack "
            "must be deployed with a registry airlock runs (registry.mode in-cluster or docker)"
        )
    try:
        value = json.loads(result.stdout)
        text = value if isinstance(value, str) else json.dumps(value)
        return parse_dockerconfigjson(text)
    except (ValueError, PolicyError) as error:
        reason = error if isinstance(error, PolicyError) else "not JSON"
        raise AccessError(f"stack output {STACK_LOGIN_OUTPUT} of {stack}: {reason}") from None


def transports_for(
    policy: ImagePolicy | None, ca_files: Mapping[str, str], insecure: Iterable[str]
) -> dict[str, RegistryTransport]:
    """Trust per registry: the policy's ``registries`` plus command-line additions."""
    transports: dict[str, RegistryTransport] = {}
    if policy is not None:
        for host, trust in policy.registries.items():
            transports[host] = RegistryTransport(ca_bundle=trust.ca_bundle, insecure=trust.insecure)
    for host, path in ca_files.items():
        try:
            transports[host] = RegistryTransport(ca_bundle=Path(path).read_text(encoding="utf-8"))
        except OSError as error:
            raise AccessError(
                f"--ca-file {host}={path}: cannot read it ({error.strerror}); pass the PEM file of "
                "the CA that signed the registry's certificate"
            ) from None
    for host in insecure:
        transports[host] = RegistryTransport(insecure=True)
    return transports
