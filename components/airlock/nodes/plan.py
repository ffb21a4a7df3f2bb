"""What the nodes' container runtimes must know (pure): the policy's mirror rules as runtime
mirrors, and how each private registry is reached and trusted from a node.

Only mirror rules (``images.mirrors``, and the caches or proxy projects the registry adds as
rules) become runtime mirrors: a rule says "this upstream is served there", which holds for any
image of that upstream. The registry override (``images.registry``) relocates the images airlock
knows into a hosted registry that holds only what was mirrored, so it is not a runtime mirror.

The two runtime formats differ in what they can express:

- containerd's ``hosts.toml`` is per registry host: every repository of ``docker.io`` goes to the
  same mirror, with one path prefix in front of the repository (``override_path``). A rule for a
  part of a registry (``docker.io/bitnami``) can be written only when it sends its images where
  the rest of that registry goes (``HostMirror``; otherwise :attr:`NodePlan.containerd_problems`).
- registries.conf (CRI-O, podman) remaps any prefix to any location (``PrefixMirror``).

A rule that keeps a prefix where it is (dev's ``xpkg.crossplane.io/crossplane-contrib`` kept
upstream) needs nothing on a node.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ..images.policy import ImagePolicy, MirrorRule, relocated_prefix
from .settings import NodesSettings, Upstream

__all__ = ["HostMirror", "NodeEndpoint", "NodePlan", "NodeProblem", "PrefixMirror", "node_plan"]


@dataclass(frozen=True)
class NodeProblem:
    """A config problem: ``path`` under ``airlock:`` (first element the key), value, why, fix."""

    path: tuple[str | int, ...]
    value: object
    reason: str
    fix: str


@dataclass(frozen=True)
class NodeEndpoint:
    """A registry as a node reaches it."""

    host: str
    """host[:port] as image references name it (the containerd directory)."""
    address: str
    """host[:port] the node connects to (kind's local registry: ``kind-registry:5000``)."""
    insecure: bool
    """Plain HTTP, only where the policy declares it."""
    ca: bool
    """A CA file for this registry is installed (``<host>/ca.crt``)."""
    login: bool = False
    """Pulls need a login (anonymous pulls are refused): nodes send an Authorization header,
    because a kubelet only hands containerd the login of the image's own registry."""

    @property
    def scheme(self) -> str:
        return "http" if self.insecure else "https"

    def url(self, path: str = "") -> str:
        """The hosts.toml host URL; a repository prefix goes behind ``/v2`` (``override_path``)."""
        return f"{self.scheme}://{self.address}" + (f"/v2/{path}" if path else "")

    @property
    def needs_config(self) -> bool:
        return self.insecure or self.ca or self.login or self.address != self.host


@dataclass(frozen=True)
class HostMirror:
    """containerd: every repository of ``upstream`` is pulled from ``mirror`` under ``path``."""

    upstream: str
    mirror: NodeEndpoint
    path: str
    rules: tuple[str, ...]
    """The policy rules this mirror carries out (for the file's header)."""
    origin: NodeEndpoint | None = None
    """The upstream itself, as the ``server`` a ``fallback`` reaches (its CA, plain HTTP)."""


@dataclass(frozen=True)
class PrefixMirror:
    """registries.conf: references starting with ``prefix`` are pulled from ``location``."""

    prefix: str
    mirror: NodeEndpoint
    location: str
    """host[:port][/path] as the node reaches it."""
    rule: str
    origin: NodeEndpoint | None = None
    """The upstream itself (``fallback``: plain HTTP only where declared for it)."""


@dataclass(frozen=True)
class NodePlan:
    upstream: Upstream
    hosts: tuple[HostMirror, ...]
    prefixes: tuple[PrefixMirror, ...]
    registries: tuple[NodeEndpoint, ...]
    """Every registry a node must reach differently from the default (a CA, plain HTTP, another
    address): mirror targets and the registries images are pulled from directly."""
    ca_sources: Mapping[str, str] = field(default_factory=dict)
    """host -> where its CA comes from (``images.registries[...]``, the platform registry)."""
    platform_ca_hosts: frozenset[str] = frozenset()
    """Hosts trusted with the platform registry's own CA (an Output at deploy time)."""
    kept: tuple[str, ...] = ()
    """Prefixes a rule keeps in place under a shorter rule that relocates their registry:
    registries.conf must say so, or the shorter rule would take them."""
    problems: tuple[NodeProblem, ...] = ()
    """What no runtime can carry out as the policy says (a final reference the nodes would
    relocate again)."""
    containerd_problems: tuple[NodeProblem, ...] = ()
    """What containerd's per-host files cannot express (on top of :attr:`problems`)."""

    @property
    def hosts_to_trust(self) -> frozenset[str]:
        """Registries whose use needs what this plan installs (a CA, plain HTTP, an address):
        an image that configures the nodes cannot come from one of them."""
        return frozenset(endpoint.host for endpoint in self.registries)

    @property
    def login_hosts(self) -> frozenset[str]:
        return frozenset(endpoint.host for endpoint in self.registries if endpoint.login)


def _split(prefix: str) -> tuple[str, str]:
    domain, _, path = prefix.rstrip("/").partition("/")
    return domain, path


def _host_equivalent(rule: MirrorRule) -> str | None:
    """The prefix that stands in front of every repository of the rule's registry when the rule
    applies, or None when the rule rewrites the path itself (``replace`` of a path prefix into
    a location that does not end with that path)."""
    target = relocated_prefix(rule.to, rule.layout, rule.source)
    path = rule.source.partition("/")[2]
    if not path:
        return target
    suffix = f"{path}/"
    return target[: -len(suffix)] if target.endswith(suffix) else None


def node_plan(
    policy: ImagePolicy,
    settings: NodesSettings,
    *,
    addresses: Mapping[str, str] | None = None,
    platform_ca_hosts: Mapping[str, str] | None = None,
    login_hosts: Iterable[str] = (),
) -> NodePlan:
    """The runtime mirrors and registry endpoints for ``policy`` (the stack's completed policy).

    ``addresses``: registries nodes reach under another address (kind's local registry);
    ``platform_ca_hosts``: hosts served with the platform registry's CA, which is not in the
    policy (generated at deploy, or provided) -> where it comes from; ``login_hosts``: hosts
    that need a login (the stack's credential hosts)."""
    addresses = dict(addresses or {})
    logins = frozenset(login_hosts)
    ca_sources = {
        host: f"images.registries[{host!r}].caBundle"
        for host, trust in policy.registries.items()
        if trust.ca_bundle
    }
    ca_sources.update(platform_ca_hosts or {})

    def endpoint(host: str) -> NodeEndpoint:
        trust = policy.trust(host)
        return NodeEndpoint(
            host, addresses.get(host, host), trust.insecure, host in ca_sources, host in logins
        )

    active = [
        (index, rule) for index, rule in enumerate(policy.mirrors) if rule.source not in settings.exclude
    ]
    moving = [(index, rule) for index, rule in active if not _kept_in_place(rule)]
    prefixes = []
    for index, rule in moving:
        domain, path = _split(relocated_prefix(rule.to, rule.layout, rule.source))
        mirror = endpoint(domain)
        location = f"{mirror.address}/{path}" if path else mirror.address
        prefixes.append(
            PrefixMirror(rule.source, mirror, location, rule.describe(index), endpoint(rule.source_domain))
        )
    kept = tuple(
        rule.source
        for _, rule in active
        if _kept_in_place(rule) and any(_covers(other.source, rule.source) for _, other in moving)
    )

    hosts, containerd_problems = _host_mirrors(policy, settings, endpoint)
    containerd_problems += [
        NodeProblem(
            ("images", "mirrors", index),
            f"{rule.source} -> {rule.to} ({rule.layout})",
            "sends images to docker.io, which containerd reaches as registry-1.docker.io only as an "
            "upstream, never as a mirror",
            "point the rule at a registry host of its own (a cache or proxy project)",
        )
        for index, rule in moving
        if _split(relocated_prefix(rule.to, rule.layout, rule.source))[0] == "docker.io"
    ]
    targets = {host.mirror.host for host in hosts} | {prefix.mirror.host for prefix in prefixes}
    origins = {h.origin.host for h in hosts if h.origin} | {p.origin.host for p in prefixes if p.origin}
    direct = set(ca_sources) | set(addresses) | {h for h, t in policy.registries.items() if t.insecure}
    registries = [endpoint(host) for host in sorted(targets | direct | origins)]
    return NodePlan(
        upstream=settings.upstream,
        hosts=tuple(hosts),
        prefixes=tuple(prefixes),
        registries=tuple(e for e in registries if e.needs_config),
        ca_sources=ca_sources,
        platform_ca_hosts=frozenset(platform_ca_hosts or {}),
        kept=kept,
        problems=tuple(_relocated_again(moving)),
        containerd_problems=tuple(containerd_problems),
    )


def _kept_in_place(rule: MirrorRule) -> bool:
    return relocated_prefix(rule.to, rule.layout, rule.source) == f"{rule.source}/"


def _covers(prefix: str, other: str) -> bool:
    """``prefix`` is a shorter source prefix of ``other`` (whole path components)."""
    return other != prefix and other.startswith(prefix + "/")


def _relocated_again(moving: list[tuple[int, MirrorRule]]) -> list[NodeProblem]:
    """A rule whose destination lies under a rule the nodes apply: a pod's final reference would
    be relocated a second time by the node (the policy relocates once)."""
    problems = []
    for index, rule in moving:
        target = relocated_prefix(rule.to, rule.layout, rule.source) + "airlock-probe"
        domain, _, path = target.partition("/")
        for other_index, other in moving:
            other_domain, _, other_path = other.source.partition("/")
            if domain == other_domain and (not other_path or path.startswith(other_path + "/")):
                problems.append(
                    NodeProblem(
                        ("images", "mirrors", index),
                        f"{rule.source} -> {rule.to} ({rule.layout})",
                        f"sends images under {other.source}, which {other.describe(other_index)} "
                        "relocates on the nodes: a pod's final reference would be relocated again",
                        "point the rule at a location no other rule covers, or leave the other rule "
                        f"out of the nodes with airlock:nodes.exclude: [{other.source}]",
                    )
                )
                break
    return problems


def _host_mirrors(
    policy: ImagePolicy, settings: NodesSettings, endpoint: Callable[[str], NodeEndpoint]
) -> tuple[list[HostMirror], list[NodeProblem]]:
    """One mirror per upstream registry host, and the rules containerd cannot carry out."""
    by_host: dict[str, list[tuple[int, MirrorRule]]] = {}
    for index, rule in enumerate(policy.mirrors):
        if rule.source not in settings.exclude:
            by_host.setdefault(rule.source_domain, []).append((index, rule))
    hosts: list[HostMirror] = []
    problems: list[NodeProblem] = []
    for upstream in sorted(by_host):
        whole = next(((i, r) for i, r in by_host[upstream] if r.source == upstream), None)
        host_prefix = relocated_prefix(whole[1].to, whole[1].layout, upstream) if whole else f"{upstream}/"
        where = (
            whole[1].describe(whole[0]) if whole else f"{upstream} itself (no rule for the whole registry)"
        )
        carried = [whole[1].describe(whole[0])] if whole else []
        for index, rule in by_host[upstream]:
            if rule.source == upstream:
                continue
            if _host_equivalent(rule) == host_prefix:
                carried.append(rule.describe(index))
                continue
            problems.append(
                NodeProblem(
                    ("images", "mirrors", index),
                    f"{rule.source} -> {rule.to} ({rule.layout})",
                    "containerd configures whole registries (one hosts.toml per registry host), so it "
                    f"cannot send {rule.source} there while the rest of {upstream} goes to {where}",
                    f"write the rule for the whole registry (source: {upstream}), or leave it out of "
                    f"the nodes with airlock:nodes.exclude: [{rule.source}] (registries.conf, for "
                    "CRI-O, expresses it: airlock nodes render --runtime cri-o)",
                )
            )
        if host_prefix == f"{upstream}/":
            continue  # the registry's images stay where they are
        domain, path = _split(host_prefix)
        hosts.append(HostMirror(upstream, endpoint(domain), path, tuple(carried), endpoint(upstream)))
    return hosts, problems
