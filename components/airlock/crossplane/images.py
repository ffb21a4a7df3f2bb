"""What a Crossplane installation pulls, and where (pure): the core image at v2.3.4 and the
packages.

Read from crossplane/crossplane v2.3.4: the chart's ``image.repository``
(``cluster/charts/crossplane/values.yaml``; the tag defaults to ``v<appVersion>``, and the chart
is packaged with appVersion 2.3.4 by ``nix/build.nix``). The same image runs the init container
(which applies Crossplane's CRDs), the core container and the RBAC manager.

Packages are fetched by the crossplane pod itself (go-containerregistry, with the pull secrets
named on the package and the CA bundle of ``registryCaBundleConfig``): node mirrors never apply
to them. Providers and Functions then run as Deployments in Crossplane's namespace with the
package image, pulled by the kubelet. Every package is therefore requested for Crossplane's
namespace, so its pull secret holds the package registries' logins.
"""

from __future__ import annotations

from ..images.catalog import CatalogImage, ChartReleases
from ..images.table import ImageRequest
from .settings import CrossplaneSettings

__all__ = ["CATALOG", "CORE", "RELEASES", "VERSION", "image_requests"]

VERSION = "2.3.4"
CORE = "crossplane/crossplane"

RELEASES = ChartReleases(
    "crossplane",
    "crossplane",
    {
        VERSION: (
            CatalogImage(
                CORE,
                f"xpkg.crossplane.io/crossplane/crossplane:v{VERSION}",
                "Crossplane core, its init container (applies the CRDs) and the RBAC manager",
            ),
        )
    },
)
CATALOG = RELEASES.images(VERSION)


def image_requests(settings: CrossplaneSettings) -> list[ImageRequest]:
    """The core image and every package, all pulled for Crossplane's namespace."""
    requests = [ImageRequest(CORE, RELEASES.source(settings.chart.version, CORE), settings.namespace)]
    requests += [
        ImageRequest(package.logical_name, package.package, settings.namespace)
        for package in settings.packages
    ]
    return requests
