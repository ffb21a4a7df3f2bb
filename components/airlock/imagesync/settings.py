"""``airlock:imageSync`` (pure): the in-cluster mirror's schedule, shards and pod limits."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from .. import kube
from ..model import StrictModel
from ..oci.sync import MAX_SHARDS

__all__ = ["ImageSyncSettings", "SyncResources"]

_CRON_FIELD = re.compile(r"[0-9*/,\-A-Za-z?]+")


class SyncResources(StrictModel):
    """A sync pod's requests and limits (skopeo streams blobs: memory stays small)."""

    cpu_request: str = Field("100m", description="CPU request (a Kubernetes quantity).")
    memory_request: str = Field("64Mi", description="Memory request (a Kubernetes quantity).")
    memory_limit: str = Field("256Mi", description="Memory limit (a Kubernetes quantity).")

    @field_validator("cpu_request", "memory_request", "memory_limit")
    @classmethod
    def _quantity(cls, value: str) -> str:
        return kube.quantity(value)


class ImageSyncSettings(StrictModel):
    """``airlock:imageSync``: the ImageSync component, a CronJob whose Indexed Job copies the
    stack's image list into its registries with skopeo sync, one shard per pod."""

    namespace: str = Field(
        "airlock-system", description="Namespace of the CronJob, its ConfigMap and Secret (declared)."
    )
    name: str = Field("airlock-image-sync", description="Name of the CronJob, its ConfigMap and Secret.")
    schedule: str = Field("17 3 * * *", description="When the sync runs (a five-field cron expression, UTC).")
    shards: int | None = Field(
        None,
        ge=1,
        le=MAX_SHARDS,
        description="Pods of the Indexed Job, each syncing its share of the list; default: one per "
        "25 images, at most 20.",
    )
    suspend: bool = Field(False, description="Suspend the schedule (a Job can still be created from it).")
    backoff_limit: int = Field(
        2,
        ge=0,
        le=10,
        description="Retries of each shard's failed pod (backoffLimitPerIndex: one shard's "
        "failures never fail the others).",
    )
    active_deadline_seconds: int = Field(
        3600, ge=60, le=86400, description="A sync Job running longer is stopped."
    )
    ttl_seconds_after_finished: int = Field(
        86400, ge=0, le=604800, description="A finished Job (and its pods' logs) is deleted after this."
    )
    resources: SyncResources = Field(
        default_factory=SyncResources, description="A sync pod's requests and limits."
    )

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        return kube.dns_label(value, "a namespace")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        # CronJob names: the Job name appends 11 characters and must stay a 63-character label
        if len(value) > 52:
            raise ValueError("a CronJob name has at most 52 characters (its Jobs append a suffix)")
        return kube.dns_label(value, "a CronJob name")

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        fields = value.split()
        if (
            value.startswith("@")
            or len(fields) != 5
            or not all(_CRON_FIELD.fullmatch(part) for part in fields)
        ):
            raise ValueError(
                "a schedule is five cron fields (minute hour day-of-month month day-of-week), "
                "e.g. '17 3 * * *'"
            )
        return " ".join(fields)
