"""PrivateRegistry, the pure part: the distribution configuration each instance runs with and
every Kubernetes object the component creates, as plain data. No pulumi import.

Objects are built as pulumi_kubernetes' own ``*ArgsDict`` TypedDicts (imported for type
checking only), so mypy checks every field name and type the component passes on; the SDK
turns the snake_case keys into the API's camelCase. Secrets a provider generates (the
htpasswd hash, the HTTP secret, TLS keys) are not in here: the component adds them as
secret Outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from ..images.policy import ResolvedImage
from ..imagesync.spec import COMPONENT_LABEL as IMAGE_SYNC_LABEL
from ..nodes.kind import local_registry_hosting as kep1755_hosting
from .settings import CONTAINER_PORT, CacheSpec, RegistrySettings, StorageSpec, slug

if TYPE_CHECKING:  # types only: this module never imports pulumi at run time
    from pulumi_kubernetes.apps.v1 import DeploymentSpecArgsDict
    from pulumi_kubernetes.core.v1 import (
        ContainerArgsDict,
        EnvVarArgsDict,
        PersistentVolumeClaimSpecArgsDict,
        ProbeArgsDict,
        ResourceRequirementsArgsDict,
        ServiceSpecArgsDict,
        VolumeArgsDict,
    )
    from pulumi_kubernetes.meta.v1 import ObjectMetaArgsDict
    from pulumi_kubernetes.networking.v1 import NetworkPolicyPeerArgsDict, NetworkPolicySpecArgsDict

__all__ = [
    "AUTH_DIR",
    "CERT_DIR",
    "CONFIG_DIR",
    "CONTAINER_PORT",
    "DATA_DIR",
    "DEBUG_PORT",
    "PART_OF",
    "TYPE_TOKEN",
    "Instance",
    "container",
    "deployment",
    "distribution_config",
    "docker_config",
    "htpasswd_line",
    "instance_config",
    "instances",
    "local_registry_hosting",
    "metadata",
    "network_policy",
    "object_keys",
    "render_config",
    "service",
    "storage_section",
    "volume_claim",
]


def htpasswd_line(username: str, bcrypt_hash: str) -> str:
    """One htpasswd entry. The hash comes from state (random.RandomPassword.bcrypt_hash)."""
    return f"{username}:{bcrypt_hash}\n"


def distribution_config(
    *,
    addr: str,
    storage: dict[str, Any],
    tls: tuple[str, str] | None,
    htpasswd: str | None,
    proxy: CacheSpec | None = None,
    debug_addr: str | None = None,
    realm: str = "airlock",
) -> dict[str, Any]:
    """A distribution (2.8 and 3.x) configuration. Secrets are not in it: the HTTP secret and
    proxy credentials reach the process as REGISTRY_HTTP_SECRET / REGISTRY_PROXY_* variables."""
    http: dict[str, Any] = {"addr": addr, "headers": {"X-Content-Type-Options": ["nosniff"]}}
    if tls is not None:
        http["tls"] = {"certificate": tls[0], "key": tls[1]}
    if debug_addr is not None:
        http["debug"] = {"addr": debug_addr}
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "info", "formatter": "json"},
        "storage": {**storage, "delete": {"enabled": proxy is None}},
        "http": http,
        "health": {"storagedriver": {"enabled": True, "interval": "10s", "threshold": 3}},
    }
    if htpasswd is not None:
        config["auth"] = {"htpasswd": {"realm": realm, "path": htpasswd}}
    if proxy is not None:
        config["proxy"] = {"remoteurl": proxy.url, "ttl": proxy.ttl}
    return config


def render_config(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config, sort_keys=True, default_flow_style=False)


def storage_section(storage: StorageSpec, root: str) -> dict[str, Any]:
    if storage.type == "filesystem":
        return {"filesystem": {"rootdirectory": root}}
    s3: dict[str, Any] = {"bucket": storage.bucket, "region": storage.region}
    if storage.endpoint:
        s3["regionendpoint"] = storage.endpoint
        s3["forcepathstyle"] = True
    return {"s3": s3}


# -- Kubernetes objects (in-cluster mode) -----------------------------------------------------
TYPE_TOKEN = "airlock:index:PrivateRegistry"
CONFIG_DIR = "/etc/distribution"
CERT_DIR = "/etc/distribution-tls"
AUTH_DIR = "/etc/distribution-auth"
DATA_DIR = "/var/lib/registry"
PART_OF = {"app.kubernetes.io/part-of": "airlock-registry"}
DEBUG_PORT = 5001


@dataclass(frozen=True)
class Instance:
    """One distribution process: the hosted registry, or the pull-through cache of one upstream."""

    object_name: str
    """Name of its objects (``registry``, ``registry-cache-docker-io``)."""
    role: str
    """Suffix of its resource names ('' for the hosted registry, ``cache-docker-io``)."""
    cache: CacheSpec | None = None

    @property
    def selector(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": "registry", "app.kubernetes.io/instance": self.object_name}


def instances(settings: RegistrySettings) -> list[Instance]:
    hosted = [Instance(settings.name, "")]
    return hosted + [
        Instance(f"{settings.name}-cache-{slug(cache.upstream)}", f"cache-{slug(cache.upstream)}", cache)
        for cache in settings.caches
    ]


def metadata(
    settings: RegistrySettings, object_name: str, labels: Mapping[str, str], namespace: str | None = None
) -> ObjectMetaArgsDict:
    return {"name": object_name, "namespace": namespace or settings.namespace, "labels": dict(labels)}


def _secret_env(variable: str, secret: str, key: str) -> EnvVarArgsDict:
    return {"name": variable, "value_from": {"secret_key_ref": {"name": secret, "key": key}}}


def container_env(settings: RegistrySettings, instance: Instance) -> list[EnvVarArgsDict]:
    """Secrets reach the process as variables from Secrets, never through the config file."""
    env = [_secret_env("REGISTRY_HTTP_SECRET", f"{settings.name}-auth", "http-secret")]
    if instance.cache is not None and instance.cache.username is not None:
        upstream = f"{instance.object_name}-upstream"
        env += [
            _secret_env("REGISTRY_PROXY_USERNAME", upstream, "username"),
            _secret_env("REGISTRY_PROXY_PASSWORD", upstream, "password"),
        ]
    if settings.storage.type == "s3" and settings.storage.credentials_secret:
        secret = settings.storage.credentials_secret
        env += [
            _secret_env("REGISTRY_STORAGE_S3_ACCESSKEY", secret, "accesskey"),
            _secret_env("REGISTRY_STORAGE_S3_SECRETKEY", secret, "secretkey"),
        ]
    return env


def instance_config(settings: RegistrySettings, instance: Instance) -> str:
    """The config file of one instance (TLS, htpasswd, storage; the proxy section for a cache)."""
    return render_config(
        distribution_config(
            addr=f":{CONTAINER_PORT}",
            storage=storage_section(settings.storage, DATA_DIR),
            tls=(f"{CERT_DIR}/tls.crt", f"{CERT_DIR}/tls.key"),
            htpasswd=f"{AUTH_DIR}/htpasswd",
            proxy=instance.cache,
            debug_addr=f":{DEBUG_PORT}",
        )
    )


def volume_claim(settings: RegistrySettings) -> PersistentVolumeClaimSpecArgsDict | None:
    """The data volume of filesystem storage (one per instance); None for S3."""
    if settings.storage.type != "filesystem":
        return None
    claim: PersistentVolumeClaimSpecArgsDict = {
        "access_modes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": settings.storage.size}},
    }
    if settings.storage.storage_class:
        claim["storage_class_name"] = settings.storage.storage_class
    return claim


def _volumes(settings: RegistrySettings, instance: Instance) -> list[VolumeArgsDict]:
    volumes: list[VolumeArgsDict] = [
        {"name": "config", "config_map": {"name": f"{instance.object_name}-config"}},
        {"name": "tls", "secret": {"secret_name": f"{settings.name}-tls"}},
        {
            "name": "auth",
            "secret": {
                "secret_name": f"{settings.name}-auth",
                "items": [{"key": "htpasswd", "path": "htpasswd"}],
            },
        },
        {"name": "tmp", "empty_dir": {}},
    ]
    if settings.storage.type == "filesystem":
        volumes.append(
            {"name": "data", "persistent_volume_claim": {"claim_name": f"{instance.object_name}-data"}}
        )
    else:
        volumes.append({"name": "data", "empty_dir": {}})
    return volumes


def _resources(settings: RegistrySettings) -> ResourceRequirementsArgsDict:
    spec = settings.resources
    limits = {"memory": spec.memory_limit, **({"cpu": spec.cpu_limit} if spec.cpu_limit else {})}
    return {"requests": {"cpu": spec.cpu_request, "memory": spec.memory_request}, "limits": limits}


def container(settings: RegistrySettings, instance: Instance, image: ResolvedImage) -> ContainerArgsDict:
    probe: ProbeArgsDict = {"http_get": {"path": "/debug/health", "port": "debug"}, "period_seconds": 10}
    return {
        "name": "registry",
        "image": str(image.final),
        "image_pull_policy": image.pull_policy,
        "args": ["serve", f"{CONFIG_DIR}/config.yml"],
        "ports": [
            {"name": "registry", "container_port": CONTAINER_PORT},
            {"name": "debug", "container_port": DEBUG_PORT},
        ],
        "env": container_env(settings, instance),
        "readiness_probe": {**probe, "initial_delay_seconds": 2},
        "liveness_probe": {**probe, "initial_delay_seconds": 10, "failure_threshold": 6},
        "resources": _resources(settings),
        "security_context": {
            "allow_privilege_escalation": False,
            "read_only_root_filesystem": True,
            "run_as_non_root": True,
            "run_as_user": 65534,
            "run_as_group": 65534,
            "capabilities": {"drop": ["ALL"]},
        },
        "volume_mounts": [
            {"name": "config", "mount_path": CONFIG_DIR, "read_only": True},
            {"name": "tls", "mount_path": CERT_DIR, "read_only": True},
            {"name": "auth", "mount_path": AUTH_DIR, "read_only": True},
            {"name": "data", "mount_path": DATA_DIR},
            {"name": "tmp", "mount_path": "/tmp"},
        ],
    }


def deployment(
    settings: RegistrySettings,
    instance: Instance,
    image: ResolvedImage,
    pull_secrets: Sequence[str],
    labels: Mapping[str, str],
) -> DeploymentSpecArgsDict:
    pod_labels = {**labels, **instance.selector}
    return {
        "replicas": 1,
        "strategy": {"type": "Recreate"},  # one writer on a ReadWriteOnce volume
        "selector": {"match_labels": instance.selector},
        "template": {
            "metadata": {"labels": pod_labels},
            "spec": {
                "automount_service_account_token": False,
                "security_context": {"fs_group": 65534, "seccomp_profile": {"type": "RuntimeDefault"}},
                "image_pull_secrets": [{"name": secret} for secret in pull_secrets],
                "containers": [container(settings, instance, image)],
                "volumes": _volumes(settings, instance),
            },
        },
    }


def service(settings: RegistrySettings, instance: Instance) -> ServiceSpecArgsDict:
    return {
        "type": settings.service_type,
        "selector": instance.selector,
        "ports": [{"name": "registry", "port": settings.port, "target_port": "registry"}],
    }


def network_policy(settings: RegistrySettings) -> NetworkPolicySpecArgsDict:
    """Ingress to every instance from the allowed namespaces and address ranges (node CIDRs),
    and from the in-cluster mirror's pods in the registry's own namespace (ImageSync)."""
    policy = settings.network_policy
    sources: list[NetworkPolicyPeerArgsDict] = [{"ip_block": {"cidr": cidr}} for cidr in policy.allow_cidrs]
    sources.append({"pod_selector": {"match_labels": dict(IMAGE_SYNC_LABEL)}})
    sources += [
        {"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": namespace}}}
        for namespace in policy.allow_namespaces
    ]
    return {
        "pod_selector": {"match_labels": PART_OF},
        "policy_types": ["Ingress"],
        "ingress": [{"from_": sources, "ports": [{"port": CONTAINER_PORT, "protocol": "TCP"}]}],
    }


def local_registry_hosting(settings: RegistrySettings) -> str:
    """KEP-1755 ``localRegistryHosting.v1`` for the docker-mode registry next to kind (the same
    function writes the file ``airlock nodes render --runtime kind`` produces)."""
    ((host, address),) = settings.node_addresses().items()
    return kep1755_hosting(host, address)


def docker_config(settings: RegistrySettings) -> str:
    """The docker-mode registry's config file: plain HTTP on the container port, no auth."""
    return render_config(
        distribution_config(
            addr=f":{CONTAINER_PORT}",
            storage=storage_section(settings.storage, DATA_DIR),
            tls=None,
            htpasswd=None,
        )
    )


def object_keys(settings: RegistrySettings) -> list[tuple[str, str, str, str]]:
    """Every Kubernetes object the component creates: (apiVersion, kind, namespace, name)."""
    if settings.mode == "docker":
        return [("v1", "ConfigMap", "kube-public", "local-registry-hosting")]
    if settings.mode == "external":
        return []
    namespace = settings.namespace
    keys = [
        ("v1", "Secret", namespace, f"{settings.name}-auth"),
        ("v1", "Secret", namespace, f"{settings.name}-tls"),
    ]
    for instance in instances(settings):
        name = instance.object_name
        keys += [
            ("v1", "ConfigMap", namespace, f"{name}-config"),
            ("apps/v1", "Deployment", namespace, name),
            ("v1", "Service", namespace, name),
        ]
        if instance.cache is not None and instance.cache.username is not None:
            keys.append(("v1", "Secret", namespace, f"{name}-upstream"))
        if settings.storage.type == "filesystem":
            keys.append(("v1", "PersistentVolumeClaim", namespace, f"{name}-data"))
    if settings.network_policy.enabled:
        keys.append(("networking.k8s.io/v1", "NetworkPolicy", namespace, f"{settings.name}-ingress"))
    return keys
