"""The rooms a stack composes, and what each contributes before anything registers (pure).

A consumer is one room (``airlock/<room>/``): its stack section (typed settings), the images it
requests, the namespaces it needs, the checks across keys only it knows, what it adds to the
image policy and which registries it logs in to. Its component is named by ``component``
(``"module:function"``) and imported only by Platform, so the CLI and the config loader never
import pulumi. Adding a consumer is a new folder plus one entry in :data:`CONSUMERS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from .kube import ObjectKey
from .model import StrictModel

if TYPE_CHECKING:
    from .images.catalog import CatalogImage, ChartReleases
    from .images.policy import ImagePolicy
    from .images.table import ImageRequest, ImageTable

__all__ = ["CONSUMERS", "Consumer", "ObjectKey", "Problem", "StackFacts", "release_problems"]

S = TypeVar("S", bound=StrictModel)


@dataclass(frozen=True)
class Problem:
    """A problem in a consumer's section: ``path`` below the section, the value, why, the fix.

    A path that starts with ``"@<key>"`` is under another config key (``airlock:<key>``), for
    checks across keys (a ``registryCredentials`` entry the registry makes redundant)."""

    path: tuple[str | int, ...]
    value: object
    reason: str
    fix: str = ""


@dataclass(frozen=True)
class StackFacts:
    """What a consumer may look at beyond its own section."""

    namespaces: frozenset[str]
    """Namespaces declared under airlock:namespaces."""
    workload_sources: Mapping[str, str]
    """airlock:workloadImages: logical name -> source reference."""
    credential_hosts: frozenset[str]
    """Hosts of airlock:registryCredentials."""
    secret_keys: frozenset[str] = field(default_factory=frozenset)
    """Config keys (``airlock:<key>``) that are secret config values."""
    sections: Mapping[str, StrictModel] = field(default_factory=dict)
    """The other configured consumers' settings by key (a gateway inside a vcluster tenant
    reads the tenant's host namespace)."""
    policy: ImagePolicy | None = None
    """The stack's policy completed by every consumer; set for :meth:`Consumer.requests` and
    :meth:`Consumer.table_problems`."""


def release_problems(releases: ChartReleases, version: str) -> list[Problem]:
    """A chart version the room's catalog does not know (``images.catalog.ChartReleases``)."""
    found = releases.problem(version)
    return [Problem(("chart", "version"), version, *found)] if found else []


class Consumer(Generic[S]):
    """One room. Subclasses set the class attributes and override what they contribute."""

    key: ClassVar[str]
    """Its section under ``airlock:`` (``registry``, ``vcluster``)."""
    description: ClassVar[str]
    settings: type[S]
    catalog: ClassVar[tuple[CatalogImage, ...]] = ()
    component: ClassVar[str]
    """``"module:function"`` composing the room's components (imported by Platform only)."""
    provides_logins: ClassVar[bool] = False
    """Composed before ImageConfig, because its logins go into the pull secrets."""

    def requests(self, settings: S, facts: StackFacts) -> list[ImageRequest]:
        return []

    def namespaces(self, settings: S) -> list[str]:
        """Namespaces it creates unless declared (``airlock:namespaces``)."""
        return []

    def used_namespaces(self, settings: S) -> list[str]:
        """Every namespace its objects go to on the host cluster (a component used on its own,
        from the component package, treats them as existing)."""
        return self.namespaces(settings)

    def problems(self, settings: S, facts: StackFacts) -> list[Problem]:
        """Checks across keys, before the image table is built."""
        return []

    def table_problems(self, settings: S, table: ImageTable, facts: StackFacts) -> list[Problem]:
        """Checks that need resolved images (a digest-pinned image where a tag is required…);
        ``facts.policy`` is the stack's completed policy."""
        return []

    def complete_policy(self, settings: S, policy: ImagePolicy) -> ImagePolicy:
        """The stack's policy completed by this consumer (the registry adds its rules)."""
        return policy

    def login_hosts(self, settings: S) -> set[str]:
        """Registries this consumer supplies a login for (the pull secrets get it)."""
        return set()

    def pull_through_prefixes(self, settings: S) -> list[str]:
        """Locations that fetch on demand and refuse pushes (the mirror skips them)."""
        return []

    def claims(self, settings: S, platform: str) -> dict[str, list[ObjectKey]]:
        """Kubernetes objects its components will create inside Platform ``platform``, by owner
        (``"<type token> <resource name>"``, exactly as the components claim them)."""
        return {}


def _consumers() -> tuple[Consumer[StrictModel], ...]:
    from .crossplane.consumer import CROSSPLANE
    from .gateway.consumer import GATEWAY
    from .imagesync.consumer import IMAGE_SYNC
    from .nodes.consumer import NODES
    from .registry.consumer import REGISTRY
    from .vcluster.consumer import VCLUSTER

    return (REGISTRY, VCLUSTER, GATEWAY, CROSSPLANE, NODES, IMAGE_SYNC)  # type: ignore[return-value]


CONSUMERS: tuple[Consumer[StrictModel], ...] = _consumers()
"""Every room a stack can configure, in composition order (the registry first: it completes the
policy and supplies the login every other consumer's pull secret needs; vcluster before the
gateway, which can be deployed inside a tenant; the nodes last: they configure what the
others pull through)."""
