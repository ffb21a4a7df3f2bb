"""The nodes as a consumer of the stack (pure): ``airlock:nodes``, the DaemonSet's image, and the
checks: the namespace is declared, excluded sources name real rules, and (with the DaemonSet,
which writes containerd's format) every mirror rule can be expressed per registry host."""

from __future__ import annotations

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

__all__ = ["NODES", "NodesConsumer", "stack_node_plan"]


def stack_node_plan(settings: NodesSettings, policy: ImagePolicy, registry: StrictModel | None) -> NodePlan:
    """The node plan of a stack: its completed policy, and what the platform registry adds that
    the policy does not hold (kind's container address, the registry's own CA)."""
    if isinstance(registry, RegistrySettings):
        return node_plan(
            policy,
            settings,
            addresses=registry.node_addresses(),
            platform_ca_hosts=registry.platform_ca_hosts(),
        )
    return node_plan(policy, settings)


def _problem(problem: NodeProblem) -> Problem:
    key, *rest = problem.path
    return Problem((f"@{key}", *rest), problem.value, problem.reason, problem.fix)


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

    def requests(self, settings: NodesSettings, facts: StackFacts) -> list[ImageRequest]:
        if not settings.daemon_set.enabled:
            return []
        assert facts.policy is not None
        plan = stack_node_plan(settings, facts.policy, facts.sections.get("registry"))
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
        problems = exclude_problems(settings, facts.policy)
        if settings.daemon_set.enabled:
            plan = stack_node_plan(settings, facts.policy, facts.sections.get("registry"))
            problems += [_problem(problem) for problem in plan.containerd_problems]
        return problems

    def claims(self, settings: NodesSettings, platform: str) -> dict[str, list[ObjectKey]]:
        if not settings.daemon_set.enabled:
            return {}
        return {f"{TYPE_TOKEN} {platform}-nodes": object_keys(settings.daemon_set)}


NODES = NodesConsumer()
