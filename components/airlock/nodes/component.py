"""NodeRegistryConfig: the policy's runtime mirrors and the registries' trust on every node of a
cluster whose nodes airlock does not create (a DaemonSet writing containerd's hosts.toml tree).

Used on its own, with the ImageConfig that resolved its image and the policy's node plan::

    settings = NodesSettings.model_validate({"daemonSet": {"enabled": True}})
    plan = node_plan(policy, settings)
    images = ImageConfig("images", ImageConfigArgs(
        policy=policy, requests=image_requests(settings.daemon_set, plan.hosts_to_trust)))
    NodeRegistryConfig("nodes", NodeRegistryConfigArgs(settings=settings, plan=plan, image_config=images))

The nodes' containerd must read ``settings.daemon_set.certs_dir`` (``config_path``; the default
from containerd 2.2, set explicitly on 1.x-2.1: ``airlock nodes render --runtime containerd1``
prints the snippet). Outputs: ``image`` (where the DaemonSet's own image is pulled from),
``files`` (the tree's paths), ``upstreams`` (the registries mirrored).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pulumi
import pulumi_kubernetes as k8s

from ..resources import MANAGED_BY, claim_objects, cluster_of
from .containerd import hosts_tree
from .images import SYNC
from .plan import NodePlan
from .settings import NodesSettings
from .spec import TYPE_TOKEN, ConfigMapData, config_map_data, daemon_set, metadata, object_keys

if TYPE_CHECKING:
    from ..image_config import ImageConfig

__all__ = ["NodeRegistryConfig", "NodeRegistryConfigArgs"]


@dataclass(frozen=True)
class NodeRegistryConfigArgs:
    settings: NodesSettings
    plan: NodePlan
    """``nodes.plan.node_plan`` of the policy the images were resolved with."""
    image_config: ImageConfig
    """Resolves ``nodes/sync`` (``nodes.images.image_requests``) and holds the namespace's pull secret."""
    cas: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """CA PEM per registry host the plan names in ``ca_sources`` (policy CAs and, for an
    in-cluster registry, its CA output)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    namespace_resource: pulumi.Resource | None = None


class NodeRegistryConfig(pulumi.ComponentResource):
    image: pulumi.Output[str]
    files: pulumi.Output[list[str]]
    upstreams: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: NodeRegistryConfigArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        settings, plan = args.settings.daemon_set, args.plan
        if plan.containerd_problems:
            raise ValueError(
                "nodes: "
                + "; ".join(
                    f"{'.'.join(map(str, p.path))}: {p.value}: {p.reason}; {p.fix}"
                    for p in plan.containerd_problems
                )
            )
        missing = sorted(set(plan.ca_sources) - set(args.cas))
        if missing:
            raise ValueError(
                f"nodes: no CA given for {', '.join(missing)} "
                f"({'; '.join(plan.ca_sources[h] for h in missing)}); pass it in NodeRegistryConfigArgs.cas"
            )
        image = args.image_config.resolved(SYNC, settings.namespace)
        pull_secrets = args.image_config.pull_secret_names(settings.namespace)
        claim_objects(f"{TYPE_TOKEN} {name}", object_keys(settings), cluster_of(opts))
        super().__init__(TYPE_TOKEN, name, None, opts)

        cas = {host: args.cas[host] for host in sorted(plan.ca_sources)}
        tree: pulumi.Output[ConfigMapData] = pulumi.Output.all(**cas).apply(
            lambda pems: config_map_data(hosts_tree(plan, pems))
        )
        labels = {**MANAGED_BY, **args.labels}
        home = [args.namespace_resource] if args.namespace_resource is not None else []
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-files",
            metadata=metadata(settings, labels),
            data=tree.apply(lambda t: t.data),
            opts=pulumi.ResourceOptions(parent=self, depends_on=home),
        )
        k8s.apps.v1.DaemonSet(
            name,
            metadata=metadata(settings, labels),
            spec=daemon_set(
                settings,
                image,
                pull_secrets,
                tree.apply(lambda t: t.items),
                tree.apply(lambda t: t.digest),
                labels,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*home, config_map]),
        )
        self.image = pulumi.Output.from_input(str(image.final))
        self.files = tree.apply(lambda t: t.paths)
        self.upstreams = pulumi.Output.from_input([mirror.upstream for mirror in plan.hosts])
        self.register_outputs({"image": self.image, "files": self.files, "upstreams": self.upstreams})
