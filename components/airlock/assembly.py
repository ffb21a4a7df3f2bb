"""What Platform hands each consumer's compose function, and what it hands back (imports pulumi)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pulumi

if TYPE_CHECKING:
    from .config import LoadedConfig
    from .image_config import ImageConfig, PendingImageConfig, RegistryLoginInput

__all__ = ["Assembly", "Composed"]


@dataclass(frozen=True)
class Assembly:
    """The platform being built: names, parent, the one image table and what exists so far."""

    name: str
    """The Platform's name: every child resource name starts with it."""
    parent: pulumi.Resource | None
    """None while a component used on its own computes its arguments (before it registers)."""
    loaded: LoadedConfig
    namespaces: Mapping[str, pulumi.Resource]
    """Namespace resources this stack creates, by name."""
    labels: Mapping[str, str]
    """Labels every object gets (``airlock/environment``)."""
    image_config: ImageConfig | PendingImageConfig | None = None
    """None while the consumers that supply logins are composed (they come first); pending for
    a component used on its own (it registers the ImageConfig as its child)."""
    composed: Mapping[str, Composed] = field(default_factory=dict)
    """What the consumers composed before this one built, by consumer key (a gateway inside a
    vcluster tenant finds the tenant's component here)."""

    def child(self, *depends: pulumi.Resource | None) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.parent, depends_on=[d for d in depends if d is not None])


@dataclass
class Composed:
    """A consumer's components, its stack exports, and the logins it supplies."""

    components: Mapping[str, pulumi.ComponentResource]
    exports: dict[str, object] = field(default_factory=dict)
    logins: dict[str, RegistryLoginInput] = field(default_factory=dict)
    secret_exports: frozenset[str] = frozenset()
    """The exports that are secrets (the component package returns them apart)."""
