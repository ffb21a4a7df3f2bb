"""Platform's registry step (imports pulumi): the PrivateRegistry, its login for the pull
secrets, and the stack exports ``registry``, ``registryPassword``, ``registryPullSecretPayload``."""

from __future__ import annotations

import pulumi

from ..assembly import Assembly, Composed
from ..image_config import RegistryLoginInput
from .component import PrivateRegistry, PrivateRegistryArgs
from .settings import RegistrySettings

__all__ = ["compose", "platform_registry_ca", "registry_args", "summary"]


def summary(registry: PrivateRegistry, settings: RegistrySettings) -> pulumi.Output[dict[str, object]]:
    """What a downstream stack needs (no secrets), with the same keys in every mode (null where a
    mode has no value): mode, endpoint, caBundle, username, caches, insecure."""
    return pulumi.Output.all(
        mode=settings.mode,
        endpoint=registry.endpoint,
        caBundle=registry.ca_bundle,
        username=registry.username,
        caches=registry.caches,
        insecure=settings.plain_http,
    ).apply(lambda values: dict(values))


def platform_registry_ca(assembly: Assembly) -> tuple[pulumi.Output[str] | None, frozenset[str]]:
    """The platform registry's CA (generated at deploy time; None without one) and the hosts it
    serves, for the consumers that must trust it (Crossplane, the nodes, ImageSync)."""
    found = assembly.composed.get("registry")
    registry = found.components.get("registry") if found else None
    settings = getattr(assembly.loaded.config, "registry", None)
    if isinstance(registry, PrivateRegistry) and isinstance(settings, RegistrySettings):
        return registry.ca_bundle, frozenset(settings.served_registries())
    return None, frozenset()


def registry_args(assembly: Assembly, settings: RegistrySettings) -> PrivateRegistryArgs:
    """The component arguments (Platform, and the component package's PrivateRegistry, which
    passes its own pending ImageConfig as ``images``)."""
    namespace = settings.namespace if settings.mode == "in-cluster" else None
    return PrivateRegistryArgs(
        settings=settings,
        images=assembly.image_config or assembly.loaded.table,
        labels=assembly.labels,
        namespace_resource=assembly.namespaces.get(namespace) if namespace else None,
    )


def compose(assembly: Assembly, settings: RegistrySettings) -> Composed:
    registry = PrivateRegistry(
        f"{assembly.name}-registry",
        registry_args(assembly, settings),
        opts=pulumi.ResourceOptions(parent=assembly.parent),
    )
    exports: dict[str, object] = {
        "registry": summary(registry, settings),
        "registryPassword": registry.password,  # secret
        "registryPullSecretPayload": registry.pull_secret_payload,  # secret
    }
    logins = {}
    if registry.password is not None and registry.username is not None:
        login = RegistryLoginInput(username=registry.username, password=registry.password)
        logins = {host: login for host in sorted(settings.login_hosts())}
    return Composed(
        {"registry": registry},
        exports,
        logins,
        secret_exports=frozenset({"registryPassword", "registryPullSecretPayload"}),
    )
