"""vcluster settings (pure): ``airlock:vcluster``, the chart source and the tenants.

Read against the pinned chart (loft-sh/vcluster v0.36.1 ``chart/values.yaml`` and
``chart/values.schema.json``: the sync keys and which syncers take selectors or mappings).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from .. import kube
from ..charts import ChartSource
from ..images.policy import canonical_reference
from ..model import StrictModel

__all__ = [
    "CHART_REPOSITORY",
    "CHART_VERSION",
    "COREDNS_BY_MINOR",
    "FromHostSyncer",
    "LabelSelector",
    "SyncSettings",
    "TenantSettings",
    "VClusterChart",
    "VClusterSettings",
]

CHART_REPOSITORY = "https://charts.loft.sh"
CHART_VERSION = "0.36.1"
# pkg/constants/coredns.go of vcluster v0.36.1: Kubernetes minor -> CoreDNS image.
COREDNS_BY_MINOR = {"1.36": "1.14.2", "1.35": "1.14.1", "1.34": "1.12.1", "1.33": "1.12.0"}
_TENANT_NAME = re.compile(r"[a-z]([-a-z0-9]{0,50}[a-z0-9])?")
_VERSION = re.compile(r"v(1\.(3[3-6]))\.[0-9]+")
SELECTOR_SYNCERS = ("storageClasses", "ingressClasses", "gatewayClasses", "priorityClasses", "runtimeClasses")
AUTO_SYNCERS = ("storageClasses", "csiDrivers", "csiNodes", "csiStorageCapacities")
PLAIN_SYNCERS = ("events", "volumeSnapshotClasses", "deviceClasses")
MAPPING_SYNCERS = ("configMaps", "secrets")
TO_HOST_KEYS = (
    "ingresses",
    "networkPolicies",
    "persistentVolumes",
    "persistentVolumeClaims",
    "podDisruptionBudgets",
    "priorityClasses",
    "serviceAccounts",
    "storageClasses",
    "volumeSnapshots",
    "volumeSnapshotContents",
    "configMaps",
    "secrets",
    "services",
    "endpoints",
)


class LabelSelector(StrictModel):
    match_labels: dict[str, str] = Field(default_factory=dict, description="Labels the objects must carry.")
    match_expressions: list[dict[str, Any]] = Field(
        default_factory=list, description="Kubernetes label selector requirements ({key, operator, values})."
    )

    @field_validator("match_labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        return kube.labels(value)


class FromHostSyncer(StrictModel):
    """One ``sync.fromHost`` syncer; ``selector`` only where vcluster supports one."""

    enabled: bool | Literal["auto"] = Field(
        description="Enable the syncer ('auto' only for storageClasses and the CSI kinds)."
    )
    selector: LabelSelector | None = Field(
        None,
        description="Sync only host objects with these labels (storageClasses, ingressClasses, "
        "gatewayClasses, priorityClasses, runtimeClasses).",
    )
    mappings: dict[str, str] | None = Field(None, description="configMaps/secrets: byName mappings.")


class SyncSettings(StrictModel):
    from_host: dict[str, FromHostSyncer] = Field(
        default_factory=dict,
        description="sync.fromHost syncers by resource kind (storageClasses, configMaps...).",
    )
    to_host: dict[str, bool] = Field(
        default_factory=dict, description="sync.toHost: resource kind -> enabled."
    )

    @field_validator("from_host")
    @classmethod
    def _from_host(cls, value: dict[str, FromHostSyncer]) -> dict[str, FromHostSyncer]:
        known = (*SELECTOR_SYNCERS, *AUTO_SYNCERS, *PLAIN_SYNCERS, *MAPPING_SYNCERS)
        for key, syncer in value.items():
            if key not in known:
                raise ValueError(
                    f"vcluster does not know fromHost syncer {key!r}; known: {', '.join(sorted(known))}"
                )
            if syncer.selector is not None and key not in SELECTOR_SYNCERS:
                raise ValueError(
                    f"fromHost.{key} takes no selector; selectors work on {', '.join(SELECTOR_SYNCERS)}"
                )
            if syncer.enabled == "auto" and key not in AUTO_SYNCERS:
                raise ValueError(
                    f"fromHost.{key}.enabled is true or false ('auto' only for {', '.join(AUTO_SYNCERS)})"
                )
            if syncer.mappings is not None and key not in MAPPING_SYNCERS:
                raise ValueError(f"fromHost.{key} takes no mappings (only configMaps and secrets)")
            if key in MAPPING_SYNCERS and syncer.enabled is True and not syncer.mappings:
                raise ValueError(
                    f"fromHost.{key} needs mappings ('host-namespace/name': 'virtual-namespace/name')"
                )
        return value

    @field_validator("to_host")
    @classmethod
    def _to_host(cls, value: dict[str, bool]) -> dict[str, bool]:
        for key in value:
            if key not in TO_HOST_KEYS:
                raise ValueError(
                    f"vcluster does not know toHost key {key!r}; known: {', '.join(sorted(TO_HOST_KEYS))}"
                )
        return value


class TenantSettings(StrictModel):
    name: str = Field(description="Tenant (vcluster) name; a DNS-1123 label of at most 52 characters.")
    namespace: str | None = Field(None, description="Host namespace; 'vcluster-<name>' if unset.")
    backing_store: Literal["database", "etcd"] = Field(
        "database", description="database: embedded SQLite; etcd: a deployed etcd StatefulSet."
    )
    resources: dict[str, dict[str, str]] | None = Field(
        None, description="controlPlane.statefulSet.resources."
    )
    sync: SyncSettings = Field(
        default_factory=SyncSettings, description="What vcluster syncs from and to the host cluster."
    )
    translate_images: tuple[str, ...] = Field((), description="Extra images tenants run (source references).")
    server: str | None = Field(None, description="API server URL written into the exported kubeconfig.")
    values: dict[str, Any] = Field(
        default_factory=dict, description="Chart values merged last (escape hatch)."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _TENANT_NAME.fullmatch(value):
            raise ValueError(
                "a tenant name must be a DNS-1123 label starting with a letter, at most 52 characters "
                "(vcluster derives object names from it)"
            )
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str | None) -> str | None:
        return None if value is None else kube.dns_label(value, "namespace")

    @field_validator("translate_images")
    @classmethod
    def _images(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(canonical_reference(image) for image in value)

    @property
    def host_namespace(self) -> str:
        return self.namespace or f"vcluster-{self.name}"


class VClusterChart(ChartSource):
    """The vcluster chart: loft's repository by default, or a mirror."""

    chart: ClassVar[str] = "vcluster"
    repository: str = Field(
        CHART_REPOSITORY, description="Helm repository URL, or oci://host/path for a mirror."
    )
    version: str = Field(CHART_VERSION, description="Chart version (pinned).")


class VClusterSettings(StrictModel):
    """``airlock:vcluster``."""

    chart: VClusterChart = Field(
        default_factory=VClusterChart,
        description="The vcluster chart: loft's repository or a mirror, pinned version.",
    )
    kubernetes_version: str = Field(
        "v1.36.0", description="Tenant Kubernetes version (tag of ghcr.io/loft-sh/kubernetes)."
    )
    tenants: tuple[TenantSettings, ...] = Field((), description="The virtual clusters, one per tenant.")

    @field_validator("kubernetes_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not _VERSION.fullmatch(value):
            raise ValueError(
                f"kubernetesVersion must be v1.MINOR.PATCH with a minor vcluster {CHART_VERSION} "
                "supports (1.33-1.36)"
            )
        return value

    @model_validator(mode="after")
    def _unique(self) -> VClusterSettings:
        names = [tenant.name for tenant in self.tenants]
        namespaces = [tenant.host_namespace for tenant in self.tenants]
        for label, items in (("tenant name", names), ("host namespace", namespaces)):
            repeated = sorted({item for item in items if items.count(item) > 1})
            if repeated:
                raise ValueError(f"{label} {', '.join(repeated)} used by more than one tenant")
        return self

    @property
    def minor(self) -> str:
        match = _VERSION.fullmatch(self.kubernetes_version)
        assert match is not None
        return match.group(1)
