"""Platform's node step (imports pulumi): the NodeRegistryConfig DaemonSet when
``airlock:nodes.daemonSet.enabled``, with the policy's CAs and the platform registry's CA
output; the stack export ``nodes``."""

from __future__ import annotations

import pulumi

from ..assembly import Assembly, Composed
from ..registry.compose import platform_registry_ca
from .component import NodeRegistryConfig, NodeRegistryConfigArgs
from .consumer import stack_node_plan
from .plan import NodePlan
from .settings import NodesSettings

__all__ = ["compose", "node_plan", "nodes_args"]


def node_plan(assembly: Assembly, settings: NodesSettings) -> NodePlan:
    config = assembly.loaded.config
    return stack_node_plan(
        settings, config.effective_policy(), getattr(config, "registry", None), config.registry_credentials
    )


def nodes_args(assembly: Assembly, settings: NodesSettings, plan: NodePlan) -> NodeRegistryConfigArgs:
    """The DaemonSet component's arguments (Platform, and the component package's
    NodeRegistryConfig): the policy's CAs, the platform registry's CA output, the logins."""
    assert assembly.image_config is not None
    policy = assembly.loaded.config.effective_policy()
    cas: dict[str, pulumi.Input[str]] = {
        host: trust.ca_bundle for host, trust in policy.registries.items() if trust.ca_bundle
    }
    registry_ca, _ = platform_registry_ca(assembly)
    if registry_ca is not None:
        for host in plan.ca_sources:
            cas.setdefault(host, registry_ca)
    return NodeRegistryConfigArgs(
        settings=settings,
        plan=plan,
        image_config=assembly.image_config,
        cas=cas,
        logins={
            host: login
            for host in sorted(plan.login_hosts)
            if (login := assembly.image_config.login_for(host)) is not None
        },
        labels=assembly.labels,
        namespace_resource=assembly.namespaces.get(settings.daemon_set.namespace),
    )


def compose(assembly: Assembly, settings: NodesSettings) -> Composed:
    plan = node_plan(assembly, settings)
    export: dict[str, object] = {
        "upstream": settings.upstream,
        "upstreams": [mirror.upstream for mirror in plan.hosts],
        "registries": [endpoint.host for endpoint in plan.registries],
    }
    if not settings.daemon_set.enabled:
        return Composed({}, {"nodes": export})
    component = NodeRegistryConfig(
        f"{assembly.name}-nodes",
        nodes_args(assembly, settings, plan),
        opts=pulumi.ResourceOptions(parent=assembly.parent),
    )
    export.update({"image": component.image, "files": component.files})
    return Composed({"nodes": component}, {"nodes": pulumi.Output.from_input(export)})
