"""PrivateRegistry settings (pure): ``airlock:registry`` in one of three modes.

- ``in-cluster``: distribution in the cluster (hosted instance + one pull-through cache per
  upstream), TLS and htpasswd auth, storage on a PVC or S3.
- ``docker``: the registry as a local container next to a kind cluster (plain HTTP on
  127.0.0.1, the KEP-1755 pattern).
- ``external``: an existing registry (Harbor, ECR, Artifactory…): endpoint, trust, login and
  the path layout only; nothing is deployed.

Cache scheme (in-cluster): distribution proxies exactly one upstream per instance, so each
upstream gets its own instance and its own host, ``<slug>.<host>`` (``docker-io.<host>`` for
``docker.io``), served on the same port as the hosted registry. Images are mirrored under it
with the ``flatten`` layout (the proxy serves the upstream's own paths).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .. import kube
from ..images.dockerconfig import username_field
from ..images.policy import RegistryTrust, split_location
from ..model import StrictModel

__all__ = [
    "KNOWN_UPSTREAMS",
    "CacheSpec",
    "NetworkPolicySpec",
    "RegistrySettings",
    "ResourcesSpec",
    "StorageSpec",
    "TlsSpec",
    "slug",
]

KNOWN_UPSTREAMS = {
    "docker.io": "https://registry-1.docker.io",
    "registry.k8s.io": "https://registry.k8s.io",
    "ghcr.io": "https://ghcr.io",
    "quay.io": "https://quay.io",
    "mirror.gcr.io": "https://mirror.gcr.io",
    "xpkg.crossplane.io": "https://xpkg.crossplane.io",
    "public.ecr.aws": "https://public.ecr.aws",
}
_DURATION = re.compile(r"([0-9]+(h|m|s))+")


CONTAINER_PORT = 5000
"""The port the registry container listens on (in-cluster pods and the docker-mode container)."""


def slug(upstream: str) -> str:
    """``docker.io`` -> ``docker-io``: a DNS label naming a cache instance."""
    return kube.slug(upstream)


def _quantity(value: str) -> str:
    return kube.quantity(value)


class CacheSpec(StrictModel):
    """A pull-through cache for one upstream registry."""

    upstream: str = Field(description="Registry domain it caches, e.g. docker.io.")
    remote_url: str | None = Field(None, description="Upstream API URL; known upstreams need none.")
    username: str | None = Field(None, description="Upstream login (token-auth upstreams only).")
    password: str | None = Field(None, description="Upstream password; store as a secret.")
    ttl: str = Field("168h", description="How long cached content is kept (distribution proxy.ttl).")
    insecure: bool = Field(False, description="Declares an http:// remoteUrl (no TLS) as intended.")

    @field_validator("upstream")
    @classmethod
    def _upstream(cls, value: str) -> str:
        domain, path = split_location(value, "a cache upstream")
        if path:
            raise ValueError("a cache serves a whole registry; write only its domain")
        return domain

    @field_validator("remote_url")
    @classmethod
    def _remote(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s/@]+(/[^\s@]*)?", value):
            raise ValueError(
                "remoteUrl must be an http(s) URL without a login, such as 'https://registry-1.docker.io'; "
                "put the login into username/password"
            )
        return value

    @field_validator("ttl")
    @classmethod
    def _ttl(cls, value: str) -> str:
        if not _DURATION.fullmatch(value):
            raise ValueError("ttl is a duration such as '168h' or '30m'")
        return value

    @model_validator(mode="after")
    def _known(self) -> CacheSpec:
        if self.remote_url is None and self.upstream not in KNOWN_UPSTREAMS:
            raise ValueError(
                f"unknown upstream {self.upstream!r}; set remoteUrl, "
                f"or use one of: {', '.join(KNOWN_UPSTREAMS)}"
            )
        if (self.username is None) != (self.password is None):
            raise ValueError("set both username and password for the upstream, or neither")
        plain = self.url.startswith("http://")
        if plain and not self.insecure:
            raise ValueError(
                f"remoteUrl {self.url!r} is plain HTTP: the cache would fetch (and log in) without TLS; "
                "use https://, or declare it with insecure: true"
            )
        if self.insecure and not plain:
            raise ValueError("insecure: true applies only to an http:// remoteUrl; remove it")
        return self

    @property
    def url(self) -> str:
        return self.remote_url or KNOWN_UPSTREAMS[self.upstream]


class StorageSpec(StrictModel):
    type: Literal["filesystem", "s3"] = Field(
        "filesystem", description="filesystem: a PersistentVolumeClaim; s3: an S3-compatible bucket."
    )
    size: str = Field("20Gi", description="PVC size (filesystem).")
    storage_class: str | None = Field(None, description="PVC storage class; the cluster default if unset.")
    bucket: str | None = Field(None, description="S3 bucket.")
    region: str | None = Field(None, description="S3 region.")
    endpoint: str | None = Field(None, description="S3-compatible endpoint URL (MinIO, Ceph…).")
    credentials_secret: str | None = Field(
        None, description="Existing Secret with keys accesskey and secretkey (else IRSA/instance role)."
    )

    @field_validator("size")
    @classmethod
    def _size(cls, value: str) -> str:
        return _quantity(value)

    @model_validator(mode="after")
    def _s3(self) -> StorageSpec:
        if self.type == "s3" and not (self.bucket and self.region):
            raise ValueError("s3 storage needs bucket and region")
        if self.type == "filesystem" and (self.bucket or self.endpoint or self.credentials_secret):
            raise ValueError("bucket/endpoint/credentialsSecret belong to type 's3'")
        return self


class TlsSpec(StrictModel):
    mode: Literal["generated", "provided"] = Field(
        "generated", description="generated: a CA and server certificate (pulumi-tls); provided: yours."
    )
    certificate: str | None = Field(None, description="provided: server certificate chain (PEM).")
    key: str | None = Field(None, description="provided: server private key (PEM); store as a secret.")
    ca: str | None = Field(None, description="provided: CA bundle clients trust (PEM).")
    validity_hours: int = Field(8760, ge=24, description="generated: server certificate lifetime.")

    @model_validator(mode="after")
    def _material(self) -> TlsSpec:
        given = [name for name in ("certificate", "key", "ca") if getattr(self, name)]
        if self.mode == "provided" and len(given) != 3:
            raise ValueError("tls mode 'provided' needs certificate, key and ca (e.g. from cert-manager)")
        if self.mode == "generated" and given:
            raise ValueError(f"{', '.join(given)} only apply to tls mode 'provided'")
        if self.ca is not None:
            RegistryTrust(ca_bundle=self.ca)
        return self


class NetworkPolicySpec(StrictModel):
    enabled: bool = Field(False, description="Create the NetworkPolicy.")
    allow_namespaces: tuple[str, ...] = Field((), description="Namespaces whose pods may connect.")
    allow_cidrs: tuple[str, ...] = Field(
        (), description="Address ranges that may connect; nodes pull from node IPs, so list them."
    )

    @model_validator(mode="after")
    def _reachable(self) -> NetworkPolicySpec:
        if self.enabled and not self.allow_cidrs:
            raise ValueError(
                "kubelets pull from node IPs, not from pods: with networkPolicy enabled and no "
                "allowCidrs no node could pull; list the node CIDRs in allowCidrs"
            )
        for namespace in self.allow_namespaces:
            kube.dns_label(namespace, f"allowNamespaces: {namespace!r}")
        return self

    @field_validator("allow_cidrs")
    @classmethod
    def _cidrs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(kube.network_cidr(cidr) for cidr in value)


class ResourcesSpec(StrictModel):
    cpu_request: str = Field("100m", description="CPU request (a Kubernetes quantity).")
    memory_request: str = Field("128Mi", description="Memory request (a Kubernetes quantity).")
    memory_limit: str = Field("512Mi", description="Memory limit (a Kubernetes quantity).")
    cpu_limit: str | None = Field(None, description="CPU limit (a Kubernetes quantity); none by default.")

    @field_validator("cpu_request", "memory_request", "memory_limit", "cpu_limit")
    @classmethod
    def _quantities(cls, value: str | None) -> str | None:
        return None if value is None else _quantity(value)


_MODE_FIELDS: dict[str, tuple[str, ...]] = {
    "in-cluster": (
        "namespace",
        "name",
        "host",
        "port",
        "service_type",
        "caches",
        "storage",
        "tls",
        "network_policy",
        "resources",
    ),
    "docker": ("host_port", "container_name", "network"),
    "external": ("endpoint", "ca_bundle", "insecure", "password", "proxy_projects"),
}


class RegistrySettings(StrictModel):
    """``airlock:registry``: the platform's own registry."""

    mode: Literal["in-cluster", "docker", "external"] = Field(
        description="in-cluster: a registry Deployment in the cluster; docker: a local registry "
        "container (kind); external: an existing registry (Harbor, ECR...)."
    )
    # in-cluster
    namespace: str = Field("airlock-system", description="in-cluster: namespace of the registry pods.")
    name: str = Field("registry", description="in-cluster: name of the hosted instance's objects.")
    host: str | None = Field(None, description="in-cluster: DNS name clients and nodes use.")
    port: int = Field(443, ge=1, le=65535, description="in-cluster: port clients use (Service port).")
    service_type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = Field(
        "LoadBalancer", description="Service type of the in-cluster registry."
    )
    caches: tuple[CacheSpec, ...] = Field((), description="in-cluster: pull-through caches.")
    storage: StorageSpec = Field(
        default_factory=StorageSpec, description="Where the in-cluster registry keeps its blobs."
    )
    tls: TlsSpec = Field(
        default_factory=TlsSpec,
        description="The registry's serving certificate: generated (with its own CA) or provided.",
    )
    username: str = Field("airlock", description="Login of the registry (in-cluster: htpasswd user).")
    network_policy: NetworkPolicySpec = Field(
        default_factory=NetworkPolicySpec,
        description="A NetworkPolicy admitting only the namespaces that pull from the registry.",
    )
    resources: ResourcesSpec = Field(
        default_factory=ResourcesSpec, description="The registry container's requests and limits."
    )
    # docker
    host_port: int = Field(5001, ge=1, le=65535, description="docker: port on 127.0.0.1.")
    container_name: str = Field("kind-registry", description="docker: container name (kind's convention).")
    network: str | None = Field("kind", description="docker: Docker network to join (the kind network).")
    # external
    endpoint: str | None = Field(None, description="external: host[:port] of the existing registry.")
    ca_bundle: str | None = Field(None, description="external: PEM CA bundle, if not publicly trusted.")
    insecure: bool = Field(False, description="external: plain HTTP (only for a registry without TLS).")
    password: str | None = Field(None, description="external: password or token; store as a secret.")
    layout: Literal["nest", "flatten"] = Field("nest", description="How sources are laid out in it.")
    proxy_projects: dict[str, str] = Field(
        default_factory=dict,
        description="external: upstream -> path of the registry's own proxy project (Harbor proxy cache).",
    )

    @field_validator("namespace", "name", "container_name")
    @classmethod
    def _label(cls, value: str) -> str:
        return kube.dns_label(value, "the value")

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        return username_field(value)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is None:
            return None
        domain, path = split_location(value, "host")
        if path or ":" in domain:
            raise ValueError("host is a DNS name only; set the port with 'port'")
        return kube.dns_name(domain, "host")

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        domain, path = split_location(value, "endpoint")
        if path:
            raise ValueError(f"endpoint is host[:port]; put {path!r} under proxyProjects or a mirror rule")
        return domain

    @field_validator("ca_bundle")
    @classmethod
    def _ca(cls, value: str | None) -> str | None:
        return None if value is None else RegistryTrust(ca_bundle=value).ca_bundle

    def _misplaced(self) -> list[str]:
        """Fields set in the stack that belong to another mode (by their config names)."""
        own = _MODE_FIELDS[self.mode]
        others = [name for mode, names in _MODE_FIELDS.items() if mode != self.mode for name in names]
        fields = RegistrySettings.model_fields
        return [
            fields[name].alias or name for name in others if name not in own and name in self.model_fields_set
        ]

    @model_validator(mode="after")
    def _mode_fields(self) -> RegistrySettings:
        misplaced = self._misplaced()
        if misplaced:
            hint = "; use proxyProjects for the registry's own caches" if "caches" in misplaced else ""
            raise ValueError(f"{', '.join(misplaced)} do not apply to mode {self.mode!r}{hint}")
        if self.mode == "in-cluster" and not self.host:
            raise ValueError("mode 'in-cluster' needs host: the DNS name clients and nodes use")
        if self.mode == "in-cluster" and self.host:
            for cache in self.caches:
                kube.dns_name(self.cache_host(cache), f"the cache host of {cache.upstream}")
                kube.dns_label(
                    f"{self.name}-cache-{slug(cache.upstream)}",
                    f"the cache's Service name for {cache.upstream} (<name>-cache-<upstream>)",
                )
        if self.mode == "external" and not self.endpoint:
            raise ValueError("mode 'external' needs endpoint (host[:port] of the existing registry)")
        if self.insecure and self.ca_bundle:
            raise ValueError("insecure (plain HTTP) and caBundle (TLS) contradict each other; keep one")
        upstreams = [cache.upstream for cache in self.caches]
        duplicates = sorted({upstream for upstream in upstreams if upstreams.count(upstream) > 1})
        if duplicates:
            raise ValueError(f"caches: {', '.join(duplicates)} appear twice; one cache per upstream")
        by_slug: dict[str, str] = {}
        for upstream in upstreams:
            other = by_slug.setdefault(slug(upstream), upstream)
            if other != upstream:
                raise ValueError(
                    f"caches: {other} and {upstream} would both be named {slug(upstream)} (host, Service, "
                    "Deployment); keep one of them, or cache one through the other's remoteUrl"
                )
        if self.mode == "external" and not self.password:
            raise ValueError("mode 'external' needs password: the registry's password or token")
        for upstream in self.proxy_projects:
            split_location(upstream, "a proxyProjects upstream")
        return self

    # -- derived -------------------------------------------------------------------------
    @property
    def endpoint_address(self) -> str:
        """host[:port] that image references use for the hosted registry."""
        if self.mode == "in-cluster":
            assert self.host is not None
            return self.host if self.port == 443 else f"{self.host}:{self.port}"
        if self.mode == "docker":
            return f"localhost:{self.host_port}"
        assert self.endpoint is not None
        return self.endpoint

    def cache_host(self, cache: CacheSpec) -> str:
        assert self.host is not None
        return f"{slug(cache.upstream)}.{self.host}"

    def cache_endpoints(self) -> dict[str, str]:
        """upstream -> host[:port] of its cache (in-cluster) or proxy project (external)."""
        if self.mode == "in-cluster":
            suffix = "" if self.port == 443 else f":{self.port}"
            return {cache.upstream: self.cache_host(cache) + suffix for cache in self.caches}
        if self.mode == "external":
            return {
                upstream: f"{self.endpoint}/{path.strip('/')}"
                for upstream, path in self.proxy_projects.items()
            }
        return {}

    @property
    def plain_http(self) -> bool:
        return self.mode == "docker" or (self.mode == "external" and self.insecure)

    @property
    def has_login(self) -> bool:
        """Whether clients log in (in-cluster: the generated htpasswd user; external: the
        configured one). The docker-mode registry of a kind cluster takes no login."""
        return self.mode != "docker"

    def login_hosts(self) -> set[str]:
        """Every host[:port] whose pull secret entry this registry's login fills (the one rule
        for which registries get credentials from the registry)."""
        return self.served_registries() if self.has_login else set()

    def pull_through_prefixes(self) -> list[str]:
        """Locations that fetch images on demand and refuse pushes: in-cluster caches (whole
        hosts) and an external registry's proxy projects (``host/project``). The mirror
        skips images there."""
        return sorted(self.cache_endpoints().values())

    def served_registries(self) -> set[str]:
        """Every host[:port] this registry answers on (its images cannot come from there)."""
        hosts = {self.endpoint_address}
        hosts.update(endpoint.partition("/")[0] for endpoint in self.cache_endpoints().values())
        return hosts

    def node_addresses(self) -> dict[str, str]:
        """Hosts nodes reach under another address: kind's nodes reach the docker-mode registry
        (``localhost:<hostPort>`` in image references) as the container on the kind network."""
        if self.mode == "docker":
            return {self.endpoint_address: f"{self.container_name}:{CONTAINER_PORT}"}
        return {}

    def platform_ca_hosts(self) -> dict[str, str]:
        """Hosts served with the registry's own CA (in-cluster: generated at deploy or provided),
        which is not part of the policy -> where it comes from."""
        if self.mode != "in-cluster":
            return {}
        where = f"airlock:registry.tls ({self.tls.mode} CA)"
        return {host: where for host in sorted(self.served_registries())}

    def dns_names(self) -> list[str]:
        """SANs of the generated server certificate: in-cluster Service names and public hosts."""
        names: list[str] = []
        instances = [self.name] + [f"{self.name}-cache-{slug(cache.upstream)}" for cache in self.caches]
        for instance in instances:
            names += [
                instance,
                f"{instance}.{self.namespace}",
                f"{instance}.{self.namespace}.svc",
                f"{instance}.{self.namespace}.svc.cluster.local",
            ]
        assert self.host is not None
        names.append(self.host)
        names += [self.cache_host(cache) for cache in self.caches]
        return names
