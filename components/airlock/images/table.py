"""The image table: every image a set of consumers needs, resolved, with its pull secrets.

This is what ImageConfig computes and what ``airlock plan`` and ``airlock images list`` show.
Pull secrets follow least privilege: a namespace gets one ``kubernetes.io/dockerconfigjson``
Secret holding credentials only for the registries its own pods pull from, and a namespace
whose images need no credentials gets none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..kube import DNS_LABEL
from .errors import PolicyError, PolicyErrors
from .lock import Lockfile
from .policy import ImagePolicy, ResolvedImage, resolve
from .reference import ImageReference, parse

__all__ = [
    "ANY_NAMESPACE",
    "NO_NAMESPACE",
    "ROW_FIELDS",
    "ImageRequest",
    "ImageTable",
    "TableEntry",
    "build_table",
]

ROW_FIELDS = (
    "consumer",
    "role",
    "name",
    "namespace",
    "source",
    "final",
    "rule",
    "pullPolicy",
    "pullSecrets",
    "registry",
    "insecure",
    "digestFrom",
)
"""The fields of an image-table row, in one spelling everywhere: stack exports, ImageConfig's
``images`` output, the plan document and ``airlock images list --format json``."""
ANY_NAMESPACE: object = object()
NO_NAMESPACE = "-"
_LOGICAL_NAME = re.compile(r"[a-z0-9][a-z0-9.-]*/[a-z0-9][a-z0-9.-]*")


@dataclass(frozen=True, slots=True)
class ImageRequest:
    """One image a consumer needs: its logical name, its source, and where its pods run."""

    name: str
    """``<consumer>/<role>``, the key of ``images.overrides``."""
    source: str
    namespace: str | None = None
    """Namespace whose pods pull it; None when no pod in the cluster pulls it (an image for
    the operator's own machine, such as vcluster's background proxy)."""
    avoid: tuple[str, ...] = ()
    """Registries (host[:port]) this image must not come from: a registry's own image cannot
    be pulled from itself, so rules that point there are skipped for it."""
    avoid_reason: str = "the registry it runs itself, which cannot serve anything before this image runs"
    """Why: said when an override still points the image at one of them."""

    @property
    def consumer(self) -> str:
        return self.name.partition("/")[0]

    @property
    def role(self) -> str:
        return self.name.partition("/")[2]


@dataclass(frozen=True, slots=True)
class TableEntry:
    request: ImageRequest
    resolved: ResolvedImage
    pull_secrets: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "consumer": self.request.consumer,
            "role": self.request.role,
            "name": self.request.name,
            "namespace": self.request.namespace,
            "source": str(self.resolved.source),
            "final": str(self.resolved.final),
            "rule": self.resolved.rule,
            "pullPolicy": self.resolved.pull_policy,
            "pullSecrets": list(self.pull_secrets),
            "registry": self.resolved.registry,
            "insecure": self.resolved.insecure,
            "digestFrom": self.resolved.digest_from,
        }


@dataclass(frozen=True)
class ImageTable:
    entries: tuple[TableEntry, ...]
    secret_registries: Mapping[str, tuple[str, ...]]
    """namespace -> registries (host[:port]) whose credentials its pull secret holds."""
    pull_secret_name: str
    _by_name: dict[str, TableEntry] = field(init=False, repr=False, compare=False)
    _by_namespace: dict[str | None, list[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, TableEntry] = {}
        by_namespace: dict[str | None, list[str]] = {}
        for entry in self.entries:
            by_name.setdefault(entry.request.name, entry)
            by_namespace.setdefault(entry.request.namespace, []).append(entry.request.name)
        object.__setattr__(self, "_by_name", by_name)
        object.__setattr__(self, "_by_namespace", by_namespace)

    def entry(self, name: str) -> TableEntry:
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(sorted(self._by_name))
            raise KeyError(
                f"image {name!r} was not requested from this ImageConfig (requested: {known})"
            ) from None

    def _requested_for(self, namespace: object) -> list[str]:
        return next((names for ns, names in self._by_namespace.items() if ns == namespace), [])

    def names_in(self, namespace: str | None) -> list[str]:
        """Logical names of the images whose pods run in ``namespace``."""
        return list(self._by_namespace.get(namespace, []))

    def resolved(self, name: str, namespace: str | object | None = ANY_NAMESPACE) -> ResolvedImage:
        """The decision for ``name``; with ``namespace``, only if it was requested for pods there
        (``None``: outside the cluster), so a consumer cannot use an image whose pull secret its
        namespace lacks."""
        entry = self.entry(name)
        if namespace is not ANY_NAMESPACE and name not in self._requested_for(namespace):
            where = sorted(str(ns) for ns, names in self._by_namespace.items() if name in names)
            raise KeyError(
                f"image {name!r} was not requested for namespace {namespace!r} (requested for: "
                f"{', '.join(where)}); add an ImageRequest for that namespace"
            )
        return entry.resolved

    def pull_secrets_for(self, namespace: str | None) -> list[str]:
        if namespace is not None and namespace in self.secret_registries:
            return [self.pull_secret_name]
        return []

    @property
    def warnings(self) -> list[str]:
        """Each distinct warning once, in table order."""
        return list(dict.fromkeys(w for entry in self.entries for w in entry.resolved.warnings))

    @property
    def sources(self) -> list[ImageReference]:
        return sorted({entry.resolved.source for entry in self.entries}, key=str)

    def as_list(self) -> list[dict[str, object]]:
        """One row per (image, namespace), camelCase keys (stack exports, plans, CLI JSON)."""
        return [entry.as_dict() for entry in self.entries]

    def as_map(self) -> dict[str, dict[str, str]]:
        """logical name -> namespace -> final reference; ``-`` for images pulled outside the
        cluster (no namespace name can be ``-``)."""
        result: dict[str, dict[str, str]] = {}
        for entry in self.entries:
            namespace = entry.request.namespace or NO_NAMESPACE
            result.setdefault(entry.request.name, {})[namespace] = str(entry.resolved.final)
        return result


def _check_requests(requests: Iterable[ImageRequest]) -> list[PolicyError]:
    problems: list[PolicyError] = []
    seen: dict[str, str] = {}
    for request in requests:
        if not _LOGICAL_NAME.fullmatch(request.name):
            problems.append(
                PolicyError(
                    "images",
                    request.name,
                    "logical image names are '<consumer>/<role>' in lowercase",
                    "name it like 'apps/web'",
                )
            )
        if request.namespace is not None and not DNS_LABEL.fullmatch(request.namespace):
            problems.append(
                PolicyError(
                    f"image {request.name}.namespace",
                    request.namespace,
                    "is not a DNS-1123 label",
                    "use lowercase letters, digits and '-' (at most 63)",
                )
            )
        # One logical name is one image (it is resolved once): two sources under one name —
        # a workload image named like a consumer's package — would silently become one.
        if request.name in seen and seen[request.name] != request.source:
            first, second = sorted((seen[request.name], request.source))
            problems.append(
                PolicyError(
                    f"image {request.name}",
                    request.source,
                    f"is requested with two sources, {first} and {second}; a logical name stands "
                    "for one image",
                    "give each a distinct logical name",
                )
            )
        seen.setdefault(request.name, request.source)
        try:
            parse(request.source)
        except ValueError as error:
            problems.append(PolicyError(f"image {request.name}.source", request.source, str(error), ""))
    return problems


def _check_destinations(
    requests: list[ImageRequest], resolved: Mapping[str, ResolvedImage], policy: ImagePolicy
) -> list[PolicyError]:
    """One final reference, one source; and no image pulled from a registry it must avoid.

    Two sources sharing a final reference would overwrite each other in the mirror (a
    ``flatten`` layout folds ``docker.io/team/web`` and ``ghcr.io/team/web`` together), and
    under ``pin: required`` only one of them would ever be copied."""
    problems: list[PolicyError] = []
    claimed: dict[str, tuple[str, ResolvedImage]] = {}
    for request in {request.name: request for request in requests}.values():  # once per image
        image = resolved[request.name]
        where = (
            f'images.overrides["{request.name}"]'
            if request.name in policy.overrides
            else f"image {request.name}"
        )
        if request.avoid and image.registry in request.avoid:
            problems.append(
                PolicyError(
                    where,
                    str(image.final),
                    f"{request.name} would be pulled from {image.registry}, {request.avoid_reason}",
                    "point the override at another registry (or the upstream), or remove it",
                )
            )
        source, final = image.source, image.final
        origin = str(source.without_digest() if source.tag else source)
        destination = str(final.without_digest() if final.tag else final)
        other = claimed.setdefault(destination, (origin, image))
        if other[0] != origin:
            other_name = other[1].name or other[0]
            problems.append(
                PolicyError(
                    where,
                    destination,
                    f"is the final reference of both {other_name} ({other[0]}, by {other[1].rule}) and "
                    f"{request.name} ({origin}, by {image.rule}); the mirror would overwrite one with "
                    "the other",
                    "use the nest layout for that rule, or an override that gives one of them its own "
                    "repository",
                )
            )
    return problems


def build_table(
    requests: Iterable[ImageRequest],
    policy: ImagePolicy,
    lock: Lockfile | None,
    *,
    credential_registries: Iterable[str] = (),
    pull_secret_name: str = "airlock-pull",
    known_names: Iterable[str] = (),
) -> ImageTable:
    """Resolve every request; raise :class:`PolicyErrors` with every problem at once.

    ``credential_registries`` is the one rule for credentials: a namespace's pull secret holds
    a registry's login exactly when an image its pods pull comes from a registry listed there.
    ``known_names`` are logical names an override may name without a request (the catalog's:
    a policy is shared by stacks that deploy different parts of it)."""
    request_list = sorted(set(requests), key=lambda r: (r.name, r.namespace or ""))
    problems = _check_requests(request_list)
    known = {request.name for request in request_list} | set(known_names)
    for name in policy.unknown_overrides(known):
        problems.append(
            PolicyError(
                f'images.overrides["{name}"]',
                name,
                "no consumer needs an image by that name",
                f"use one of: {', '.join(sorted(known))}",
            )
        )
    if problems:
        raise PolicyErrors(problems)

    resolved: dict[str, ResolvedImage] = {}
    for request in request_list:
        if request.name in resolved:
            continue
        try:
            scoped = policy.without_targets(request.avoid) if request.avoid else policy
            resolved[request.name] = resolve(request.source, scoped, lock, name=request.name)
        except PolicyError as error:
            problems.append(error)
    if problems:
        raise PolicyErrors(problems)

    problems = _check_destinations(request_list, resolved, policy)
    if problems:
        raise PolicyErrors(problems)

    with_credentials = set(credential_registries)
    secret_registries: dict[str, set[str]] = {}
    for request in request_list:
        registry = resolved[request.name].registry
        if request.namespace is not None and registry in with_credentials:
            secret_registries.setdefault(request.namespace, set()).add(registry)
    entries = tuple(
        TableEntry(
            request,
            resolved[request.name],
            (pull_secret_name,) if request.namespace in secret_registries else (),
        )
        for request in request_list
    )
    return ImageTable(
        entries=entries,
        secret_registries={ns: tuple(sorted(regs)) for ns, regs in sorted(secret_registries.items())},
        pull_secret_name=pull_secret_name,
    )
