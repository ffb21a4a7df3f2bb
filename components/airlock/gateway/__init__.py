"""The Envoy Gateway room: settings (``airlock:gateway``), the images and where they run, the
pure chart values and objects, and the Gateway component. Exports load on first use (the CLI
and the config loader never import pulumi)."""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "Gateway": "component",
    "GatewayArgs": "component",
    "GatewaySettings": "settings",
    "GatewayChart": "settings",
    "ClassSettings": "settings",
    "GatewayItem": "settings",
    "ListenerSettings": "settings",
    "ProxySettings": "settings",
    "image_requests": "images",
    "chart_values": "spec",
}

if TYPE_CHECKING:
    from .component import Gateway, GatewayArgs
    from .images import image_requests
    from .settings import (
        ClassSettings,
        GatewayChart,
        GatewayItem,
        GatewaySettings,
        ListenerSettings,
        ProxySettings,
    )
    from .spec import chart_values


__getattr__ = lazy_exports(__name__, _EXPORTS)


__all__ = [
    "ClassSettings",
    "Gateway",
    "GatewayArgs",
    "GatewayChart",
    "GatewayItem",
    "GatewaySettings",
    "ListenerSettings",
    "ProxySettings",
    "chart_values",
    "image_requests",
]
