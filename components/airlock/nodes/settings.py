"""Node runtime settings (pure): ``airlock:nodes``, how the policy reaches every node's runtime.

Read against containerd v1.7.34 / v2.3.4 ``docs/hosts.md`` and ``remotes/docker/config/hosts.go``
(hosts.toml), kind v0.32.0 ``site/content/docs/user/local-registry.md`` and
``pkg/apis/config/v1alpha4/types.go`` (the cluster config), and container-libs image/v5.39.2
``docs/containers-registries.conf.5.md`` (registries.conf v2).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from .. import kube
from ..images.policy import canonical_reference, split_location
from ..images.reference import parse
from ..model import StrictModel

__all__ = [
    "CERTS_DIR",
    "KIND_NODE_IMAGE",
    "DaemonSetSettings",
    "KindSettings",
    "NodeResources",
    "NodesSettings",
    "Upstream",
]

CERTS_DIR = "/etc/containerd/certs.d"
# kind v0.32.0's default node image (pkg/apis/config/defaults/image.go), pinned by digest.
KIND_NODE_IMAGE = (
    "kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5"
)
Upstream = Literal["forbidden", "fallback"]


class NodeResources(StrictModel):
    """The DaemonSet container's requests and limits (it copies a few files, then sleeps)."""

    cpu_request: str = Field("10m", description="CPU request (a Kubernetes quantity).")
    memory_request: str = Field("16Mi", description="Memory request (a Kubernetes quantity).")
    memory_limit: str = Field("32Mi", description="Memory limit (a Kubernetes quantity).")

    @field_validator("cpu_request", "memory_request", "memory_limit")
    @classmethod
    def _quantity(cls, value: str) -> str:
        return kube.quantity(value)


class DaemonSetSettings(StrictModel):
    """The NodeRegistryConfig component: a DaemonSet writing the hosts.toml tree on every node of
    a cluster whose nodes airlock does not create."""

    enabled: bool = Field(False, description="Deploy the NodeRegistryConfig DaemonSet.")
    namespace: str = Field("airlock-system", description="Namespace of the DaemonSet (declared).")
    name: str = Field("airlock-node-registry", description="Name of the DaemonSet and its ConfigMap.")
    certs_dir: str = Field(
        CERTS_DIR,
        description="containerd's config_path on the nodes (the hostPath the files are written to).",
    )
    resync_seconds: int = Field(60, ge=5, le=3600, description="How often the files are re-checked.")
    priority_class_name: str = Field(
        "system-node-critical",
        description="Pod priority (GKE admits system-node-critical outside kube-system only with a quota).",
    )
    uninstall: bool = Field(
        False,
        description="Remove every file the DaemonSet wrote (deploy once with this, then disable it).",
    )
    resources: NodeResources = Field(
        default_factory=NodeResources, description="The DaemonSet container's requests and limits."
    )

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        return kube.dns_label(value, "a namespace")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return kube.dns_label(value, "a DaemonSet name")

    @field_validator("certs_dir")
    @classmethod
    def _certs_dir(cls, value: str) -> str:
        parts = [part for part in value.split("/") if part]
        if not value.startswith("/") or len(parts) < 2 or value.rstrip("/") == "/etc/containerd":
            raise ValueError(
                f"{value!r} must be an absolute directory used only for hosts.toml trees, at least two "
                f"levels deep, such as {CERTS_DIR!r} (containerd's config_path)"
            )
        if any(part in ("..", ".") for part in value.split("/")):
            raise ValueError(f"{value!r} must not contain '.' or '..'; write the absolute path")
        return value.rstrip("/")


class KindSettings(StrictModel):
    """The kind cluster config ``airlock nodes render --runtime kind`` writes."""

    cluster_name: str = Field("airlock", description="kind cluster name (kind create cluster --name).")
    node_image: str = Field(KIND_NODE_IMAGE, description="kindest/node image, pinned by digest.")
    workers: int = Field(0, ge=0, le=10, description="Worker nodes beside the control plane.")

    @field_validator("cluster_name")
    @classmethod
    def _cluster(cls, value: str) -> str:
        return kube.dns_label(value, "a kind cluster name")

    @field_validator("node_image")
    @classmethod
    def _node_image(cls, value: str) -> str:
        reference = parse(canonical_reference(value))
        if reference.digest is None:
            raise ValueError(
                f"{value!r} has no digest: a kind node image is pinned by digest, as kind's release "
                f"notes list them (e.g. {KIND_NODE_IMAGE!r})"
            )
        return value


class NodesSettings(StrictModel):
    """``airlock:nodes``: how the image policy reaches the nodes' container runtimes."""

    upstream: Upstream = Field(
        "forbidden",
        description="forbidden: a mirrored upstream is never contacted by the nodes (the mirror is "
        "the server); fallback: the upstream is tried after the mirror.",
    )
    exclude: tuple[str, ...] = Field(
        (), description="Mirror rule sources (images.mirrors[].source) not written to the nodes."
    )
    daemon_set: DaemonSetSettings = Field(
        default_factory=DaemonSetSettings,
        description="The NodeRegistryConfig DaemonSet writing the runtime configuration on every node.",
    )
    kind: KindSettings = Field(
        default_factory=KindSettings,
        description="The kind cluster config 'airlock nodes render --runtime kind' writes.",
    )

    @field_validator("exclude")
    @classmethod
    def _exclude(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        normalised = []
        for source in value:
            domain, path = split_location(source, "an excluded mirror source")
            normalised.append(f"{domain}/{path}" if path else domain)
        return tuple(normalised)
