"""What an Envoy Gateway installation pulls, and where (pure): catalog entries at v1.9.0.

Defaults read from envoyproxy/gateway v1.9.0: the control-plane image is the release image
``docker.io/envoyproxy/gateway:v1.9.0`` (``.github/workflows/release.yaml`` builds the chart with
``IMAGE=docker.io/envoyproxy/gateway TAG=v1.9.0``, envsubst'd into
``charts/gateway-helm/values.tmpl.yaml``); the proxy and rate-limit defaults are
``api/v1alpha1/shared_types.go`` ``DefaultEnvoyProxyImage`` and ``DefaultRateLimitImage`` (the
chart's ``global.images.ratelimit.image`` is the same).

Where each image runs (``charts/gateway-helm/templates``; ``internal/infrastructure/kubernetes``):

- ``envoy-gateway/controller`` (``envoyproxy/gateway``): the controller Deployment and the
  certgen Job in the controller namespace, **and** the shutdown-manager sidecar of every proxy
  pod — the chart always sets ``provider.kubernetes.shutdownManager.image`` to the controller
  image, so the sidecar follows it (and its override) wherever proxies run;
- ``envoy-gateway/proxy`` (``envoyproxy/envoy``): every proxy pod, in the controller namespace
  (``deploy.type: ControllerNamespace``) or in each Gateway's namespace (``GatewayNamespace``);
- ``envoy-gateway/ratelimit``: the controller namespace, only when rate limiting is configured
  (the controller creates the ratelimit Deployment only then; runner.go).

Deployed inside a vcluster tenant, every pod is synced into the tenant's host namespace and
pulls there, so each request names that namespace.
"""

from __future__ import annotations

from ..images.catalog import CatalogImage, ChartReleases
from ..images.table import ImageRequest
from .settings import GatewaySettings

__all__ = ["CATALOG", "CONTROLLER", "PROXY", "RATELIMIT", "RELEASES", "VERSION", "image_requests"]

VERSION = "1.9.0"
CONTROLLER = "envoy-gateway/controller"
PROXY = "envoy-gateway/proxy"
RATELIMIT = "envoy-gateway/ratelimit"

RELEASES = ChartReleases(
    "gateway-helm",
    "gateway",
    {
        VERSION: (
            CatalogImage(
                CONTROLLER,
                f"docker.io/envoyproxy/gateway:v{VERSION}",
                "Envoy Gateway control plane, its certgen Job, and the shutdown-manager sidecar of "
                "every proxy pod",
            ),
            CatalogImage(
                PROXY,
                "docker.io/envoyproxy/envoy:distroless-v1.39.0",
                "Envoy proxy pods the controller creates for each Gateway",
            ),
            CatalogImage(
                RATELIMIT,
                "docker.io/envoyproxy/ratelimit:17b1956c",
                "global rate-limit service (when rate limiting is configured)",
            ),
        )
    },
)
CATALOG = RELEASES.images(VERSION)


def image_requests(settings: GatewaySettings, host_namespace: str | None = None) -> list[ImageRequest]:
    """Every image of the installation with the namespace whose pods pull it; ``host_namespace``:
    the vcluster tenant's host namespace, where a tenant's pods are synced and pull."""
    wanted: list[tuple[str, str]] = [(CONTROLLER, settings.namespace)]
    if settings.rate_limit is not None:
        wanted.append((RATELIMIT, settings.namespace))
    for namespace in settings.proxy_namespaces():
        wanted += [(PROXY, namespace), (CONTROLLER, namespace)]
    requests = {
        (name, host_namespace or namespace): ImageRequest(
            name, RELEASES.source(settings.chart.version, name), host_namespace or namespace
        )
        for name, namespace in wanted
    }
    return list(requests.values())
