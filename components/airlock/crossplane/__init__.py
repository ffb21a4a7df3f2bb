"""The Crossplane room: settings (``airlock:crossplane``), the core image and packages, the pure
chart values and objects, and the Crossplane component. Exports load on first use (the CLI and
the config loader never import pulumi)."""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "Crossplane": "component",
    "CrossplaneArgs": "component",
    "CrossplaneSettings": "settings",
    "CrossplaneChart": "settings",
    "PackageSettings": "settings",
    "image_requests": "images",
    "chart_values": "spec",
}

if TYPE_CHECKING:
    from .component import Crossplane, CrossplaneArgs
    from .images import image_requests
    from .settings import CrossplaneChart, CrossplaneSettings, PackageSettings
    from .spec import chart_values


__getattr__ = lazy_exports(__name__, _EXPORTS)


__all__ = [
    "Crossplane",
    "CrossplaneArgs",
    "CrossplaneChart",
    "CrossplaneSettings",
    "PackageSettings",
    "chart_values",
    "image_requests",
]
