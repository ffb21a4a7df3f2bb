"""The catalog: every upstream image airlock deploys, by logical name, pinned to exact versions.

Each entry is the *source reference* the upstream project publishes for the pinned version, as
read from that version's own sources (cited per entry). Logical names are ``<consumer>/<role>``
and are the keys users write under ``images.overrides``. Upgrading a component means changing
its version here, re-running ``airlock images lock`` and reviewing both diffs.
"""

from __future__ import annotations

from dataclasses import dataclass

from .reference import ImageReference, parse

__all__ = ["CATALOG", "VERSIONS", "CatalogImage", "catalog_image", "source_reference"]

VERSIONS = {
    # CNCF distribution 3.0.x; config at /etc/distribution/config.yml.
    "registry": "3.0.0",
    # loft-sh/vcluster chart and app (tag v0.36.1).
    "vcluster": "0.36.1",
    # envoyproxy/gateway chart `gateway-helm` and controller (tag v1.9.0).
    "envoy-gateway": "1.9.0",
    # crossplane/crossplane chart and core (tag v2.3.4).
    "crossplane": "2.3.4",
}


@dataclass(frozen=True, slots=True)
class CatalogImage:
    """One image an upstream component runs, with where that default comes from."""

    name: str
    source: str
    description: str

    @property
    def consumer(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def role(self) -> str:
        return self.name.split("/", 1)[1]


def _entries() -> dict[str, CatalogImage]:
    vcluster = VERSIONS["vcluster"]
    envoy_gateway = VERSIONS["envoy-gateway"]
    entries = [
        CatalogImage(
            "registry/registry",
            f"docker.io/library/registry:{VERSIONS['registry']}",
            "CNCF distribution registry (hosted and pull-through cache instances)",
        ),
        # vcluster v0.36.1 chart/values.yaml: controlPlane.statefulSet.image (OSS build),
        # controlPlane.distro.k8s.image, backingStore.etcd.deploy.statefulSet.image,
        # sync.toHost.pods.rewriteHosts.initContainer.image; pkg/constants/coredns.go for the
        # CoreDNS of Kubernetes 1.36; pkg/constants/cli.go for the background proxy.
        CatalogImage(
            "vcluster/control-plane",
            f"ghcr.io/loft-sh/vcluster-oss:{vcluster}",
            "vcluster syncer and control plane (OSS build)",
        ),
        CatalogImage(
            "vcluster/kubernetes",
            "ghcr.io/loft-sh/kubernetes:v1.36.0",
            "Kubernetes distro binaries for the virtual control plane",
        ),
        CatalogImage(
            "vcluster/etcd",
            "registry.k8s.io/etcd:3.6.8-0",
            "deployed etcd backing store (when enabled)",
        ),
        CatalogImage(
            "vcluster/coredns",
            "docker.io/coredns/coredns:1.14.2",
            "CoreDNS inside the virtual cluster",
        ),
        CatalogImage(
            "vcluster/rewrite-hosts",
            "mirror.gcr.io/library/alpine:3.20",
            "init container that rewrites /etc/hosts of synced pods",
        ),
        CatalogImage(
            "vcluster/background-proxy",
            f"ghcr.io/loft-sh/vcluster-pro:{vcluster}",
            "`vcluster connect` background proxy on the operator's Docker daemon",
        ),
        # envoyproxy/gateway v1.9.0: release image of the controller, and
        # api/v1alpha1/shared_types.go DefaultEnvoyProxyImage / DefaultRateLimitImage.
        CatalogImage(
            "envoy-gateway/controller",
            f"docker.io/envoyproxy/gateway:v{envoy_gateway}",
            "Envoy Gateway control plane",
        ),
        CatalogImage(
            "envoy-gateway/proxy",
            "docker.io/envoyproxy/envoy:distroless-v1.39.0",
            "Envoy proxy pods the controller creates from the EnvoyProxy resource",
        ),
        CatalogImage(
            "envoy-gateway/ratelimit",
            "docker.io/envoyproxy/ratelimit:17b1956c",
            "global rate-limit service",
        ),
        # crossplane/crossplane v2.3.4 cluster/charts/crossplane/values.yaml: image.repository,
        # tag defaulting to v<appVersion>.
        CatalogImage(
            "crossplane/crossplane",
            f"xpkg.crossplane.io/crossplane/crossplane:v{VERSIONS['crossplane']}",
            "Crossplane core and RBAC manager",
        ),
    ]
    return {entry.name: entry for entry in entries}


CATALOG: dict[str, CatalogImage] = _entries()


def catalog_image(name: str) -> CatalogImage:
    """The catalog entry for a logical name; a clear error lists the known names."""
    try:
        return CATALOG[name]
    except KeyError:
        known = ", ".join(sorted(CATALOG))
        raise KeyError(f"unknown image {name!r}: the catalog knows {known}") from None


def source_reference(name: str) -> ImageReference:
    return parse(catalog_image(name).source)
