"""PrivateRegistry: the platform's own registry — in-cluster, a local container, or existing.

Thin wiring: settings, endpoints, the derived policy, every distribution config file and
every Kubernetes object come from the pure modules beside it (``settings``, ``images``,
``spec``). One set of outputs for every mode: ``endpoint`` (host[:port]), ``ca_bundle`` (PEM
or None), ``username``, ``password`` (secret), ``pull_secret_payload`` (secret
dockerconfigjson), ``hosted`` and ``caches``.

Used on its own::

    registry = PrivateRegistry("registry", PrivateRegistryArgs(settings=RegistrySettings(
        mode="in-cluster", host="registry.example.com")))

Its own image is the catalog's (``docker.io/library/registry``) unless ``images`` (an
ImageConfig or an image table that requested ``registry/registry``) says otherwise.

htpasswd: the bcrypt hash is ``random.RandomPassword.bcrypt_hash``, generated once and kept in
the stack state, so previews and updates never rewrite it. Its cost is the provider's (Go
``bcrypt.DefaultCost`` = 10): distribution re-checks bcrypt on every request, about 60 ms of
CPU per request at cost 10 (4 ms at cost 5). That is the price of htpasswd; for pull-heavy
fleets put token auth or a cache in front.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import pulumi_tls as tls

from ..image_config import PendingImageConfig, adopt
from ..images.dockerconfig import RegistryCredential, render_dockerconfigjson
from ..images.policy import ImagePolicy, ResolvedImage, resolve
from ..resources import MANAGED_BY, as_secret, claim_objects, cluster_of
from . import spec
from .images import CATALOG, IMAGE
from .settings import RegistrySettings
from .spec import TYPE_TOKEN

__all__ = ["ImageSource", "PrivateRegistry", "PrivateRegistryArgs"]


class ImageSource(Protocol):
    """Where a component reads its resolved images and pull secrets: an ImageConfig, or the
    image table it wraps (``airlock.images.table.ImageTable``)."""

    def resolved(self, name: str, namespace: str | object | None = ...) -> ResolvedImage: ...

    def pull_secrets_for(self, namespace: str | None) -> list[str]: ...


@dataclass(frozen=True)
class PrivateRegistryArgs:
    settings: RegistrySettings
    """Validated ``airlock:registry`` settings."""
    images: ImageSource | None = None
    """Resolves ``registry/registry`` (and the pull secrets of its namespace); None: the
    catalog's upstream image, unpinned. A pending ImageConfig (the component used on its own)
    is registered as this component's child."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra labels on every object."""
    namespace_resource: pulumi.Resource | None = None
    """The registry namespace's resource, when the same program creates it."""


def _payload(hosts: Sequence[str], username: str, password: str) -> str:
    return render_dockerconfigjson({host: RegistryCredential(username, password) for host in hosts})


def _own_image(args: PrivateRegistryArgs) -> tuple[ResolvedImage | None, list[str]]:
    settings = args.settings
    if settings.mode == "external":
        return None, []
    namespace = settings.namespace if settings.mode == "in-cluster" else None
    if args.images is None:
        return resolve(CATALOG[0].source, ImagePolicy(pin="off"), name=IMAGE), []
    return args.images.resolved(IMAGE, namespace), args.images.pull_secrets_for(namespace)


class PrivateRegistry(pulumi.ComponentResource):
    # Class-level annotations are the outputs (a component package's schema reads them).
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
        image, pull_secrets = _own_image(args)
        claim_objects(f"{TYPE_TOKEN} {name}", spec.object_keys(settings), cluster_of(opts))
        super().__init__(TYPE_TOKEN, name, None, opts)
        if isinstance(args.images, PendingImageConfig):
            adopt(args.images, self)
        self._name = name
        self._settings = settings
        self._labels = {**MANAGED_BY, **spec.PART_OF, **args.labels}
        self._namespace = args.namespace_resource
        ca_bundle: pulumi.Input[str] | None = None
        password: pulumi.Input[str] | None = None
        self.username = settings.username if settings.has_login else None
        if settings.mode == "in-cluster":
            assert image is not None
            ca_bundle, password = self._in_cluster(image, pull_secrets)
        elif settings.mode == "docker":
            assert image is not None
            self._docker(image)
        else:
            assert settings.password is not None
            ca_bundle, password = settings.ca_bundle, as_secret(settings.password)

        hosts = sorted(settings.login_hosts())
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

    def _meta(
        self, object_name: str, labels: Mapping[str, str] | None = None
    ) -> k8s.meta.v1.ObjectMetaArgsDict:
        return spec.metadata(self._settings, object_name, labels or self._labels)

    # -- in-cluster ----------------------------------------------------------------------
    def _in_cluster(
        self, image: ResolvedImage, pull_secrets: Sequence[str]
    ) -> tuple[pulumi.Input[str], pulumi.Input[str]]:
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
                    login.bcrypt_hash.apply(lambda value: spec.htpasswd_line(settings.username, value))
                ),
                "http-secret": http_secret.result,
            },
            opts=self._opts(self._namespace),
        )
        ca_bundle, tls_secret = self._tls()
        for instance in spec.instances(settings):
            self._instance(instance, image, pull_secrets, [auth, tls_secret])
        if settings.network_policy.enabled:
            k8s.networking.v1.NetworkPolicy(
                f"{name}-ingress",
                metadata=self._meta(f"{settings.name}-ingress"),
                spec=spec.network_policy(settings),
                opts=self._opts(self._namespace),
            )
        return ca_bundle, login.result

    def _tls(self) -> tuple[pulumi.Input[str], k8s.core.v1.Secret]:
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
            opts=self._opts(self._namespace),
        )
        return ca, secret

    def _instance(
        self,
        instance: spec.Instance,
        image: ResolvedImage,
        pull_secrets: Sequence[str],
        depends: list[pulumi.Resource],
    ) -> None:
        settings = self._settings
        resource = f"{self._name}-{instance.role}" if instance.role else self._name
        labels = {**self._labels, **instance.selector}
        config_map = k8s.core.v1.ConfigMap(
            f"{resource}-config",
            metadata=self._meta(f"{instance.object_name}-config", labels),
            data={"config.yml": spec.instance_config(settings, instance)},
            opts=self._opts(self._namespace),
        )
        depends = [config_map, *depends]
        cache = instance.cache
        if cache is not None and cache.username is not None:
            assert cache.password is not None
            depends.append(
                k8s.core.v1.Secret(
                    f"{resource}-upstream",
                    metadata=self._meta(f"{instance.object_name}-upstream", labels),
                    type="Opaque",
                    string_data={"username": cache.username, "password": as_secret(cache.password)},
                    opts=self._opts(self._namespace),
                )
            )
        claim = spec.volume_claim(settings)
        if claim is not None:
            depends.append(
                k8s.core.v1.PersistentVolumeClaim(
                    f"{resource}-data",
                    metadata=self._meta(f"{instance.object_name}-data", labels),
                    spec=claim,
                    opts=self._opts(self._namespace),
                )
            )
        k8s.apps.v1.Deployment(
            resource,
            metadata=self._meta(instance.object_name, labels),
            spec=spec.deployment(settings, instance, image, pull_secrets, self._labels),
            opts=self._opts(*depends),
        )
        k8s.core.v1.Service(
            f"{resource}-service",
            metadata=self._meta(instance.object_name, labels),
            spec=spec.service(settings, instance),
            opts=self._opts(self._namespace),
        )

    # -- docker (kind) -------------------------------------------------------------------
    def _docker(self, image: ResolvedImage) -> None:
        import pulumi_docker as docker

        settings, name = self._settings, self._name
        remote = docker.RemoteImage(
            f"{name}-image", name=str(image.final), keep_locally=True, opts=self._opts()
        )
        volume = docker.Volume(f"{name}-data", name=f"{settings.container_name}-data", opts=self._opts())
        docker.Container(
            f"{name}-container",
            name=settings.container_name,
            image=remote.image_id,
            restart="always",
            ports=[{"internal": spec.CONTAINER_PORT, "external": settings.host_port, "ip": "127.0.0.1"}],
            networks_advanced=[{"name": settings.network}] if settings.network else None,
            volumes=[{"volume_name": volume.name, "container_path": spec.DATA_DIR}],
            uploads=[{"file": f"{spec.CONFIG_DIR}/config.yml", "content": spec.docker_config(settings)}],
            command=["serve", f"{spec.CONFIG_DIR}/config.yml"],
            opts=self._opts(),
        )
        k8s.core.v1.ConfigMap(
            f"{name}-local-registry-hosting",
            metadata=spec.metadata(settings, "local-registry-hosting", self._labels, "kube-public"),
            data={"localRegistryHosting.v1": spec.local_registry_hosting(settings)},
            opts=self._opts(),
        )
