"""What counts as a secret in configuration, and how it is kept out of every message (pure).

Two rules, used everywhere a config value could be shown or passed on:

- a **secret-shaped key** names a credential (``password``, ``adminPassword``, ``token``,
  ``apiKey``, ``clientSecret``, ``secretKey``, ``accessKey``, ``privateKey``…);
- a **secret-shaped value** carries one whatever its key: a URL with a password in it
  (``mysql://root:pw@tcp(db:3306)/vc``) or a PEM private key.

Error messages pass every value through :func:`redact`; free-form values (a tenant's chart
``values``) in clear config are checked with :func:`secret_paths` and refused when they hold
one, exactly as clear ``registryCredentials`` passwords are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["SECRET_MASK", "is_secret_key", "is_secret_value", "leaves", "redact", "scrub", "secret_paths"]

SECRET_MASK = "[secret]"

# Compared without '-'/'_' and case: the key ends with one of these words.
_SECRET_WORDS = (
    "password",
    "passwd",
    "passphrase",
    "token",
    "apikey",
    "secretkey",
    "accesskey",
    "privatekey",
    "clientsecret",
    "sharedsecret",
    "credentials",
)
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:]*:[^\s/@]+@")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_URL_PASSWORD_PART = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s/@:'\"]*:)[^\s/@'\"]+@")
_PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)", re.DOTALL
)
MIN_SCRUBBED = 4
"""Shorter secret strings are not searched for in messages (they would match ordinary words);
such values still never appear as a problem's value, which is masked by its key."""


def is_secret_key(key: object) -> bool:
    """True for a mapping key that names a credential."""
    if not isinstance(key, str):
        return False
    folded = key.replace("-", "").replace("_", "").lower()
    return folded.endswith(_SECRET_WORDS)


def is_secret_value(value: object) -> bool:
    """True for a string that carries a credential whatever its key."""
    return isinstance(value, str) and bool(_URL_PASSWORD.search(value) or _PRIVATE_KEY.search(value))


def redact(value: Any, key: object = None) -> Any:
    """``value`` with every secret-shaped part replaced by ``[secret]`` (a copy; for messages)."""
    if key is not None and is_secret_key(key) and value not in (None, "", {}, []):
        return SECRET_MASK
    if isinstance(value, dict):
        return {item_key: redact(item, item_key) for item_key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(item) for item in value)
    if is_secret_value(value):
        return SECRET_MASK
    return value


def _holds_value(value: Any) -> bool:
    """A credential could be in it: a non-empty string or a number (not a flag), or a container
    holding one (``password: {value: …}``, ``token: ["…"]``)."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (str, int, float)):
        return value != ""
    if isinstance(value, dict):
        return any(_holds_value(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_value(item) for item in value)
    return False


def leaves(value: Any) -> Iterator[str]:
    """Every scalar inside ``value`` as text (what a secret config value could leak as)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from leaves(item)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def scrub(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with every known secret string (at least :data:`MIN_SCRUBBED` characters), every
    password inside a URL and every PEM private key replaced by ``[secret]`` (for messages)."""
    for secret in sorted({item for item in known if len(item) >= MIN_SCRUBBED}, key=len, reverse=True):
        text = text.replace(secret, SECRET_MASK)
    text = _URL_PASSWORD_PART.sub(lambda match: f"{match.group(1)}{SECRET_MASK}@", text)
    return _PRIVATE_KEY_BLOCK.sub(SECRET_MASK, text)


def secret_paths(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Paths of the values under secret-shaped keys, and of secret-shaped strings."""
    if isinstance(value, dict):
        for key, item in value.items():
            if is_secret_key(key) and _holds_value(item):
                yield (*path, str(key))
            else:
                yield from secret_paths(item, (*path, str(key)))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from secret_paths(item, (*path, index))
    elif is_secret_value(value):
        yield path
