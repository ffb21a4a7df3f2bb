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

from collections.abc import Callable, Mapping
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

    @property
    def scheme(self) -> str:
        return "http" if self.insecure else "https"

    def url(self, path: str = "") -> str:
        """The hosts.toml host URL; a repository prefix goes behind ``/v2`` (``override_path``)."""
        return f"{self.scheme}://{self.address}" + (f"/v2/{path}" if path else "")

    @property
    def needs_config(self) -> bool:
        return self.insecure or self.ca or self.address != self.host


@dataclass(frozen=True)
class HostMirror:
    """containerd: every repository of ``upstream`` is pulled from ``mirror`` under ``path``."""

    upstream: str
    mirror: NodeEndpoint
    path: str
    rules: tuple[str, ...]
    """The policy rules this mirror carries out (for the file's header)."""


@dataclass(frozen=True)
class PrefixMirror:
    """registries.conf: references starting with ``prefix`` are pulled from ``location``."""

    prefix: str
    mirror: NodeEndpoint
    location: str
    """host[:port][/path] as the node reaches it."""
    rule: str


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
    containerd_problems: tuple[NodeProblem, ...] = ()

    @property
    def hosts_to_trust(self) -> frozenset[str]:
        """Registries whose use needs what this plan installs (a CA, plain HTTP, an address):
        an image that configures the nodes cannot come from one of them."""
        return frozenset(endpoint.host for endpoint in self.registries)


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
) -> NodePlan:
    """The runtime mirrors and registry endpoints for ``policy`` (the stack's completed policy).

    ``addresses``: registries nodes reach under another address (kind's local registry);
    ``platform_ca_hosts``: hosts served with the platform registry's CA, which is not in the
    policy (generated at deploy, or provided) -> where it comes from."""
    addresses = dict(addresses or {})
    ca_sources = {
        host: f"images.registries[{host!r}].caBundle"
        for host, trust in policy.registries.items()
        if trust.ca_bundle
    }
    ca_sources.update(platform_ca_hosts or {})

    def endpoint(host: str) -> NodeEndpoint:
        return NodeEndpoint(host, addresses.get(host, host), policy.trust(host).insecure, host in ca_sources)

    rules = [
        (index, rule)
        for index, rule in enumerate(policy.mirrors)
        if rule.source not in settings.exclude
        and relocated_prefix(rule.to, rule.layout, rule.source) != f"{rule.source}/"  # kept in place
    ]
    prefixes = []
    for index, rule in rules:
        target = relocated_prefix(rule.to, rule.layout, rule.source)
        domain, path = _split(target)
        mirror = endpoint(domain)
        location = f"{mirror.address}/{path}" if path else mirror.address
        prefixes.append(PrefixMirror(rule.source, mirror, location, rule.describe(index)))

    hosts, problems = _host_mirrors(policy, settings, endpoint)
    targets = {host.mirror.host for host in hosts} | {prefix.mirror.host for prefix in prefixes}
    direct = (
        set(ca_sources) | set(addresses) | {h for h, trust in policy.registries.items() if trust.insecure}
    )
    registries = [endpoint(host) for host in sorted(targets | direct)]
    return NodePlan(
        upstream=settings.upstream,
        hosts=tuple(hosts),
        prefixes=tuple(prefixes),
        registries=tuple(e for e in registries if e.needs_config),
        ca_sources=ca_sources,
        containerd_problems=tuple(problems),
    )


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
        hosts.append(HostMirror(upstream, endpoint(domain), path, tuple(carried)))
    return hosts, problems
