"""What the node room pulls (pure): the small image the NodeRegistryConfig DaemonSet runs.

It runs BEFORE the nodes trust the private registries it configures, so it is resolved with a
policy stripped of the rules that point at them (``ImageRequest.avoid``): in staging it comes
from Docker Hub itself, not from the registry's ``docker.io`` cache whose CA it installs. An
override that points it at one of them anyway is refused.
"""

from __future__ import annotations

from ..images.catalog import CatalogImage
from ..images.table import ImageRequest
from .settings import DaemonSetSettings

__all__ = ["CATALOG", "SYNC", "image_requests"]

SYNC = "nodes/sync"
# The official busybox image (docker-library/official-images library/busybox, 1.37.0): a POSIX
# shell, cp, cmp, grep and sleep are all the DaemonSet's script needs.
CATALOG = (
    CatalogImage(
        SYNC,
        "docker.io/library/busybox:1.37.0",
        "NodeRegistryConfig DaemonSet: writes the hosts.toml tree on every node",
    ),
)


def image_requests(settings: DaemonSetSettings, hosts_to_trust: frozenset[str]) -> list[ImageRequest]:
    if not settings.enabled:
        return []
    return [
        ImageRequest(
            SYNC,
            CATALOG[0].source,
            settings.namespace,
            avoid=tuple(sorted(hosts_to_trust)),
            avoid_reason="whose trust (CA, address or plain HTTP) this DaemonSet installs on the nodes, "
            "so no node could pull it before it runs",
        )
    ]
