"""The nodes as a consumer of the stack (pure): ``airlock:nodes``, the DaemonSet's image, and the
checks: the namespace is declared, excluded sources name real rules, and (with the DaemonSet,
which writes containerd's format) every mirror rule can be expressed per registry host."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from ..consumers import Consumer, ObjectKey, Problem, StackFacts
from ..images.policy import ImagePolicy
from ..images.table import ImageRequest, ImageTable
from ..model import StrictModel
from ..registry.settings import RegistrySettings
from .images import CATALOG, image_requests
from .plan import NodePlan, NodeProblem, node_plan
from .settings import NodesSettings
from .spec import TYPE_TOKEN, object_keys

__all__ = [
    "NODES",
    "NodesConsumer",
    "bootstrap_problems",
    "exclude_problems",
    "problem_at",
    "stack_node_plan",
]


def stack_node_plan(
    settings: NodesSettings,
    policy: ImagePolicy,
    registry: StrictModel | None,
    credential_hosts: Iterable[str] = (),
) -> NodePlan:
    """The node plan of a stack: its completed policy, the hosts with logins
    (``registryCredentials`` and the registry's own), and what the platform registry adds that
    the policy does not hold (kind's container address, the registry's own CA)."""
    logins = set(credential_hosts)
    if isinstance(registry, RegistrySettings):
        return node_plan(
            policy,
            settings,
            addresses=registry.node_addresses(),
            platform_ca_hosts=registry.platform_ca_hosts(),
            login_hosts=logins | registry.login_hosts(),
        )
    return node_plan(policy, settings, login_hosts=logins)


def problem_at(problem: NodeProblem, registry: StrictModel | None, policy: ImagePolicy) -> Problem:
    """A node problem under its config key; a mirror rule the registry added (a cache or proxy
    project, not in the stack's images.mirrors) is named where it comes from."""
    key, *rest = problem.path
    if key == "images" and rest[:1] == ["mirrors"] and isinstance(registry, RegistrySettings):
        rule = policy.mirrors[int(rest[1])]
        if registry.cache_endpoints().get(rule.source) == rule.to:
            where = "caches" if registry.mode == "in-cluster" else "proxyProjects"
            return Problem(
                ("@registry", where),
                problem.value,
                f"(the rule airlock:registry adds for {rule.source}) {problem.reason}",
                problem.fix,
            )
    return Problem((f"@{key}", *rest), problem.value, problem.reason, problem.fix)


def bootstrap_problems(plan: NodePlan, table: ImageTable) -> list[NodeProblem]:
    """An image that must run before a registry can serve (the registry's own, the DaemonSet's)
    is pulled by name from its upstream; a node that sends that upstream to the very registry
    it avoids, with the upstream forbidden, can never pull it again (a new node, an evicted
    image)."""
    if plan.upstream != "forbidden":
        return []
    mirrors = {mirror.upstream: mirror.mirror.host for mirror in plan.hosts}
    problems = []
    for entry in {e.request.name: e for e in table.entries if e.request.avoid}.values():
        mirror = mirrors.get(entry.resolved.final.domain)
        if mirror is not None and mirror in entry.request.avoid:
            problems.append(
                NodeProblem(
                    ("nodes", "upstream"),
                    "forbidden",
                    f"{entry.request.name} ({entry.resolved.final}) must be pullable before {mirror} "
                    f"serves, but the nodes would pull {entry.resolved.final.domain} only from {mirror}",
                    f"set airlock:nodes.upstream: fallback, exclude {entry.resolved.final.domain} "
                    f"(airlock:nodes.exclude), or override {entry.request.name} to a registry outside "
                    "the cluster",
                )
            )
    return problems


def exclude_problems(settings: NodesSettings, policy: ImagePolicy) -> list[Problem]:
    sources = {rule.source for rule in policy.mirrors}
    return [
        Problem(
            ("exclude", index),
            source,
            "names no mirror rule (images.mirrors, or a cache the registry adds)",
            f"use one of: {', '.join(sorted(sources))}" if sources else "remove it",
        )
        for index, source in enumerate(settings.exclude)
        if source not in sources
    ]


class NodesConsumer(Consumer[NodesSettings]):
    key: ClassVar[str] = "nodes"
    description: ClassVar[str] = "Node runtimes: upstream fallback, excluded rules, the DaemonSet, kind."
    settings = NodesSettings
    catalog = CATALOG
    component: ClassVar[str] = "airlock.nodes.compose:compose"

    def used_namespaces(self, settings: NodesSettings) -> list[str]:
        return [settings.daemon_set.namespace] if settings.daemon_set.enabled else []

    def requests(self, settings: NodesSettings, facts: StackFacts) -> list[ImageRequest]:
        if not settings.daemon_set.enabled:
            return []
        assert facts.policy is not None
        plan = stack_node_plan(settings, facts.policy, facts.sections.get("registry"), facts.credential_hosts)
        return image_requests(settings.daemon_set, plan.hosts_to_trust)

    def problems(self, settings: NodesSettings, facts: StackFacts) -> list[Problem]:
        namespace = settings.daemon_set.namespace
        if settings.daemon_set.enabled and namespace not in facts.namespaces:
            return [
                Problem(
                    ("daemonSet", "namespace"),
                    namespace,
                    "is not declared under airlock:namespaces: nothing creates it",
                    f"add it: airlock:namespaces.{namespace}: {{}} (or create: false if it exists)",
                )
            ]
        return []

    def table_problems(self, settings: NodesSettings, table: ImageTable, facts: StackFacts) -> list[Problem]:
        assert facts.policy is not None
        registry = facts.sections.get("registry")
        plan = stack_node_plan(settings, facts.policy, registry, facts.credential_hosts)
        found = [*plan.problems, *bootstrap_problems(plan, table)]
        if settings.daemon_set.enabled:  # it writes containerd's format
            found += plan.containerd_problems
        return exclude_problems(settings, facts.policy) + [
            problem_at(p, registry, facts.policy) for p in found
        ]

    def claims(self, settings: NodesSettings, platform: str) -> dict[str, list[ObjectKey]]:
        if not settings.daemon_set.enabled:
            return {}
        return {f"{TYPE_TOKEN} {platform}-nodes": object_keys(settings.daemon_set, with_secret=True)}


NODES = NodesConsumer()
