"""The node room: settings (``airlock:nodes``), the pure node plan and its renderers (containerd
hosts.toml, registries.conf, kind), and the NodeRegistryConfig component. Exports load on first
use (the CLI and the config loader never import pulumi)."""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "NodeRegistryConfig": "component",
    "NodeRegistryConfigArgs": "component",
    "NodesSettings": "settings",
    "NodePlan": "plan",
    "node_plan": "plan",
    "image_requests": "images",
    "render_files": "render",
}

if TYPE_CHECKING:
    from .component import NodeRegistryConfig, NodeRegistryConfigArgs
    from .images import image_requests
    from .plan import NodePlan, node_plan
    from .render import render_files
    from .settings import NodesSettings


__getattr__ = lazy_exports(__name__, _EXPORTS)


__all__ = [
    "NodePlan",
    "NodeRegistryConfig",
    "NodeRegistryConfigArgs",
    "NodesSettings",
    "image_requests",
    "node_plan",
    "render_files",
]
