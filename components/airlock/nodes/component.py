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
prints the snippet). A mirror that needs a login gets an ``Authorization`` header (the kubelet
hands containerd only the login of the image's own registry); those files live in a Secret,
the rest of the tree in a ConfigMap. Outputs: ``image`` (where the DaemonSet's own image is
pulled from), ``files`` (the tree's paths), ``upstreams`` (the registries mirrored).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pulumi
import pulumi_kubernetes as k8s

from ..image_config import adopt
from ..resources import MANAGED_BY, claim_objects, cluster_of
from .containerd import basic_auth, hosts_tree, login_paths
from .images import SYNC
from .plan import NodePlan
from .settings import NodesSettings
from .spec import TYPE_TOKEN, TreeData, daemon_set, metadata, object_keys, tree_data, volume_sources

if TYPE_CHECKING:
    from ..image_config import ImageConfig, PendingImageConfig, RegistryLoginInput

__all__ = ["NodeRegistryConfig", "NodeRegistryConfigArgs"]


@dataclass(frozen=True)
class NodeRegistryConfigArgs:
    settings: NodesSettings
    plan: NodePlan
    """``nodes.plan.node_plan`` of the policy the images were resolved with."""
    image_config: ImageConfig | PendingImageConfig
    """Resolves ``nodes/sync`` (``nodes.images.image_requests``) and holds the namespace's pull
    secret; a pending one is registered as this component's child."""
    cas: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """CA PEM per registry host the plan names in ``ca_sources`` (policy CAs and, for an
    in-cluster registry, its CA output)."""
    logins: Mapping[str, RegistryLoginInput] = field(default_factory=dict)
    """Login per registry host the plan names in ``login_hosts``."""
    labels: Mapping[str, str] = field(default_factory=dict)
    namespace_resource: pulumi.Resource | None = None


def _check(args: NodeRegistryConfigArgs) -> None:
    plan = args.plan
    problems = [*plan.problems, *plan.containerd_problems]
    if problems:
        raise ValueError(
            "nodes: "
            + "; ".join(f"{'.'.join(map(str, p.path))}: {p.value}: {p.reason}; {p.fix}" for p in problems)
        )
    for what, needed, given in (
        ("CA", plan.ca_sources, args.cas),
        ("login", {host: "a registry login" for host in plan.login_hosts}, args.logins),
    ):
        missing = sorted(set(needed) - set(given))
        if missing:
            raise ValueError(
                f"nodes: no {what} given for {', '.join(missing)} "
                f"({'; '.join(needed[host] for host in missing)}); pass it in NodeRegistryConfigArgs"
            )


class NodeRegistryConfig(pulumi.ComponentResource):
    image: pulumi.Output[str]
    files: pulumi.Output[list[str]]
    upstreams: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: NodeRegistryConfigArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        settings, plan = args.settings.daemon_set, args.plan
        if not settings.uninstall:
            _check(args)
        private = [] if settings.uninstall else login_paths(plan)
        image = args.image_config.resolved(SYNC, settings.namespace)
        pull_secrets = args.image_config.pull_secret_names(settings.namespace)
        claim_objects(f"{TYPE_TOKEN} {name}", object_keys(settings, bool(private)), cluster_of(opts))
        super().__init__(TYPE_TOKEN, name, None, opts)
        adopt(args.image_config, self)

        def render(pems: Mapping[str, str], auths: Mapping[str, str] | None = None) -> dict[str, str]:
            return {} if settings.uninstall else hosts_tree(plan, pems, auths)

        cas = {host: args.cas[host] for host in sorted(plan.ca_sources) if not settings.uninstall}
        # the public half never sees a login, so it stays reviewable (not a secret Output)
        tree: pulumi.Output[TreeData] = pulumi.Output.all(**cas).apply(
            lambda pems: tree_data(render(pems), private)
        )
        labels = {**MANAGED_BY, **args.labels}
        home = [args.namespace_resource] if args.namespace_resource is not None else []
        objects: list[pulumi.Resource] = [
            k8s.core.v1.ConfigMap(
                f"{name}-files",
                metadata=metadata(settings, labels),
                data=tree.apply(lambda t: t.config_map),
                opts=pulumi.ResourceOptions(parent=self, depends_on=home),
            )
        ]
        if private:
            auths = {
                host: pulumi.Output.all(login.username, login.password).apply(
                    lambda u: basic_auth(str(u[0]), str(u[1]))
                )
                for host, login in sorted(args.logins.items())
                if host in plan.login_hosts
            }
            secret_files = pulumi.Output.all(pulumi.Output.all(**cas), pulumi.Output.all(**auths)).apply(
                lambda values: tree_data(render(values[0], values[1]), private).secret
            )
            objects.append(
                k8s.core.v1.Secret(
                    f"{name}-logins",
                    metadata=metadata(settings, labels),
                    type="Opaque",
                    string_data=pulumi.Output.secret(secret_files),  # type: ignore[arg-type]
                    opts=pulumi.ResourceOptions(parent=self, depends_on=home),
                )
            )
        k8s.apps.v1.DaemonSet(
            name,
            metadata=metadata(settings, labels),
            spec=daemon_set(
                settings,
                image,
                pull_secrets,
                tree.apply(lambda t: volume_sources(settings, t)),
                tree.apply(lambda t: t.digest),
                labels,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*home, *objects]),
        )
        self.image = pulumi.Output.from_input(str(image.final))
        self.files = tree.apply(lambda t: t.paths)
        self.upstreams = pulumi.Output.from_input(
            [] if settings.uninstall else [mirror.upstream for mirror in plan.hosts]
        )
        self.register_outputs({"image": self.image, "files": self.files, "upstreams": self.upstreams})
