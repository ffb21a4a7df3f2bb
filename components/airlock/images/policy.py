"""The image policy: from a source reference and an environment's rules to the final reference.

One place decides every rule; consumers only translate the decision into their own fields.

Precedence, per field of the final reference (highest first)::

    1. override ``image``            all fields; nothing else applies except the lock digest
    2. override parts                ``registry``, ``repository``, ``tag``, ``digest`` that are set
    3. mirror rule                   registry + repository, longest matching source prefix
    4. registry override             registry + repository, when no mirror rule matched
    5. catalog default / source      whatever the consumer asked for

A digest always wins over a tag: when a digest is known (from an override, the source, or the
lockfile) the final reference carries it and runtimes pull by it; the tag stays beside it for
readers. An explicit digest (override or source) wins over the lockfile, with a warning when
they differ.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..model import StrictModel
from .errors import PolicyError, PolicyErrors, UnpinnedImageError
from .lock import Lockfile, is_placeholder
from .reference import (
    ImageReference,
    InvalidReferenceError,
    normalize_domain,
    parse,
    parse_digest,
    validate_domain,
    validate_path,
    validate_tag,
)

__all__ = [
    "ImageOverride",
    "ImagePolicy",
    "Layout",
    "MirrorRule",
    "PinMode",
    "PullPolicy",
    "RegistryOverride",
    "RegistryTrust",
    "ResolvedImage",
    "TagRules",
    "canonical_reference",
    "check_pem_bundle",
    "relocated_prefix",
    "resolve",
    "resolve_all",
    "split_location",
]

PullPolicy = Literal["Always", "IfNotPresent", "Never"]
PinMode = Literal["required", "preferred", "off"]
Layout = Literal["nest", "flatten", "replace"]

LOCK_COMMAND = "airlock images lock"


def canonical_reference(value: str) -> str:
    """Validator helper: the canonical form of an image reference, or a ValueError that names
    the offending part (pydantic then reports it under the field's config path)."""
    try:
        return str(parse(value))
    except InvalidReferenceError as error:
        raise ValueError(f"{error.part!r}: {error.reason}") from None


def split_location(text: str, what: str) -> tuple[str, str]:
    """Split ``host[:port][/path]`` into a validated domain and (possibly empty) path."""
    if "://" in text:
        raise ValueError(f"{what} must not have a scheme; write {text.split('://', 1)[1]!r}")
    domain, _, path = text.partition("/")
    if "@" in text or ":" in path:
        raise ValueError(f"{what} is a location and must not carry a tag or digest")
    try:
        validate_domain(domain)
        if path:
            validate_path(path)
    except InvalidReferenceError as error:
        raise ValueError(f"{error.part!r}: {error.reason}") from None
    return normalize_domain(domain), path


class MirrorRule(StrictModel):
    """Send images whose source starts with ``source`` to a mirror."""

    source: str = Field(
        description="Source prefix: a registry domain, optionally with a path "
        "('docker.io', 'ghcr.io/loft-sh'). Matches whole path components."
    )
    to: str = Field(description="Mirror location host[:port][/path], no scheme.")
    layout: Layout = Field(
        "nest",
        description="nest: <to>/<source-domain>/<path>; flatten: <to>/<path>; "
        "replace: the matched source prefix is replaced by <to>.",
    )

    @field_validator("source")
    @classmethod
    def _source_prefix(cls, value: str) -> str:
        domain, path = split_location(value, "a mirror source prefix")
        first = value.partition("/")[0]
        if not ("." in first or ":" in first or first == "localhost"):
            raise ValueError(
                "a source prefix must start with a registry domain; "
                f"write 'docker.io/{value}' for a Docker Hub path"
            )
        return f"{domain}/{path}" if path else domain

    @field_validator("to")
    @classmethod
    def _target(cls, value: str) -> str:
        domain, path = split_location(value, "a mirror target")
        return f"{domain}/{path}" if path else domain

    @property
    def source_domain(self) -> str:
        return self.source.partition("/")[0]

    def matches(self, reference: ImageReference) -> bool:
        domain, _, path = self.source.partition("/")
        if reference.domain != domain:
            return False
        return not path or reference.path == path or reference.path.startswith(path + "/")

    def apply(self, reference: ImageReference) -> ImageReference:
        return relocate(reference, self.to, self.layout, self.source)

    def describe(self, index: int) -> str:
        return f"images.mirrors[{index}] ({self.source} -> {self.to}, {self.layout})"


class RegistryOverride(StrictModel):
    """The environment's registry for every image no mirror rule matches."""

    to: str = Field(description="Registry location host[:port][/path], no scheme.")
    layout: Literal["nest", "flatten"] = Field(
        "nest", description="nest keeps the source domain as the first path component."
    )

    @field_validator("to")
    @classmethod
    def _target(cls, value: str) -> str:
        return MirrorRule._target(value)

    def apply(self, reference: ImageReference) -> ImageReference:
        return relocate(reference, self.to, self.layout, reference.domain)

    def holds(self, reference: ImageReference) -> bool:
        """True when ``reference`` already lives under ``to``: it is never nested again."""
        domain, _, base = self.to.partition("/")
        if reference.domain != domain:
            return False
        return not base or reference.path == base or reference.path.startswith(base + "/")


def nest_component(domain: str) -> str:
    """The source registry as a path component for the nest layout.

    A port becomes ``_<port>`` (``registry.corp:8443`` -> ``registry.corp_8443``) and letters
    are lowercased, since repository paths allow neither ``:`` nor uppercase.
    """
    return domain.lower().replace("[", "").replace("]", "").replace(":", "_")


def relocate(reference: ImageReference, to: str, layout: str, matched_prefix: str) -> ImageReference:
    """Move ``reference`` under ``to`` with a layout; tag and digest are kept."""
    domain, _, base = to.partition("/")
    if layout == "nest":
        parts = [base, nest_component(reference.domain), reference.path]
    elif layout == "flatten":
        parts = [base, reference.path]
    else:
        prefix_path = matched_prefix.partition("/")[2]
        rest = reference.path[len(prefix_path) :].lstrip("/") if prefix_path else reference.path
        parts = [base, rest]
    path = "/".join(part for part in parts if part)
    try:
        return ImageReference(domain=domain, path=path, tag=reference.tag, digest=reference.digest)
    except InvalidReferenceError as error:
        raise PolicyError(
            "images",
            str(reference),
            f"cannot be mirrored to {to!r} ({layout}): {error.reason}",
            "use a layout that keeps the path valid",
        ) from None


def relocated_prefix(to: str, layout: str, matched_prefix: str) -> str:
    """What :func:`relocate` puts in place of ``<matched_prefix>/``, ending with '/': found by
    relocating a probe reference below the prefix, so the layouts are stated once (above)."""
    domain, _, path = matched_prefix.partition("/")
    probe = ImageReference(domain=domain, path=f"{path}/airlock-probe" if path else "airlock-probe", tag="t")
    relocated = str(relocate(probe, to, layout, matched_prefix))
    return relocated.removesuffix("airlock-probe:t")


class ImageOverride(StrictModel):
    """Per-image override keyed by logical name. Either ``image`` or parts, never both."""

    image: str | None = Field(None, description="Full final reference; wins over everything.")
    registry: str | None = Field(None, description="Final registry host[:port].")
    repository: str | None = Field(None, description="Final repository path (no registry).")
    tag: str | None = Field(None, description="Tag to use instead of the catalog's.")
    digest: str | None = Field(None, description="Digest to pin; wins over any tag.")
    pull_policy: PullPolicy | None = Field(None, description="Pull policy for this image.")

    @field_validator("image")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        return None if value is None else canonical_reference(value)

    @field_validator("registry")
    @classmethod
    def _registry(cls, value: str | None) -> str | None:
        if value is None:
            return None
        domain, path = split_location(value, "registry")
        if path:
            raise ValueError(f"registry is host[:port] only; put {path!r} into 'repository'")
        return domain

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if "@" in value or ":" in value:
            raise ValueError("repository must not carry a tag or digest; use 'tag'/'digest'")
        try:
            return validate_path(value)
        except InvalidReferenceError as error:
            raise ValueError(f"{error.part!r}: {error.reason}") from None

    @field_validator("tag")
    @classmethod
    def _tag(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return validate_tag(value)
        except InvalidReferenceError as error:
            raise ValueError(error.reason) from None

    @field_validator("digest")
    @classmethod
    def _digest(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return parse_digest(value)
        except InvalidReferenceError as error:
            raise ValueError(error.reason + f"; run '{LOCK_COMMAND}' to get real digests") from None

    @model_validator(mode="after")
    def _not_both(self) -> ImageOverride:
        parts = [name for name in ("registry", "repository", "tag", "digest") if getattr(self, name)]
        if self.image and parts:
            raise ValueError(
                f"'image' sets the whole reference, so {', '.join(parts)} would be ignored; "
                "set either 'image' or the parts, not both"
            )
        if not self.image and not parts and self.pull_policy is None:
            raise ValueError("override is empty; set 'image' or registry/repository/tag/digest")
        return self

    @property
    def parts(self) -> list[str]:
        return [name for name in ("registry", "repository", "tag", "digest") if getattr(self, name)]


def check_pem_bundle(value: str) -> str:
    """``value`` unchanged when OpenSSL reads it as a PEM certificate bundle, exactly as the
    registry clients will; a ValueError saying why and how to fix it otherwise."""
    import ssl

    fix = (
        "paste the CA certificate(s) unchanged, each from '-----BEGIN CERTIFICATE-----' "
        "to '-----END CERTIFICATE-----'"
    )
    if "-----BEGIN CERTIFICATE-----" not in value:
        raise ValueError(f"ca_bundle is not a PEM certificate bundle; {fix}")
    others = sorted(
        {label for label in re.findall(r"-----BEGIN ([A-Z0-9 ]+)-----", value) if label != "CERTIFICATE"}
    )
    if others:
        # a CA bundle is copied to ConfigMaps and to every node, world-readable
        raise ValueError(
            f"ca_bundle holds a {' and a '.join(others)} block besides certificates; it is copied to "
            f"ConfigMaps and nodes as public data; {fix}, and nothing else"
        )
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=value)
    except ssl.SSLError as error:
        raise ValueError(
            f"ca_bundle is not a PEM certificate bundle OpenSSL can read ({error.reason}); {fix}"
        ) from None
    except (TypeError, ValueError):  # non-ASCII text: OpenSSL is never handed it
        raise ValueError(f"ca_bundle holds characters no PEM bundle has (not ASCII); {fix}") from None
    return value


class RegistryTrust(StrictModel):
    """How clients trust one registry. Plain HTTP is allowed only where declared here."""

    ca_bundle: str | None = Field(None, description="PEM CA bundle that signs the registry's certificate.")
    insecure: bool = Field(False, description="Plain HTTP (no TLS). Only for this registry.")

    @field_validator("ca_bundle")
    @classmethod
    def _pem(cls, value: str | None) -> str | None:
        return None if value is None else check_pem_bundle(value)

    @model_validator(mode="after")
    def _tls_or_plain(self) -> RegistryTrust:
        if self.insecure and self.ca_bundle:
            raise ValueError("insecure (plain HTTP) and ca_bundle (TLS) contradict each other; keep one")
        return self


DEFAULT_MUTABLE_TAGS = ("latest", "main", "master", "edge", "nightly", "dev", "stable", "*-dev", "*-snapshot")


class TagRules(StrictModel):
    allow_latest: bool = Field(False, description="Allow ':latest' on images without a digest.")
    allow_untagged: bool = Field(False, description="Allow images with neither tag nor digest.")
    mutable_tags: tuple[str, ...] = Field(
        DEFAULT_MUTABLE_TAGS,
        description="Glob patterns of tags known to move; unpinned use is warned about.",
    )


class ImagePolicy(StrictModel):
    """An environment's image rules (the ``images`` section of a stack)."""

    registry: RegistryOverride | None = Field(
        None, description="Registry for every image no mirror rule matches."
    )
    mirrors: tuple[MirrorRule, ...] = Field(
        (), description="Mirror rules; the longest matching source prefix wins."
    )
    overrides: dict[str, ImageOverride] = Field(
        default_factory=dict, description="Per-image overrides by logical name."
    )
    pin: PinMode = Field("preferred", description="required: every image needs a digest (lockfile).")
    tags: TagRules = Field(
        default_factory=TagRules,
        description="Which tags count as mutable (pinned by digest) and which are allowed.",
    )
    pull_policy: PullPolicy = Field("IfNotPresent", description="Pull policy of images without a digest.")
    registries: dict[str, RegistryTrust] = Field(
        default_factory=dict, description="Trust per registry host[:port]."
    )

    @field_validator("registries")
    @classmethod
    def _registry_keys(cls, value: dict[str, RegistryTrust]) -> dict[str, RegistryTrust]:
        normalised: dict[str, RegistryTrust] = {}
        for key, trust in value.items():
            domain, path = split_location(key, "a registry key")
            if path:
                raise ValueError(f"registry key {key!r} must be host[:port] only, without a path")
            normalised[domain] = trust
        return normalised

    @model_validator(mode="after")
    def _unique_sources(self) -> ImagePolicy:
        seen: dict[str, int] = {}
        for index, rule in enumerate(self.mirrors):
            if rule.source in seen:
                raise ValueError(
                    f"mirrors[{index}] repeats source {rule.source!r} of mirrors[{seen[rule.source]}]; "
                    "one source prefix may have only one rule"
                )
            seen[rule.source] = index
        return self

    def without_targets(self, hosts: Iterable[str]) -> ImagePolicy:
        """This policy without the registry override and mirror rules that point at ``hosts``."""
        avoided = set(hosts)
        registry = self.registry
        if registry is not None and registry.to.partition("/")[0] in avoided:
            registry = None
        mirrors = tuple(rule for rule in self.mirrors if rule.to.partition("/")[0] not in avoided)
        return self.model_copy(update={"registry": registry, "mirrors": mirrors})

    def trust(self, domain: str) -> RegistryTrust:
        return self.registries.get(domain, RegistryTrust())

    def unknown_overrides(self, known: Iterable[str]) -> list[str]:
        names = set(known)
        return sorted(name for name in self.overrides if name not in names)

    def _location_rule(self, reference: ImageReference) -> tuple[MirrorRule | RegistryOverride | None, str]:
        """The rule that decides where ``reference`` is pulled from, and how it is described:
        the mirror rule with the longest matching source prefix, else the registry override."""
        best: tuple[int, int] | None = None
        for index, rule in enumerate(self.mirrors):
            if rule.matches(reference):
                length = len(rule.source)
                if best is None or length > best[0]:
                    best = (length, index)
        if best is not None:
            return self.mirrors[best[1]], self.mirrors[best[1]].describe(best[1])
        if self.registry is not None:
            if self.registry.holds(reference):  # already in the environment's registry
                return None, "source (already in images.registry)"
            return self.registry, f"images.registry ({self.registry.to}, {self.registry.layout})"
        return None, "source"

    def locate(self, reference: ImageReference) -> tuple[ImageReference, str]:
        """Registry and repository from mirror rules, then the registry override."""
        rule, described = self._location_rule(reference)
        return (rule.apply(reference) if rule is not None else reference), described

    def location_prefixes(self, reference: ImageReference) -> tuple[str, str] | None:
        """The rule that relocates ``reference`` as a pair of string prefixes: every reference
        starting with the first is relocated by replacing it with the second (what a Crossplane
        ImageConfig ``rewriteImage`` expresses). None when no rule relocates it."""
        rule, _ = self._location_rule(reference)
        if isinstance(rule, MirrorRule):
            return f"{rule.source}/", relocated_prefix(rule.to, rule.layout, rule.source)
        if isinstance(rule, RegistryOverride):
            return f"{reference.domain}/", relocated_prefix(rule.to, rule.layout, reference.domain)
        return None


@dataclass(frozen=True, slots=True)
class ResolvedImage:
    """The decision for one image: what is pulled, from where, how, and why."""

    source: ImageReference
    """The upstream image wanted (catalog default with tag/digest overrides applied)."""
    final: ImageReference
    """What this environment pulls."""
    rule: str
    """Which rule decided the location (``source``, ``images.mirrors[0] (…)``, ``images.overrides[…]``)."""
    pull_policy: str
    registry: str
    """The registry host[:port] whose credentials and trust apply (the final domain)."""
    ca_bundle: str | None = None
    insecure: bool = False
    digest_from: str | None = None
    """Where the digest came from: ``override``, ``source``, ``lock`` or ``placeholder`` (an
    offline stand-in from ``airlock images placeholders``, which no registry serves; None:
    unpinned)."""
    name: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def pinned(self) -> bool:
        return self.final.digest is not None

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "source": str(self.source),
            "final": str(self.final),
            "rule": self.rule,
            "pull_policy": self.pull_policy,
            "registry": self.registry,
            "insecure": self.insecure,
            "digest_from": self.digest_from,
            "warnings": list(self.warnings),
        }


def _source_of(source: ImageReference | str) -> ImageReference:
    return source if isinstance(source, ImageReference) else parse(source)


def _locate(
    wanted: ImageReference, policy: ImagePolicy, override: ImageOverride | None, override_path: str
) -> tuple[ImageReference, ImageReference, str]:
    """(wanted source, final reference without lock digest, rule) — the precedence table."""
    if override is not None and override.image:
        image = parse(override.image)
        return image, image, f"{override_path}.image"
    if override is not None and override.tag:
        wanted = wanted.with_tag(override.tag).without_digest()
    if override is not None and override.digest:
        wanted = wanted.with_digest(override.digest)
    final, rule = policy.locate(wanted)
    if override is not None and (override.registry or override.repository):
        final = ImageReference(
            domain=override.registry or final.domain,
            path=override.repository or final.path,
            tag=final.tag,
            digest=final.digest,
        )
        parts = [part for part in override.parts if part in ("registry", "repository")]
        rule = f"{override_path} ({', '.join(parts)})"
    return wanted, final, rule


def _check_unpinned(
    final: ImageReference, policy: ImagePolicy, key: str, label: str, where: str
) -> list[str]:
    """Rules for a reference without digest; returns warnings, raises on violations."""
    if policy.pin == "required":
        raise UnpinnedImageError(
            "images.lock",
            key,
            f"pin is 'required' but there is no digest for {label}",
            f"run '{LOCK_COMMAND}' and commit images.lock, or set a digest override",
        )
    if final.tag is None and not policy.tags.allow_untagged:
        raise PolicyError(
            where,
            str(final),
            "has neither tag nor digest, so it means ':latest'",
            "pin a tag or digest, or set images.tags.allow_untagged",
        )
    if final.tag == "latest" and not policy.tags.allow_latest:
        raise PolicyError(
            where,
            str(final),
            "':latest' is forbidden without a digest",
            "pin a version tag or digest, or set images.tags.allow_latest",
        )
    warnings = []
    if final.tag is not None and any(fnmatch.fnmatchcase(final.tag, p) for p in policy.tags.mutable_tags):
        warnings.append(f"{label}: tag {final.tag!r} moves over time and has no digest")
    if policy.pin == "preferred":
        warnings.append(f"{label}: not pinned (no images.lock entry for {key})")
    return warnings


def resolve(
    source: ImageReference | str,
    policy: ImagePolicy,
    lock: Lockfile | None = None,
    *,
    name: str | None = None,
) -> ResolvedImage:
    """Decide the final reference of one image. Pure: no network, no Pulumi."""
    label = name or str(source)
    override = policy.overrides.get(name) if name else None
    override_path = f'images.overrides["{name}"]'
    wanted, final, rule = _locate(_source_of(source), policy, override, override_path)
    warnings: list[str] = []

    digest_from: str | None = None
    if final.digest is not None:
        explicit = override is not None and (override.digest or (override.image and "@" in override.image))
        digest_from = "override" if explicit else "source"
    lock_entry = lock.get(wanted) if lock is not None and wanted.tag and policy.pin != "off" else None
    if lock_entry is not None and is_placeholder(wanted, lock_entry):
        # Offline stand-ins satisfy only `pin: required` (so such a stack can be planned);
        # `preferred` treats them as absent. Either way every plan says so.
        warnings.append(
            f"{label}: images.lock holds an offline placeholder digest for {wanted.without_digest()}; "
            f"run '{LOCK_COMMAND}' with registry access before deploying"
        )
        if policy.pin != "required":
            lock_entry = None
    if lock_entry is not None and final.digest is None:
        final = final.with_digest(lock_entry.digest)
        digest_from = "placeholder" if is_placeholder(wanted, lock_entry) else "lock"
    elif lock_entry is not None and final.digest != lock_entry.digest:
        warnings.append(
            f"{label}: explicit digest {final.digest} differs from images.lock's "
            f"{lock_entry.digest} for {wanted.without_digest()}; the explicit digest is used"
        )
    if final.digest is None:
        where = override_path if override is not None else f"image {label}"
        warnings += _check_unpinned(final, policy, str(wanted.without_digest()), label, where)

    if override is not None and override.pull_policy is not None:
        pull_policy: str = override.pull_policy
    else:
        pull_policy = "IfNotPresent" if final.digest is not None else policy.pull_policy

    trust = policy.trust(final.domain)
    return ResolvedImage(
        source=wanted,
        final=final,
        rule=rule,
        pull_policy=pull_policy,
        registry=final.domain,
        ca_bundle=trust.ca_bundle,
        insecure=trust.insecure,
        digest_from=digest_from,
        name=name,
        warnings=tuple(warnings),
    )


def resolve_all(
    sources: Mapping[str, ImageReference | str], policy: ImagePolicy, lock: Lockfile | None = None
) -> dict[str, ResolvedImage]:
    """Resolve several named images; collect every problem before raising."""
    resolved: dict[str, ResolvedImage] = {}
    problems: list[PolicyError] = []
    for image_name in sorted(sources):
        try:
            resolved[image_name] = resolve(sources[image_name], policy, lock, name=image_name)
        except PolicyError as error:
            problems.append(error)
    if problems:
        raise PolicyErrors(problems)
    return resolved
