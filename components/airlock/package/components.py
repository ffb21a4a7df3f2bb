"""The components as another Pulumi language sees them: the component package's facades.

Each class here IS the Python component (a subclass: same class name, same type token
``airlock:index:<Component>``, same children), with an ``__init__`` that takes plain data
shaped like the stack settings (``airlock.package.types``, generated from the settings
models) instead of Python objects. It makes the inputs plain (``inputs.plain_inputs``), runs
them through the stack loader (same validation, same messages, camelCase paths), and calls the
Python component with what Platform would have given it — ``compose``'s own argument builders.
A room used on its own owns its images: it resolves them before registering and registers an
ImageConfig as its child (``image_config.PendingImageConfig``).

Class-level annotations are the outputs (the schema reads them with their docstrings); every
output the Python class declares is declared again here, with a description.

No ``from __future__ import annotations``: Pulumi's analyzer reads evaluated annotations.
"""

from typing import Any, Required, TypedDict

import pulumi
from pulumi.errors import InputPropertiesError
from pydantic.alias_generators import to_snake

from .. import image_config as _image_config
from .. import kube
from .. import platform as _platform
from ..assembly import Assembly
from ..config import LoadedConfig
from ..consumers import CONSUMERS
from ..crossplane import component as _crossplane
from ..crossplane import settings as crossplane_settings
from ..crossplane.compose import crossplane_args
from ..gateway import component as _gateway
from ..gateway import settings as gateway_settings
from ..gateway.compose import gateway_args
from ..model import StrictModel
from ..nodes import component as _nodes
from ..nodes import settings as nodes_settings
from ..nodes.compose import node_plan, nodes_args
from ..registry import component as _registry
from ..registry import settings as registry_settings
from ..registry.compose import registry_args
from ..vcluster import component as _vcluster
from ..vcluster import settings as vcluster_settings
from ..vcluster.compose import tenant_args
from . import inputs
from .argtypes import (
    CrossplaneSettings,
    GatewaySettings,
    ImagePolicy,
    ImageSyncSettings,
    NamespaceSpec,
    NodesSettings,
    RegistryLogin,
    RegistrySettings,
    TenantSettings,
    VClusterChart,
    VClusterSettings,
    WorkloadImage,
)

__all__ = [
    "COMPONENTS",
    "Crossplane",
    "Gateway",
    "ImageConfig",
    "ImageSettings",
    "NodeRegistryConfig",
    "Platform",
    "PrivateRegistry",
    "VirtualCluster",
]


class ImageSettings(TypedDict, total=False):
    """The image policy and what it resolves with: a stack's ``airlock:images``,
    ``airlock:registryCredentials``, ``airlock:pullSecretName``, ``airlock:environment`` and
    its ``images.lock``."""

    policy: pulumi.Input[ImagePolicy]
    """The image policy (the keys of a stack's ``airlock:images``); the default policy keeps every image upstream, pinned by digest where the lock has one."""
    lock: pulumi.Input[dict[str, pulumi.Input[str]]]
    """Source reference (with its tag) -> manifest digest (``sha256:...``): the ``images`` of an ``images.lock`` (``airlock images lock`` writes it)."""
    registry_credentials: pulumi.Input[dict[str, pulumi.Input[RegistryLogin]]]
    """Registry host[:port] -> login, rendered into the pull secrets of the namespaces that pull from it; pass the password as a secret."""
    pull_secret_name: pulumi.Input[str]
    """Name of the dockerconfigjson Secret in each namespace. Default: ``airlock-pull``."""
    environment: pulumi.Input[str]
    """Environment name, in the ``airlock/environment`` label. Default: the stack name."""


_IMAGE_PREFIXES = (
    ("airlock:images", "images.policy"),
    ("airlock:registryCredentials", "images.registryCredentials"),
    ("airlock:pullSecretName", "images.pullSecretName"),
    ("airlock:environment", "images.environment"),
    ("images.lock", "images.lock"),
)


def _deferrable_password(path: inputs.Path, at: inputs.Path) -> bool:
    """A registry login's password under ``at`` (it only reaches a pull Secret)."""
    return len(path) == len(at) + 2 and path[: len(at)] == at and path[-1] == "password"


def _used_namespaces(key: str, section: Any) -> dict[str, Any]:
    """The namespaces a section's objects go to, declared as existing (``create: false``); none
    when the section does not validate (the loader then reports why, with its paths)."""
    consumer = next(consumer for consumer in CONSUMERS if consumer.key == key)
    try:
        settings = consumer.settings.model_validate(section)
    except ValueError:
        return {}
    return {namespace: {"create": False} for namespace in consumer.used_namespaces(settings)}


class _Stack:
    """A room's inputs made plain and loaded as a one-section stack."""

    def __init__(self, args: Any, key: str, section_of: Any, prefixes: tuple[tuple[str, str], ...]) -> None:
        plain = inputs.plain_inputs(
            args, lambda path: _deferrable_password(path, ("images", "registry_credentials"))
        )
        images = plain.data.get("images") or {}
        section = section_of(plain.data)
        keys: dict[str, Any] = {
            "images": images.get("policy") or {},
            "registryCredentials": images.get("registry_credentials") or {},
            key: section,
            "namespaces": _used_namespaces(key, section),
        }
        for name, stack_key in (("pull_secret_name", "pullSecretName"), ("environment", "environment")):
            if images.get(name) is not None:
                keys[stack_key] = images[name]
        secret = {_stack_key(path, key) for path in plain.secret}
        secret |= {"registryCredentials"} if plain.deferred else set()
        self.loaded: LoadedConfig = inputs.load(
            keys,
            secret=secret,
            lock=inputs.lockfile(images.get("lock"), "images.lock"),
            prefixes=(*prefixes, *_IMAGE_PREFIXES),
        )
        deferred = {str(path[2]): output for path, output in plain.deferred.items()}
        self.logins = inputs.logins(self.loaded, deferred)

    def assembly(self, name: str, opts: pulumi.ResourceOptions | None) -> Assembly:
        """What Platform would hand the room: the pending ImageConfig in place of its own."""
        config = self.loaded.config
        labels = {"airlock/environment": config.environment}
        pending = _image_config.PendingImageConfig(
            f"{name}-images",
            _image_config.ImageConfigArgs(
                table=self.loaded.table,
                credentials=self.logins,
                pull_secret_name=config.pull_secret_name,
                labels=labels,
            ),
            opts,
        )
        return Assembly(name, None, self.loaded, {}, labels, pending)

    def section(self, key: str) -> StrictModel:
        settings: StrictModel = getattr(self.loaded.config, key)
        return settings


def _stack_key(path: inputs.Path, section_key: str) -> str:
    """The stack config key a secret input value lands under."""
    if path[0] == "images":
        return {"policy": "images", "registry_credentials": "registryCredentials"}.get(str(path[1]), "images")
    return section_key


class ImageConfigArgs(TypedDict, total=False):
    """Inputs of ImageConfig."""

    images: pulumi.Input[ImageSettings]
    """The image policy, lock, registry logins and pull secret name."""
    workload_images: pulumi.Input[dict[str, pulumi.Input[WorkloadImage]]]
    """Images to resolve by logical name ``<group>/<role>`` (a stack's ``airlock:workloadImages``); each namespace named must exist."""
    labels: pulumi.Input[dict[str, pulumi.Input[str]]]
    """Extra labels on the pull Secrets."""


class ImageConfig(_image_config.ImageConfig):
    """Resolves images through the image policy and creates one least-privilege dockerconfigjson pull Secret per namespace that needs one."""

    images: pulumi.Output[list[dict[str, Any]]]
    """One row per (image, namespace): source, final reference, rule, pullPolicy, pullSecrets, platforms..."""
    image_map: pulumi.Output[dict[str, dict[str, str]]]
    """Logical name -> namespace -> final reference."""
    pull_secrets: pulumi.Output[dict[str, str]]
    """Namespace -> name of its pull Secret, for the namespaces that have one."""
    unmirrored: pulumi.Output[list[str]]
    """Logical names of images a verify report found missing (always empty here: the package takes no report)."""

    def __init__(self, name: str, args: ImageConfigArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        plain = inputs.plain_inputs(
            args, lambda path: _deferrable_password(path, ("images", "registry_credentials"))
        )
        images = plain.data.get("images") or {}
        workloads = plain.data.get("workload_images") or {}
        keys: dict[str, Any] = {
            "images": images.get("policy") or {},
            "registryCredentials": images.get("registry_credentials") or {},
            "workloadImages": workloads,
            "namespaces": {
                str(item["namespace"]): {"create": False}
                for item in workloads.values()
                if isinstance(item, dict) and kube.DNS_LABEL.fullmatch(str(item.get("namespace")))
            },
        }
        for field, stack_key in (("pull_secret_name", "pullSecretName"), ("environment", "environment")):
            if images.get(field) is not None:
                keys[stack_key] = images[field]
        secret = {_stack_key(path, "workloadImages") for path in plain.secret}
        secret |= {"registryCredentials"} if plain.deferred else set()
        loaded = inputs.load(
            keys,
            secret=secret,
            lock=inputs.lockfile(images.get("lock"), "images.lock"),
            prefixes=(("airlock:workloadImages", "workloadImages"), *_IMAGE_PREFIXES),
        )
        deferred = {str(path[2]): output for path, output in plain.deferred.items()}
        config = loaded.config
        super().__init__(
            name,
            _image_config.ImageConfigArgs(
                table=loaded.table,
                credentials=inputs.logins(loaded, deferred),
                pull_secret_name=config.pull_secret_name,
                labels={"airlock/environment": config.environment, **(plain.data.get("labels") or {})},
            ),
            opts,
        )


class PrivateRegistryArgs(TypedDict, total=False):
    """Inputs of PrivateRegistry."""

    images: pulumi.Input[ImageSettings]
    """The image policy the registry's own image is resolved with (and the pull secret of its namespace)."""
    settings: Required[pulumi.Input[RegistrySettings]]
    """The registry (a stack's ``airlock:registry``); its namespace must exist."""


class PrivateRegistry(_registry.PrivateRegistry):
    """The platform's own registry: in the cluster (TLS from a generated CA, htpasswd login, pull-through caches), a local container for kind, or an existing one."""

    endpoint: pulumi.Output[str]
    """host[:port] clients pull from."""
    ca_bundle: pulumi.Output[str] | None
    """PEM CA bundle clients trust; none when the registry needs none."""
    username: str | None
    """The login's user name; none for the unauthenticated docker-mode registry."""
    password: pulumi.Output[str] | None
    """The login's password (secret)."""
    pull_secret_payload: pulumi.Output[str] | None
    """A .dockerconfigjson with the registry's login for every host it serves (secret)."""
    hosted: pulumi.Output[str]
    """Where images pushed by ``airlock images mirror`` live (the endpoint)."""
    caches: pulumi.Output[dict[str, str]]
    """Upstream registry -> the pull-through cache's address."""
    _secret_outputs = ("password", "pull_secret_payload")

    def __init__(
        self, name: str, args: PrivateRegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        stack = _Stack(
            args, "registry", lambda data: data.get("settings"), (("airlock:registry", "settings"),)
        )
        assembly = stack.assembly(name, opts)
        settings = stack.section("registry")
        assert isinstance(settings, registry_settings.RegistrySettings)
        core = registry_args(assembly, settings)
        super().__init__(name, core, opts)


class VirtualClusterArgs(TypedDict, total=False):
    """Inputs of VirtualCluster."""

    images: pulumi.Input[ImageSettings]
    """The image policy vcluster's images (syncer, Kubernetes, CoreDNS, background proxy) and the tenant's translated images are resolved with."""
    tenant: Required[pulumi.Input[TenantSettings]]
    """The tenant (one entry of a stack's ``airlock:vcluster.tenants``); its host namespace must exist."""
    chart: pulumi.Input[VClusterChart]
    """The vcluster chart source and pinned version."""
    kubernetes_version: pulumi.Input[str]
    """Tenant Kubernetes version (``v1.MINOR.PATCH``, a minor the chart supports). Default: the pinned chart's."""


class VirtualCluster(_vcluster.VirtualCluster):
    """One vcluster tenant whose every image, the background proxy's included, goes through the image policy."""

    kubeconfig: pulumi.Output[str]
    """The tenant's kubeconfig (secret), read from the vc-<name> Secret vcluster writes."""
    background_proxy_image: pulumi.Output[str]
    """Final reference of the vcluster CLI's background proxy (``vcluster connect --background-proxy-image``)."""
    connect_command: pulumi.Output[dict[str, str]]
    """``vcluster connect`` commands using the policy's background proxy image."""
    _secret_outputs = ("kubeconfig",)

    def __init__(
        self, name: str, args: VirtualClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        def section(data: dict[str, Any]) -> dict[str, Any]:
            vcluster: dict[str, Any] = {"tenants": [data.get("tenant")]}
            for field, key in (("chart", "chart"), ("kubernetes_version", "kubernetesVersion")):
                if data.get(field) is not None:
                    vcluster[key] = data[field]
            return vcluster

        stack = _Stack(
            args,
            "vcluster",
            section,
            (("airlock:vcluster.tenants[0]", "tenant"), ("airlock:vcluster", "")),
        )
        settings = stack.section("vcluster")
        assert isinstance(settings, vcluster_settings.VClusterSettings)
        core = tenant_args(stack.assembly(name, opts), settings, settings.tenants[0])
        super().__init__(name, core, opts)


class GatewayArgs(TypedDict, total=False):
    """Inputs of Gateway."""

    images: pulumi.Input[ImageSettings]
    """The image policy the controller, proxy, certgen and rate-limit images are resolved with."""
    settings: Required[pulumi.Input[GatewaySettings]]
    """The Envoy Gateway installation (a stack's ``airlock:gateway``) on the cluster of the resource's provider; its namespaces must exist. ``tenant`` is for Platform only."""


class Gateway(_gateway.Gateway):
    """One Envoy Gateway installation: controller and proxy images (repository + tag, or digest) from the policy, GatewayClasses, EnvoyProxies and Gateways."""

    controller_image: pulumi.Output[str]
    """Final reference of the Envoy Gateway controller."""
    proxy_image: pulumi.Output[str]
    """Final reference of the Envoy proxy the EnvoyProxy resources set."""
    classes: pulumi.Output[list[str]]
    """GatewayClass names."""
    gateways: pulumi.Output[list[str]]
    """Gateways as namespace/name."""

    def __init__(self, name: str, args: GatewayArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        given = args.get("settings")
        tenant = given.get("tenant") if isinstance(given, dict) else None
        if tenant is not None:
            raise InputPropertiesError(
                "settings.tenant: a Gateway inside a vcluster tenant is composed by Platform",
                [
                    {
                        "property_path": "settings.tenant",
                        "reason": f"{tenant!r}: a Gateway inside a vcluster tenant needs the "
                        "tenant's own component (its provider and host-namespace pull Secret); use "
                        "Platform with the tenant and the gateway, or leave tenant unset and give this "
                        "resource a Kubernetes provider for the tenant's kubeconfig",
                    }
                ],
            )
        stack = _Stack(args, "gateway", lambda data: data.get("settings"), (("airlock:gateway", "settings"),))
        settings = stack.section("gateway")
        assert isinstance(settings, gateway_settings.GatewaySettings)
        super().__init__(name, gateway_args(stack.assembly(name, opts), settings), opts)


class CrossplaneArgs(TypedDict, total=False):
    """Inputs of Crossplane."""

    images: pulumi.Input[ImageSettings]
    """The image policy the core image and the packages are resolved with; its rules become Crossplane ImageConfigs and its registries' CAs the package trust bundle."""
    settings: Required[pulumi.Input[CrossplaneSettings]]
    """The Crossplane installation (a stack's ``airlock:crossplane``); its namespace must exist."""


class Crossplane(_crossplane.Crossplane):
    """Crossplane with its core image from the policy, packages pinned and rewritten by ImageConfigs, and registry CAs trusted."""

    core_image: pulumi.Output[str]
    """Final reference of the Crossplane core image."""
    packages: pulumi.Output[dict[str, str]]
    """``Kind/name`` -> the ``spec.package`` written."""
    image_configs: pulumi.Output[list[str]]
    """Names of the ImageConfig objects (rewrites and pull secrets)."""

    def __init__(self, name: str, args: CrossplaneArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        stack = _Stack(
            args, "crossplane", lambda data: data.get("settings"), (("airlock:crossplane", "settings"),)
        )
        settings = stack.section("crossplane")
        assert isinstance(settings, crossplane_settings.CrossplaneSettings)
        super().__init__(name, crossplane_args(stack.assembly(name, opts), settings), opts)


class NodeRegistryConfigArgs(TypedDict, total=False):
    """Inputs of NodeRegistryConfig."""

    images: pulumi.Input[ImageSettings]
    """The image policy whose mirror rules become the nodes' containerd hosts.toml files (and the DaemonSet's own image)."""
    settings: Required[pulumi.Input[NodesSettings]]
    """The node settings (a stack's ``airlock:nodes``); ``daemonSet.enabled`` must be true and its namespace must exist."""


class NodeRegistryConfig(_nodes.NodeRegistryConfig):
    """A privileged DaemonSet writing the policy's containerd hosts.toml tree (CAs, logins) on every node."""

    image: pulumi.Output[str]
    """Final reference of the DaemonSet's image."""
    files: pulumi.Output[list[str]]
    """Files written under the certs directory."""
    upstreams: pulumi.Output[list[str]]
    """Upstream registries the nodes mirror."""

    def __init__(
        self, name: str, args: NodeRegistryConfigArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        stack = _Stack(args, "nodes", lambda data: data.get("settings"), (("airlock:nodes", "settings"),))
        settings = stack.section("nodes")
        assert isinstance(settings, nodes_settings.NodesSettings)
        if not settings.daemon_set.enabled:
            raise InputPropertiesError(
                "settings.daemonSet.enabled: false",
                [
                    {
                        "property_path": "settings.daemonSet.enabled",
                        "reason": "false: this component is the DaemonSet; set it to true (for kind, "
                        "render the files with 'airlock nodes render' instead)",
                    }
                ],
            )
        assembly = stack.assembly(name, opts)
        super().__init__(name, nodes_args(assembly, settings, node_plan(assembly, settings)), opts)


class PlatformArgs(TypedDict, total=False):
    """Inputs of Platform: a stack's ``airlock:`` configuration (the same keys as ``Pulumi.<stack>.yaml``) and its lockfile."""

    environment: pulumi.Input[str]
    """Environment name (labels, names). Default: the stack name."""
    namespaces: pulumi.Input[dict[str, pulumi.Input[NamespaceSpec]]]
    """Namespaces that run pods pulling through airlock (created unless ``create: false``). Default: ``airlock-system``."""
    images: pulumi.Input[ImagePolicy]
    """The image policy."""
    lock: pulumi.Input[dict[str, pulumi.Input[str]]]
    """Source reference (with its tag) -> manifest digest: the ``images`` of an ``images.lock``."""
    registry_credentials: pulumi.Input[dict[str, pulumi.Input[RegistryLogin]]]
    """Registry host[:port] -> login; pass passwords as secrets."""
    pull_secret_name: pulumi.Input[str]
    """Name of the dockerconfigjson Secrets. Default: ``airlock-pull``."""
    workload_images: pulumi.Input[dict[str, pulumi.Input[WorkloadImage]]]
    """Application images by logical name ``<group>/<role>``."""
    registry: pulumi.Input[RegistrySettings]
    """The platform's registry (``airlock:registry``)."""
    vcluster: pulumi.Input[VClusterSettings]
    """vcluster tenants (``airlock:vcluster``)."""
    gateway: pulumi.Input[GatewaySettings]
    """Envoy Gateway (``airlock:gateway``)."""
    crossplane: pulumi.Input[CrossplaneSettings]
    """Crossplane (``airlock:crossplane``)."""
    nodes: pulumi.Input[NodesSettings]
    """The nodes' container runtimes (``airlock:nodes``)."""
    image_sync: pulumi.Input[ImageSyncSettings]
    """The in-cluster mirror (``airlock:imageSync``): a CronJob of sharded skopeo sync Jobs."""


_PLATFORM_KEYS = {
    "environment": "environment",
    "namespaces": "namespaces",
    "images": "images",
    "registry_credentials": "registryCredentials",
    "pull_secret_name": "pullSecretName",
    "workload_images": "workloadImages",
    **{to_snake(consumer.key): consumer.key for consumer in CONSUMERS},
}


class Platform(_platform.Platform):
    """A whole airlock stack in one resource: namespaces, the registry, vcluster tenants, Envoy Gateway, Crossplane and the nodes' runtimes, every image through one policy."""

    images: pulumi.Output[list[dict[str, Any]]]
    """One row per (image, namespace): source, final reference, rule, pullPolicy, pullSecrets..."""
    image_map: pulumi.Output[dict[str, dict[str, str]]]
    """Logical name -> namespace -> final reference."""
    pull_secrets: pulumi.Output[dict[str, str]]
    """Namespace -> name of its pull Secret."""
    namespaces: pulumi.Output[list[str]]
    """Every namespace the platform's pods pull in."""
    stack_outputs: pulumi.Output[dict[str, Any]]
    """The stack outputs a stack of this configuration exports (registry, tenants, gateway, crossplane, nodes...), but the secret ones."""
    secret_stack_outputs: pulumi.Output[dict[str, Any]]
    """The secret stack outputs (registryPassword, registryPullSecretPayload, tenantKubeconfigs), as one secret."""
    _secret_outputs = ("secret_stack_outputs",)

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        plain = inputs.plain_inputs(args, lambda path: _deferrable_password(path, ("registry_credentials",)))
        keys = {_PLATFORM_KEYS[key]: value for key, value in plain.data.items() if key in _PLATFORM_KEYS}
        secret = {_PLATFORM_KEYS.get(str(path[0]), str(path[0])) for path in plain.secret}
        secret |= {"registryCredentials"} if plain.deferred else set()
        loaded = inputs.load(
            keys,
            secret=secret,
            lock=inputs.lockfile(plain.data.get("lock"), "lock"),
            prefixes=(("images.lock", "lock"),),
        )
        deferred = {str(path[1]): output for path, output in plain.deferred.items()}
        super().__init__(
            name, _platform.PlatformArgs(loaded, credentials=inputs.logins(loaded, deferred)), opts
        )
        public = {key: value for key, value in self.exports.items() if key not in self.secret_exports}
        hidden = {key: value for key, value in self.exports.items() if key in self.secret_exports}
        self.stack_outputs = pulumi.Output.from_input(public)
        self.secret_stack_outputs = pulumi.Output.secret(hidden)


COMPONENTS: list[type[pulumi.ComponentResource]] = [
    ImageConfig,
    PrivateRegistry,
    VirtualCluster,
    Gateway,
    Crossplane,
    NodeRegistryConfig,
    Platform,
]
"""Every component of the package, in the order the schema lists them."""
