"""``.dockerconfigjson`` payloads: one pull secret for several registries.

Shape: ``{"auths": {"<host[:port]>": {"username", "password", "auth"}}}`` where ``auth`` is
base64(``username:password``). Every entry carries all three: kubelet and Docker read
``username``/``password`` or ``auth``; skopeo, podman and containerd's CRI read only ``auth``.

Keys are registry hosts exactly as image references name them, without scheme or path:
``127.0.0.1:5000`` and ``localhost:5000`` are different registries to every client. Docker Hub
credentials are written twice: under ``docker.io`` (kubelet, containers/image, containerd) and
under ``https://index.docker.io/v1/`` (the Docker CLI and daemon look only there).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import PolicyError
from .reference import DEFAULT_DOMAIN, InvalidReferenceError, normalize_domain, validate_domain

__all__ = [
    "DOCKER_HUB_LEGACY_KEY",
    "RegistryCredential",
    "check_username",
    "parse_dockerconfigjson",
    "registry_key",
    "render_dockerconfigjson",
    "username_field",
]

DOCKER_HUB_LEGACY_KEY = "https://index.docker.io/v1/"


def check_username(username: str) -> str:
    """A registry user name that fits ``auth`` (base64 of ``user:password``) and htpasswd: the one
    rule every login goes through (stack config, the registry's own user, ImageConfig)."""
    if not username:
        raise PolicyError("username", username, "must not be empty", "set the registry user")
    if ":" in username:
        raise PolicyError(
            "username",
            username,
            "must not contain ':' (it separates user and password in 'auth' and in htpasswd)",
            "use the registry's user or robot-account name without ':'",
        )
    return username


def username_field(username: str) -> str:
    """:func:`check_username` for a pydantic validator (a ValueError reading ``why; fix``)."""
    try:
        return check_username(username)
    except PolicyError as error:
        raise ValueError(f"{error.reason}; {error.fix}") from None


@dataclass(frozen=True, slots=True)
class RegistryCredential:
    username: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        check_username(self.username)
        if not self.password:
            raise PolicyError("password", "[secret]", "must not be empty", "set the registry password")

    @property
    def auth(self) -> str:
        return base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")


def registry_key(registry: str) -> str:
    """Normalise a registry name to the key clients match: ``host[:port]``, no scheme, no path."""
    text = registry.strip()
    if text == DOCKER_HUB_LEGACY_KEY:
        return DEFAULT_DOMAIN
    for scheme in ("https://", "http://"):
        if text.startswith(scheme):
            text = text[len(scheme) :]
    host, _, rest = text.partition("/")
    if rest and rest.strip("/") not in ("v1", "v2"):
        raise PolicyError(
            "registry",
            registry,
            "a pull-secret key is a registry host, not a repository path",
            f"use {host!r}",
        )
    try:
        validate_domain(host)
    except InvalidReferenceError as error:
        raise PolicyError("registry", registry, error.reason, "write it as host[:port]") from None
    return normalize_domain(host)


def render_dockerconfigjson(credentials: Mapping[str, RegistryCredential]) -> str:
    """The JSON text of a ``kubernetes.io/dockerconfigjson`` Secret, keys sorted."""
    auths: dict[str, dict[str, str]] = {}
    for registry, credential in credentials.items():
        key = registry_key(registry)
        if key in auths:
            raise PolicyError(
                "registries",
                registry,
                f"names the same registry as another entry ({key})",
                "keep one credential per registry",
            )
        entry = {"username": credential.username, "password": credential.password, "auth": credential.auth}
        auths[key] = entry
        if key == DEFAULT_DOMAIN:
            auths[DOCKER_HUB_LEGACY_KEY] = entry
    return json.dumps({"auths": dict(sorted(auths.items()))}, sort_keys=True, separators=(",", ":"))


def parse_dockerconfigjson(text: str) -> dict[str, RegistryCredential]:
    """Read an auth file (``--authfile``, ``REGISTRY_AUTH_FILE``, a pull secret's payload).

    Keys are normalised with :func:`registry_key`; ``auth`` wins over username/password when
    both are present, as it does for containers/image.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise PolicyError(
            "authfile", "<file>", f"is not JSON: {error}", "pass the file `docker login`/`podman login` wrote"
        ) from None
    auths = data.get("auths") if isinstance(data, dict) else None
    if auths is None and isinstance(data, dict) and ("credsStore" in data or "credHelpers" in data):
        auths = {}  # logins kept by a credential helper only: nothing readable here
    if not isinstance(auths, dict):
        raise PolicyError(
            "authfile",
            "<file>",
            "has no 'auths' mapping",
            'expected {"auths": {"<registry>": {"auth": "<base64 user:password>"}}}',
        )
    credentials: dict[str, RegistryCredential] = {}
    for registry, entry in auths.items():
        relogin = f"log in again (`podman login {registry}`) or write username and password"
        if not isinstance(entry, dict):
            raise PolicyError(f"auths[{registry!r}]", "<entry>", "must be a mapping", relogin)
        if entry.get("auth"):
            try:
                decoded = base64.b64decode(entry["auth"], validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise PolicyError(
                    f"auths[{registry!r}].auth", "[secret]", "is not base64 of 'user:password'", relogin
                ) from None
            username, sep, password = decoded.partition(":")
            if not sep:
                raise PolicyError(f"auths[{registry!r}].auth", "[secret]", "decodes without ':'", relogin)
        else:
            username, password = entry.get("username", ""), entry.get("password", "")
        if not username and not password:
            continue  # credential-helper entries carry nothing we can use
        credentials[registry_key(registry)] = RegistryCredential(username, password)
    return credentials
