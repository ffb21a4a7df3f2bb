"""Container image references: the distribution/reference grammar with Docker normalisation.

The grammar follows github.com/distribution/reference (``reference.go``, ``regexp.go`` and
``normalize.go``)::

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [ domain "/" ] path
    domain     := host [ ":" port ]
    host       := domain-name | "[" ipv6 "]"
    path       := component ( "/" component )*        (at most 255 characters)
    component  := [a-z0-9]+ ( separator [a-z0-9]+ )*
    separator  := "." | "_" | "__" | "-"+
    tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
    digest     := algorithm ":" hex   (sha256 = 64, sha384 = 96, sha512 = 128 lowercase hex)

Docker normalisation: the first path component is a domain only if it contains ``.`` or ``:``,
is ``localhost`` or contains an uppercase letter; otherwise the domain is ``docker.io``.
``index.docker.io`` becomes ``docker.io`` and a single-component Docker Hub path gets
``library/``. A reference may carry a tag and a digest together; both are kept (a runtime pulls
by the digest and ignores the tag).

Where this module is stricter than distribution it is on purpose and documented: a port must be
1-65535 (no registry can listen elsewhere) and an unknown digest algorithm is rejected here
rather than at pull time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

__all__ = [
    "DEFAULT_DOMAIN",
    "DIGEST_LENGTHS",
    "ImageReference",
    "InvalidReferenceError",
    "normalize_domain",
    "parse",
    "parse_digest",
    "validate_domain",
    "validate_path",
    "validate_tag",
]

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPOSITORY_PREFIX = "library/"
MAX_PATH_LENGTH = 255
MAX_TAG_LENGTH = 128
DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DOMAIN_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
_IPV6 = re.compile(r"\[[A-Fa-f0-9:]+\]")
_DIGEST_ALGORITHM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*")
_IDENTIFIER = re.compile(r"[a-f0-9]{64}")


class InvalidReferenceError(ValueError):
    """An image reference that does not follow the grammar.

    The message names the offending part, quoted, and why it is wrong, e.g.
    ``'Ubuntu': repository name must be lowercase``.
    """

    def __init__(self, part: str, reason: str, reference: str | None = None) -> None:
        self.part = part
        self.reason = reason
        self.reference = reference
        message = f"{part!r}: {reason}"
        if reference is not None and reference != part:
            message += f" (in image reference {reference!r})"
        super().__init__(message)


def parse_digest(text: str) -> str:
    """Validate a digest ``algorithm:hex`` and return it unchanged."""
    algorithm, sep, encoded = text.partition(":")
    if not sep or not algorithm:
        raise InvalidReferenceError(text, "digest must look like 'sha256:<64 lowercase hex>'")
    if not _DIGEST_ALGORITHM.fullmatch(algorithm):
        raise InvalidReferenceError(text, f"digest algorithm {algorithm!r} is malformed")
    expected = DIGEST_LENGTHS.get(algorithm)
    if expected is None:
        supported = ", ".join(DIGEST_LENGTHS)
        raise InvalidReferenceError(
            text, f"digest algorithm {algorithm!r} is not supported (use one of: {supported})"
        )
    if len(encoded) != expected or not all(c in "0123456789abcdef" for c in encoded):
        raise InvalidReferenceError(
            text, f"{algorithm} digest needs exactly {expected} lowercase hex characters"
        )
    return text


def validate_tag(tag: str) -> str:
    """Validate a tag and return it unchanged."""
    if not tag:
        raise InvalidReferenceError(tag, "tag must not be empty")
    if len(tag) > MAX_TAG_LENGTH:
        raise InvalidReferenceError(
            tag, f"tag is {len(tag)} characters long; at most {MAX_TAG_LENGTH} are allowed"
        )
    if not _TAG.fullmatch(tag):
        raise InvalidReferenceError(
            tag,
            "tag may contain only letters, digits, '_', '.' and '-', and must not start with '.' or '-'",
        )
    return tag


def validate_domain(domain: str) -> str:
    """Validate ``host[:port]`` (a DNS name, IPv4 address or bracketed IPv6 address)."""
    if not domain:
        raise InvalidReferenceError(domain, "registry domain must not be empty")
    if domain.startswith("["):
        end = domain.find("]") + 1
        host, port = (domain[:end], domain[end:]) if end else (domain, "")
        if not _IPV6.fullmatch(host):
            raise InvalidReferenceError(domain, "IPv6 registry host must look like '[::1]'")
    else:
        host, colon, digits = domain.partition(":")
        port = colon + digits
        if not all(_DOMAIN_LABEL.fullmatch(label) for label in host.split(".")):
            raise InvalidReferenceError(
                domain,
                "registry host must be DNS labels of letters, digits and inner '-' joined by '.'",
            )
    if port:
        digits = port[1:]
        if not port.startswith(":") or not (digits.isascii() and digits.isdigit()):
            raise InvalidReferenceError(domain, "registry port must be ':' followed by digits")
        if not 1 <= int(digits) <= 65535:
            raise InvalidReferenceError(domain, "registry port must be between 1 and 65535")
    return domain


def validate_path(path: str) -> str:
    """Validate a repository path (without domain) and return it unchanged."""
    if not path:
        raise InvalidReferenceError(path, "repository name must not be empty")
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidReferenceError(
            path,
            f"repository name is {len(path)} characters long; at most {MAX_PATH_LENGTH} are allowed",
        )
    if path.lower() != path:
        raise InvalidReferenceError(path, "repository name must be lowercase")
    for component in path.split("/"):
        if not _COMPONENT.fullmatch(component):
            what = "empty path component" if not component else f"path component {component!r}"
            raise InvalidReferenceError(
                path,
                f"{what} is invalid: components are lowercase letters and digits joined by "
                "'.', '_', '__' or '-'",
            )
    return path


def normalize_domain(domain: str) -> str:
    """``index.docker.io`` is Docker Hub's legacy name; everything else is kept as written."""
    return DEFAULT_DOMAIN if domain == LEGACY_DEFAULT_DOMAIN else domain


def _split_domain(name: str) -> tuple[str, str]:
    first, slash, remainder = name.partition("/")
    is_domain = bool(slash) and (
        "." in first or ":" in first or first == "localhost" or first.lower() != first
    )
    if not is_domain:
        return DEFAULT_DOMAIN, name
    return normalize_domain(first), remainder


def _is_ipv6_domain_prefix(text: str) -> int:
    """Length of a leading ``[ipv6]`` host, so its colons are not taken for a tag separator."""
    if text.startswith("["):
        end = text.find("]")
        if end > 0:
            return end + 1
    return 0


@dataclass(frozen=True, slots=True)
class ImageReference:
    """A normalised, fully qualified image reference. Build it with :func:`parse`."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    def __post_init__(self) -> None:
        validate_domain(self.domain)
        if normalize_domain(self.domain) != self.domain:
            raise InvalidReferenceError(self.domain, f"use {DEFAULT_DOMAIN!r} for Docker Hub")
        validate_path(self.path)
        if self.tag is not None:
            validate_tag(self.tag)
        if self.digest is not None:
            parse_digest(self.digest)

    @property
    def name(self) -> str:
        """``domain/path`` — the repository, without tag or digest."""
        return f"{self.domain}/{self.path}"

    @property
    def pinned(self) -> bool:
        return self.digest is not None

    def __str__(self) -> str:
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    def familiar(self) -> str:
        """The short Docker form: ``ubuntu:22.04``, ``grafana/grafana``, ``ghcr.io/x/y:1``."""
        first = self.path.partition("/")[0]
        if self.domain != DEFAULT_DOMAIN or ("/" in self.path and "." in first):
            # Docker would print 'docker.io/0.0/x' as '0.0/x', which reads back as registry
            # '0.0'; keeping the domain there makes the familiar form round-trip.
            return str(self)
        path = self.path
        if path.startswith(OFFICIAL_REPOSITORY_PREFIX) and "/" not in path[len(OFFICIAL_REPOSITORY_PREFIX) :]:
            path = path[len(OFFICIAL_REPOSITORY_PREFIX) :]
        text = path
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    def with_domain(self, domain: str) -> ImageReference:
        """The same repository path, tag and digest on another registry."""
        return replace(self, domain=normalize_domain(domain))

    def with_path(self, path: str) -> ImageReference:
        return replace(self, path=path)

    def with_tag(self, tag: str | None) -> ImageReference:
        return replace(self, tag=tag)

    def with_digest(self, digest: str | None) -> ImageReference:
        return replace(self, digest=digest)

    def without_digest(self) -> ImageReference:
        return replace(self, digest=None)


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise InvalidReferenceError(repr(text), "image reference must be a string")
    if not text:
        raise InvalidReferenceError(text, "image reference must not be empty")
    if any(c.isspace() for c in text):
        raise InvalidReferenceError(text, "image reference must not contain whitespace")
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise InvalidReferenceError(text, f"image references have no scheme; drop {scheme + '://'!r}")
    if _IDENTIFIER.fullmatch(text):
        raise InvalidReferenceError(text, "a 64-character hex string is an image ID, not a repository name")
    return text


def _split_reference(text: str) -> tuple[str, str | None, str | None]:
    """``name``, tag and digest, each validated; the name is checked by the caller."""
    remainder, at, digest = text.partition("@")
    if at:
        if not digest:
            raise InvalidReferenceError(text, "'@' must be followed by a digest")
        try:
            parse_digest(digest)
        except InvalidReferenceError as error:
            raise InvalidReferenceError(digest, error.reason, text) from None
    # A tag follows the last ':' after the last '/' (an earlier ':' is a port, as is one
    # inside a bracketed IPv6 host).
    skip = _is_ipv6_domain_prefix(remainder)
    last_slash = remainder.rfind("/")
    colon = remainder.rfind(":", max(last_slash, skip - 1) + 1)
    if colon < 0:
        return remainder, None, digest or None
    name, tag = remainder[:colon], remainder[colon + 1 :]
    if not tag:
        raise InvalidReferenceError(text, "':' must be followed by a tag")
    try:
        validate_tag(tag)
    except InvalidReferenceError as error:
        raise InvalidReferenceError(tag, error.reason, text) from None
    return name, tag, digest or None


def parse(text: str) -> ImageReference:
    """Parse and normalise an image reference; raise :class:`InvalidReferenceError` if invalid."""
    name, tag, digest = _split_reference(_check_text(text))
    if not name:
        raise InvalidReferenceError(text, "repository name must not be empty")
    domain, path = _split_domain(name)
    try:
        validate_domain(domain)
    except InvalidReferenceError as error:
        raise InvalidReferenceError(name.partition("/")[0], error.reason, text) from None
    try:
        validate_path(path)
        if domain == DEFAULT_DOMAIN and "/" not in path:
            path = OFFICIAL_REPOSITORY_PREFIX + path
            validate_path(path)
    except InvalidReferenceError as error:
        raise InvalidReferenceError(error.part, error.reason, text) from None
    return ImageReference(domain=domain, path=path, tag=tag, digest=digest)
