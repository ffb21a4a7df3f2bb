"""PrivateRegistry: the platform's own registry — in-cluster, a local container, or existing.

Thin wiring: settings, endpoints, the derived policy and every distribution config file come
from ``components.registry_spec`` (pure). One set of outputs for every mode:
``endpoint`` (host[:port]), ``ca_bundle`` (PEM or None), ``username``, ``password`` (secret),
``pull_secret_payload`` (secret dockerconfigjson), ``hosted`` and ``caches``.

htpasswd: the bcrypt hash is ``random.RandomPassword.bcrypt_hash``, generated once and kept in
the stack state, so previews and updates never rewrite it. Its cost is the provider's (Go
``bcrypt.DefaultCost`` = 10): distribution re-checks bcrypt on every request, about 60 ms of
CPU per request at cost 10 (4 ms at cost 5). That is the price of htpasswd; for pull-heavy
fleets put token auth or a cache in front.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes
import pulumi_random as random
import pulumi_tls as tls

from .image_config import MANAGED_BY, as_secret
from .images.dockerconfig import RegistryCredential, render_dockerconfigjson
from .images.policy import ResolvedImage
from .registry_spec import (
    CONTAINER_PORT,
    DEBUG_PORT,
    CacheSpec,
    RegistrySettings,
    distribution_config,
    htpasswd_line,
    render_config,
    slug,
    storage_section,
)

__all__ = ["PrivateRegistry", "PrivateRegistryArgs"]

# Objects are written as plain Kubernetes dicts (validated against the API schemas by the tests);
# the SDK's TypedDict overloads would reject dicts built from parts.
k8s: Any = pulumi_kubernetes

CONFIG_DIR = "/etc/distribution"
CERT_DIR = "/etc/distribution-tls"
AUTH_DIR = "/etc/distribution-auth"
DATA_DIR = "/var/lib/registry"
PART_OF = {"app.kubernetes.io/part-of": "airlock-registry"}


@dataclass(frozen=True)
class PrivateRegistryArgs:
    settings: RegistrySettings
    """Validated ``airlock:registry`` settings."""
    image: ResolvedImage | None = None
    """The registry's own image (in-cluster, docker), resolved so it never comes from itself."""
    pull_secrets: Sequence[str] = ()
    """Pull-secret names in the registry's namespace."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra labels on every object."""
    namespace_resource: pulumi.Resource | None = None
    """The registry namespace's resource, when this stack creates it."""
    external_password: pulumi.Input[str] | None = None
    """external: the login's password or token (a secret)."""
    upstream_passwords: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """in-cluster: upstream -> password for caches that log in upstream (secrets)."""


def _payload(hosts: Sequence[str], username: str, password: str) -> str:
    return render_dockerconfigjson({host: RegistryCredential(username, password) for host in hosts})


class PrivateRegistry(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]
    ca_bundle: pulumi.Output[str] | None
    """PEM CA bundle clients trust; None when the registry needs none (docker mode, public CA)."""
    username: str | None
    password: pulumi.Output[str] | None
    """The login's password (secret); None for the unauthenticated docker-mode registry."""
    pull_secret_payload: pulumi.Output[str] | None
    hosted: pulumi.Output[str]
    caches: pulumi.Output[dict[str, str]]

    def __init__(
        self, name: str, args: PrivateRegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        settings = args.settings
        if settings.mode != "external" and args.image is None:
            raise ValueError(f"PrivateRegistry {name!r}: mode {settings.mode!r} needs the registry image")
        if settings.mode == "external" and args.external_password is None:
            raise ValueError(f"PrivateRegistry {name!r}: mode 'external' needs external_password")
        super().__init__("airlock:index:PrivateRegistry", name, None, opts)
        self._name = name
        self._settings = settings
        self._labels = {**MANAGED_BY, **PART_OF, **args.labels}
        ca_bundle: pulumi.Input[str] | None = None
        password: pulumi.Input[str] | None = None
        self.username = settings.username
        if settings.mode == "in-cluster":
            ca_bundle, password = self._in_cluster(args)
        elif settings.mode == "docker":
            self._docker(args)
            self.username = None
        else:
            assert args.external_password is not None
            ca_bundle, password = settings.ca_bundle, args.external_password

        hosts = sorted(settings.served_registries())
        self.endpoint = pulumi.Output.from_input(settings.endpoint_address)
        self.hosted = self.endpoint
        self.caches = pulumi.Output.from_input(settings.cache_endpoints())
        self.ca_bundle = pulumi.Output.from_input(ca_bundle) if ca_bundle is not None else None
        self.password = as_secret(password) if password is not None else None
        self.pull_secret_payload = None
        if self.username is not None and self.password is not None:
            user = self.username
            self.pull_secret_payload = as_secret(
                self.password.apply(lambda value: _payload(hosts, user, value))
            )
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "ca_bundle": self.ca_bundle,
                "username": self.username,
                "password": self.password,
                "pull_secret_payload": self.pull_secret_payload,
                "hosted": self.hosted,
                "caches": self.caches,
            }
        )

    # -- helpers -------------------------------------------------------------------------
    def _opts(self, *depends: pulumi.Resource | None) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, depends_on=[d for d in depends if d is not None])

    def _meta(self, object_name: str, **extra: Any) -> Any:
        return {
            "name": object_name,
            "namespace": self._settings.namespace,
            "labels": dict(self._labels),
            **extra,
        }

    # -- in-cluster ----------------------------------------------------------------------
    def _in_cluster(self, args: PrivateRegistryArgs) -> tuple[pulumi.Input[str], pulumi.Input[str]]:
        settings, name = self._settings, self._name
        login = random.RandomPassword(f"{name}-login", length=32, special=False, opts=self._opts())
        http_secret = random.RandomPassword(
            f"{name}-http-secret", length=48, special=False, opts=self._opts()
        )
        auth = k8s.core.v1.Secret(
            f"{name}-auth",
            metadata=self._meta(f"{settings.name}-auth"),
            type="Opaque",
            string_data={
                "htpasswd": as_secret(
                    login.bcrypt_hash.apply(lambda value: htpasswd_line(settings.username, value))
                ),
                "http-secret": http_secret.result,
            },
            opts=self._opts(args.namespace_resource),
        )
        ca_bundle, tls_secret = self._tls(args)
        instances: list[tuple[str, CacheSpec | None]] = [(settings.name, None)]
        instances += [(f"{settings.name}-cache-{slug(cache.upstream)}", cache) for cache in settings.caches]
        for instance, cache in instances:
            self._instance(instance, cache, args, auth, tls_secret)
        if settings.network_policy.enabled:
            self._network_policy(args)
        return ca_bundle, login.result

    def _tls(self, args: PrivateRegistryArgs) -> tuple[pulumi.Input[str], k8s.core.v1.Secret]:
        settings, name = self._settings, self._name
        if settings.tls.mode == "provided":
            assert settings.tls.certificate and settings.tls.key and settings.tls.ca
            certificate: pulumi.Input[str] = settings.tls.certificate
            key: pulumi.Input[str] = as_secret(settings.tls.key)
            ca: pulumi.Input[str] = settings.tls.ca
        else:
            ca_key = tls.PrivateKey(
                f"{name}-ca-key", algorithm="ECDSA", ecdsa_curve="P256", opts=self._opts()
            )
            ca_cert = tls.SelfSignedCert(
                f"{name}-ca",
                private_key_pem=ca_key.private_key_pem,
                is_ca_certificate=True,
                subject={"common_name": f"airlock registry CA ({settings.host})", "organization": "airlock"},
                validity_period_hours=10 * 8760,
                allowed_uses=["cert_signing", "crl_signing", "digital_signature"],
                opts=self._opts(),
            )
            server_key = tls.PrivateKey(
                f"{name}-server-key", algorithm="ECDSA", ecdsa_curve="P256", opts=self._opts()
            )
            request = tls.CertRequest(
                f"{name}-server-csr",
                private_key_pem=server_key.private_key_pem,
                subject={"common_name": settings.host, "organization": "airlock"},
                dns_names=settings.dns_names(),
                opts=self._opts(),
            )
            server = tls.LocallySignedCert(
                f"{name}-server",
                cert_request_pem=request.cert_request_pem,
                ca_private_key_pem=ca_key.private_key_pem,
                ca_cert_pem=ca_cert.cert_pem,
                validity_period_hours=settings.tls.validity_hours,
                early_renewal_hours=min(720, settings.tls.validity_hours // 4),
                allowed_uses=["digital_signature", "key_encipherment", "server_auth"],
                opts=self._opts(),
            )
            certificate, key, ca = server.cert_pem, server_key.private_key_pem, ca_cert.cert_pem
        secret = k8s.core.v1.Secret(
            f"{name}-tls",
            metadata=self._meta(f"{settings.name}-tls"),
            type="kubernetes.io/tls",
            string_data={"tls.crt": certificate, "tls.key": key, "ca.crt": ca},
            opts=self._opts(args.namespace_resource),
        )
        return ca, secret

    def _instance(
        self,
        instance: str,
        cache: CacheSpec | None,
        args: PrivateRegistryArgs,
        auth: k8s.core.v1.Secret,
        tls_secret: k8s.core.v1.Secret,
    ) -> None:
        settings, name = self._settings, self._name
        resource = f"{name}-{instance.removeprefix(settings.name + '-')}" if cache else name
        selector = {"app.kubernetes.io/name": "registry", "app.kubernetes.io/instance": instance}
        labels = {**self._labels, **selector}
        config = distribution_config(
            addr=f":{CONTAINER_PORT}",
            storage=storage_section(settings.storage, DATA_DIR),
            tls=(f"{CERT_DIR}/tls.crt", f"{CERT_DIR}/tls.key"),
            htpasswd=f"{AUTH_DIR}/htpasswd",
            proxy=cache,
            debug_addr=f":{DEBUG_PORT}",
        )
        config_map = k8s.core.v1.ConfigMap(
            f"{resource}-config",
            metadata=self._meta(f"{instance}-config", labels=labels),
            data={"config.yml": render_config(config)},
            opts=self._opts(args.namespace_resource),
        )
        env: list[dict[str, Any]] = [
            {
                "name": "REGISTRY_HTTP_SECRET",
                "valueFrom": {"secretKeyRef": {"name": f"{settings.name}-auth", "key": "http-secret"}},
            }
        ]
        depends: list[pulumi.Resource] = [config_map, auth, tls_secret]
        if cache is not None and cache.username is not None:
            upstream = k8s.core.v1.Secret(
                f"{resource}-upstream",
                metadata=self._meta(f"{instance}-upstream", labels=labels),
                type="Opaque",
                string_data={
                    "username": cache.username,
                    "password": as_secret(args.upstream_passwords[cache.upstream]),
                },
                opts=self._opts(args.namespace_resource),
            )
            depends.append(upstream)
            for variable, key in (
                ("REGISTRY_PROXY_USERNAME", "username"),
                ("REGISTRY_PROXY_PASSWORD", "password"),
            ):
                env.append(
                    {
                        "name": variable,
                        "valueFrom": {"secretKeyRef": {"name": f"{instance}-upstream", "key": key}},
                    }
                )
        if settings.storage.type == "s3" and settings.storage.credentials_secret:
            for variable, key in (
                ("REGISTRY_STORAGE_S3_ACCESSKEY", "accesskey"),
                ("REGISTRY_STORAGE_S3_SECRETKEY", "secretkey"),
            ):
                env.append(
                    {
                        "name": variable,
                        "valueFrom": {
                            "secretKeyRef": {"name": settings.storage.credentials_secret, "key": key}
                        },
                    }
                )
        volumes: list[dict[str, Any]] = [
            {"name": "config", "configMap": {"name": f"{instance}-config"}},
            {"name": "tls", "secret": {"secretName": f"{settings.name}-tls"}},
            {
                "name": "auth",
                "secret": {
                    "secretName": f"{settings.name}-auth",
                    "items": [{"key": "htpasswd", "path": "htpasswd"}],
                },
            },
            {"name": "tmp", "emptyDir": {}},
        ]
        if settings.storage.type == "filesystem":
            claim = k8s.core.v1.PersistentVolumeClaim(
                f"{resource}-data",
                metadata=self._meta(f"{instance}-data", labels=labels),
                spec={
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": settings.storage.size}},
                    **(
                        {"storageClassName": settings.storage.storage_class}
                        if settings.storage.storage_class
                        else {}
                    ),
                },
                opts=self._opts(args.namespace_resource),
            )
            depends.append(claim)
            volumes.append({"name": "data", "persistentVolumeClaim": {"claimName": f"{instance}-data"}})
        else:
            volumes.append({"name": "data", "emptyDir": {}})
        assert args.image is not None
        probe = {"httpGet": {"path": "/debug/health", "port": "debug"}, "periodSeconds": 10}
        container = {
            "name": "registry",
            "image": str(args.image.final),
            "imagePullPolicy": args.image.pull_policy,
            "args": ["serve", f"{CONFIG_DIR}/config.yml"],
            "ports": [
                {"name": "registry", "containerPort": CONTAINER_PORT},
                {"name": "debug", "containerPort": DEBUG_PORT},
            ],
            "env": env,
            "readinessProbe": {**probe, "initialDelaySeconds": 2},
            "livenessProbe": {**probe, "initialDelaySeconds": 10, "failureThreshold": 6},
            "resources": self._resources(),
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "runAsNonRoot": True,
                "runAsUser": 65534,
                "runAsGroup": 65534,
                "capabilities": {"drop": ["ALL"]},
            },
            "volumeMounts": [
                {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
                {"name": "tls", "mountPath": CERT_DIR, "readOnly": True},
                {"name": "auth", "mountPath": AUTH_DIR, "readOnly": True},
                {"name": "data", "mountPath": DATA_DIR},
                {"name": "tmp", "mountPath": "/tmp"},
            ],
        }
        k8s.apps.v1.Deployment(
            resource,
            metadata=self._meta(instance, labels=labels),
            spec={
                "replicas": 1,
                "strategy": {"type": "Recreate"},  # one writer on a ReadWriteOnce volume
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "automountServiceAccountToken": False,
                        "securityContext": {"fsGroup": 65534, "seccompProfile": {"type": "RuntimeDefault"}},
                        "imagePullSecrets": [{"name": secret} for secret in args.pull_secrets],
                        "containers": [container],
                        "volumes": volumes,
                    },
                },
            },
            opts=self._opts(*depends),
        )
        service_spec: dict[str, Any] = {
            "type": settings.service_type,
            "selector": selector,
            "ports": [{"name": "registry", "port": settings.port, "targetPort": "registry"}],
        }
        k8s.core.v1.Service(
            f"{resource}-service",
            metadata=self._meta(instance, labels=labels),
            spec=service_spec,
            opts=self._opts(args.namespace_resource),
        )

    def _resources(self) -> dict[str, dict[str, str]]:
        spec = self._settings.resources
        limits = {"memory": spec.memory_limit, **({"cpu": spec.cpu_limit} if spec.cpu_limit else {})}
        return {"requests": {"cpu": spec.cpu_request, "memory": spec.memory_request}, "limits": limits}

    def _network_policy(self, args: PrivateRegistryArgs) -> None:
        policy = self._settings.network_policy
        sources: list[dict[str, Any]] = [{"ipBlock": {"cidr": cidr}} for cidr in policy.allow_cidrs]
        sources += [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}
            for namespace in policy.allow_namespaces
        ]
        k8s.networking.v1.NetworkPolicy(
            f"{self._name}-ingress",
            metadata=self._meta(f"{self._settings.name}-ingress"),
            spec={
                "podSelector": {"matchLabels": PART_OF},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": sources, "ports": [{"port": CONTAINER_PORT, "protocol": "TCP"}]}],
            },
            opts=self._opts(args.namespace_resource),
        )

    # -- docker (kind) -------------------------------------------------------------------
    def _docker(self, args: PrivateRegistryArgs) -> None:
        import pulumi_docker as docker

        settings, name = self._settings, self._name
        assert args.image is not None
        config = distribution_config(
            addr=f":{CONTAINER_PORT}",
            storage=storage_section(settings.storage, DATA_DIR),
            tls=None,
            htpasswd=None,
        )
        image = docker.RemoteImage(
            f"{name}-image", name=str(args.image.final), keep_locally=True, opts=self._opts()
        )
        volume = docker.Volume(f"{name}-data", name=f"{settings.container_name}-data", opts=self._opts())
        docker.Container(
            f"{name}-container",
            name=settings.container_name,
            image=image.image_id,
            restart="always",
            ports=[{"internal": CONTAINER_PORT, "external": settings.host_port, "ip": "127.0.0.1"}],
            networks_advanced=[{"name": settings.network}] if settings.network else None,
            volumes=[{"volume_name": volume.name, "container_path": DATA_DIR}],
            uploads=[{"file": f"{CONFIG_DIR}/config.yml", "content": render_config(config)}],
            command=["serve", f"{CONFIG_DIR}/config.yml"],
            opts=self._opts(),
        )
        in_cluster_host = f"{settings.container_name}:{CONTAINER_PORT}"
        hosting = (
            f'host: "{settings.endpoint_address}"\n'
            f'hostFromContainerRuntime: "{in_cluster_host}"\n'
            f'hostFromClusterNetwork: "{in_cluster_host}"\n'
            'help: "https://kind.sigs.k8s.io/docs/user/local-registry/"\n'
        )
        k8s.core.v1.ConfigMap(
            f"{name}-local-registry-hosting",
            metadata={
                "name": "local-registry-hosting",
                "namespace": "kube-public",
                "labels": dict(self._labels),
            },
            data={"localRegistryHosting.v1": hosting},
            opts=self._opts(),
        )
