"""Platform: composes airlock's consumers from a validated stack configuration.

Order: namespaces; then the consumers that supply logins (the registry: its own image is
resolved so that it never comes from itself); then ImageConfig, which holds the one image
table (resolved once, by ``load_stack_config``) and every pull secret; then every other
consumer (vcluster tenants), each asking ImageConfig for its images in its own format.

Each consumer is a room (``airlock/<room>/``) listed in ``airlock.consumers.CONSUMERS``; its
``compose`` function builds its components. Every Kubernetes object the platform will create
is claimed before the Platform registers itself, so two parts that would create the same
object stop the program with nothing registered.

Stack exports (``exports``): camelCase keys, the same keys in every registry mode; see the
README's "Stack outputs".
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from .assembly import Assembly, Composed
from .config import LoadedConfig
from .consumers import Consumer
from .image_config import ImageConfig, ImageConfigArgs, RegistryLoginInput
from .model import StrictModel
from .resources import MANAGED_BY, as_secret, claim_objects, cluster_of

__all__ = ["Platform", "PlatformArgs"]

TYPE_TOKEN = "airlock:index:Platform"


@dataclass(frozen=True)
class PlatformArgs:
    loaded: LoadedConfig
    """A stack's validated configuration with its lockfile and image table
    (``airlock.config.load_stack_config``, or ``airlock.stack.load`` inside a Pulumi program)."""
    credentials: Mapping[str, RegistryLoginInput] | None = None
    """The logins of ``registryCredentials`` when their passwords are Outputs (the component
    package); None: from the configuration's values."""


def _compose_function(consumer: Consumer[StrictModel]) -> Callable[[Assembly, StrictModel], Composed]:
    module, _, function = consumer.component.partition(":")
    compose: Callable[[Assembly, StrictModel], Composed] = getattr(importlib.import_module(module), function)
    return compose


class Platform(pulumi.ComponentResource):
    """Namespaces, the consumers of the stack, and the ImageConfig every consumer reads."""

    images: pulumi.Output[list[dict[str, object]]]
    image_map: pulumi.Output[dict[str, dict[str, str]]]
    pull_secrets: pulumi.Output[dict[str, str]]
    namespaces: pulumi.Output[list[str]]

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        loaded = args.loaded
        config = loaded.config
        sections = config.sections()
        namespaces = sorted((ns, spec) for ns, spec in config.all_namespaces().items())
        # Every object this platform creates, claimed before anything registers (its children
        # claim the same objects again, as the same owners, on the same cluster).
        cluster = cluster_of(opts)
        claim_objects(
            f"{TYPE_TOKEN} {name}",
            [("v1", "Namespace", "", ns) for ns, spec in namespaces if spec.create],
            cluster,
        )
        claim_objects(
            f"airlock:index:ImageConfig {name}-images",
            [("v1", "Secret", ns, config.pull_secret_name) for ns in loaded.table.secret_registries],
            cluster,
        )
        for consumer, settings in sections:
            for owner, keys in consumer.claims(settings, name).items():
                claim_objects(owner, keys, cluster)
        super().__init__(TYPE_TOKEN, name, None, opts)

        labels = {"airlock/environment": config.environment}
        namespace_resources: dict[str, pulumi.Resource] = {}
        for namespace, spec in namespaces:
            if spec.create:
                namespace_resources[namespace] = k8s.core.v1.Namespace(
                    f"{name}-ns-{namespace}",
                    metadata={"name": namespace, "labels": {**MANAGED_BY, **labels, **spec.labels}},
                    opts=pulumi.ResourceOptions(parent=self),
                )
        assembly = Assembly(name, self, loaded, namespace_resources, labels)

        logins: dict[str, RegistryLoginInput] = dict(args.credentials or {}) or {
            host: RegistryLoginInput(username=login.username, password=as_secret(login.password))
            for host, login in config.registry_credentials.items()
        }
        composed: dict[str, Composed] = {}
        for consumer, settings in sections:
            if consumer.provides_logins:
                result = _compose_function(consumer)(assembly, settings)
                logins.update(result.logins)
                composed[consumer.key] = result

        self.image_config: ImageConfig = ImageConfig(
            f"{name}-images",
            ImageConfigArgs(
                table=loaded.table,
                credentials=logins,
                pull_secret_name=config.pull_secret_name,
                labels=labels,
                namespace_resources=namespace_resources,
                not_mirrored=loaded.not_mirrored,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for consumer, settings in sections:
            if not consumer.provides_logins:
                assembly = Assembly(
                    name, self, loaded, namespace_resources, labels, self.image_config, dict(composed)
                )
                composed[consumer.key] = _compose_function(consumer)(assembly, settings)

        # Every consumer's components by key (``registry``, tenant names, ``gateway``).
        self.components: dict[str, pulumi.ComponentResource] = {
            key: component for result in composed.values() for key, component in result.components.items()
        }
        self.images = self.image_config.images
        self.image_map = self.image_config.image_map
        self.pull_secrets = self.image_config.pull_secrets
        self.namespaces = pulumi.Output.from_input([namespace for namespace, _ in namespaces])
        # The stack exports, camelCase (``__main__.py`` exports each).
        self.exports: dict[str, object] = {
            "environment": config.environment,
            "images": self.images,
            "imageMap": self.image_map,
            "pullSecrets": self.pull_secrets,
            "namespaces": self.namespaces,
            "unmirroredImages": self.image_config.unmirrored,
        }
        self.secret_exports: frozenset[str] = frozenset()
        """Keys of ``exports`` that are secrets."""
        for result in composed.values():
            self.exports.update(result.exports)
            self.secret_exports |= result.secret_exports
        self.register_outputs({key: value for key, value in self.exports.items() if key != "environment"})

    def export(self, exporter: Callable[[str, object], None] = pulumi.export) -> Mapping[str, object]:
        """Export every stack output (``pulumi.export``), and return them."""
        for key, value in self.exports.items():
            exporter(key, value)
        return self.exports
