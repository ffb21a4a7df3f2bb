"""What a vcluster tenant pulls (pure): the catalog entries at v0.36.1 and each tenant's requests.

vcluster v0.36.1 ``chart/values.yaml``: controlPlane.statefulSet.image (the OSS build is used
only when set), controlPlane.distro.k8s.image, backingStore.etcd.deploy.statefulSet.image,
sync.toHost.pods.rewriteHosts.initContainer.image; ``pkg/constants/coredns.go`` for the CoreDNS
of each Kubernetes minor; ``pkg/constants/cli.go`` for the background proxy.

Every image a tenant's pods pull is requested for its host namespace (synced workload pods run
there too), so its pull secret holds exactly those registries' logins. The background proxy
runs on the operator's Docker daemon, outside the cluster: it has no namespace.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..images.catalog import CatalogImage, ChartReleases
from ..images.reference import parse
from ..images.table import ImageRequest
from .settings import COREDNS_BY_MINOR, TenantSettings, VClusterSettings

__all__ = [
    "BACKGROUND_PROXY",
    "CATALOG",
    "RELEASES",
    "VERSION",
    "image_requests",
    "own_images",
    "tenant_image_name",
    "tenant_requests",
]

VERSION = "0.36.1"
BACKGROUND_PROXY = "vcluster/background-proxy"

RELEASES = ChartReleases(
    "vcluster",
    "vcluster",
    {
        VERSION: (
            CatalogImage(
                "vcluster/control-plane",
                f"ghcr.io/loft-sh/vcluster-oss:{VERSION}",
                "vcluster syncer and control plane (OSS build)",
            ),
            CatalogImage(
                "vcluster/kubernetes",
                "ghcr.io/loft-sh/kubernetes:v1.36.0",
                "Kubernetes distro binaries for the virtual control plane",
            ),
            CatalogImage(
                "vcluster/etcd", "registry.k8s.io/etcd:3.6.8-0", "deployed etcd backing store (when enabled)"
            ),
            CatalogImage(
                "vcluster/coredns", "docker.io/coredns/coredns:1.14.2", "CoreDNS inside the virtual cluster"
            ),
            CatalogImage(
                "vcluster/rewrite-hosts",
                "mirror.gcr.io/library/alpine:3.20",
                "init container that rewrites /etc/hosts of synced pods",
            ),
            CatalogImage(
                BACKGROUND_PROXY,
                f"ghcr.io/loft-sh/vcluster-pro:{VERSION}",
                "`vcluster connect` background proxy on the operator's Docker daemon",
            ),
        )
    },
)
CATALOG = RELEASES.images(VERSION)


def own_images(tenant: TenantSettings) -> list[str]:
    """The logical names of vcluster's own images a tenant runs."""
    names = ["vcluster/control-plane", "vcluster/kubernetes", "vcluster/coredns", "vcluster/rewrite-hosts"]
    if tenant.backing_store == "etcd":
        names.append("vcluster/etcd")
    return names


def tenant_requests(
    tenant: TenantSettings, settings: VClusterSettings, workload_sources: Mapping[str, str]
) -> list[ImageRequest]:
    """Images one tenant needs; all run in its host namespace (synced pods included)."""
    namespace = tenant.host_namespace
    requests = []
    for name in own_images(tenant):
        source = RELEASES.source(settings.chart.version, name)
        if name == "vcluster/kubernetes":
            source = str(parse(source).with_tag(settings.kubernetes_version))
        elif name == "vcluster/coredns":
            source = str(parse(source).with_tag(COREDNS_BY_MINOR[settings.minor]))
        requests.append(ImageRequest(name, source, namespace))
    for name, source in sorted(workload_sources.items()):
        requests.append(ImageRequest(name, source, namespace))
    for image in tenant.translate_images:
        requests.append(ImageRequest(tenant_image_name(image), str(parse(image)), namespace))
    return requests


def image_requests(settings: VClusterSettings, workload_sources: Mapping[str, str]) -> list[ImageRequest]:
    """Every image of every tenant, and the operator's background proxy (once)."""
    if not settings.tenants:
        return []
    requests = [
        request
        for tenant in settings.tenants
        for request in tenant_requests(tenant, settings, workload_sources)
    ]
    proxy = RELEASES.source(settings.chart.version, BACKGROUND_PROXY)
    return [*requests, ImageRequest(BACKGROUND_PROXY, proxy, None)]


def tenant_image_name(image: str) -> str:
    """Logical name of an extra tenant image: ``tenant-images/<slug of its reference>``."""
    slug = re.sub(r"[^a-z0-9]+", "-", str(parse(image).without_digest()).lower()).strip("-")[:200]
    return f"tenant-images/{slug}"
