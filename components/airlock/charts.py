"""Where a component's Helm chart comes from (pure): a repository or an OCI mirror, pinned.

Each room subclasses :class:`ChartSource` with its chart's name, repository and version as
defaults; the stack can point any of them at a mirror (``oci://registry.example.com/charts``)
and must declare plain HTTP (``insecure: true``) to use one without TLS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from .model import StrictModel

__all__ = ["ChartLocation", "ChartSource"]


class ChartSource(StrictModel):
    """A chart repository (https://, or http:// declared insecure) or OCI path, and a version."""

    chart: ClassVar[str] = ""
    """The chart's name in its repository (set by each room's subclass)."""

    repository: str = Field(description="Helm repository URL, or oci://host/path for a mirror.")
    version: str = Field(description="Chart version (pinned).")
    insecure: bool = Field(
        False, description="Plain HTTP: an http:// repository, or an oci:// registry without TLS."
    )

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str) -> str:
        if not re.fullmatch(r"(https?|oci)://[^\s/@]+(/[^\s@]*)?", value):
            raise ValueError(
                "repository is an https:// Helm repository or an oci:// registry path, without a login"
            )
        return value.rstrip("/")

    @model_validator(mode="after")
    def _plain_http(self) -> ChartSource:
        if self.repository.startswith("http://") and not self.insecure:
            raise ValueError(
                f"repository {self.repository!r} is plain HTTP: the chart would be downloaded without "
                "TLS; use https:// (or an oci:// mirror), or declare it with insecure: true"
            )
        if self.insecure and self.repository.startswith("https://"):
            raise ValueError("insecure: true contradicts an https:// repository; remove one")
        return self

    @property
    def is_oci(self) -> bool:
        return self.repository.startswith("oci://")

    def location(self, chart: str | None = None) -> ChartLocation:
        """Where ``helm.v4.Chart`` fetches the chart (or ``chart``, another chart published beside
        it in the same repository and version): an OCI reference, or a name in a repository."""
        name = chart or self.chart
        if self.is_oci:
            return ChartLocation(f"{self.repository}/{name}", self.version, None, self.insecure)
        return ChartLocation(name, self.version, self.repository, False)


@dataclass(frozen=True)
class ChartLocation:
    chart: str
    """``chart`` argument: the chart's name, or ``oci://…/<name>``."""
    version: str
    repo: str | None
    """``repository_opts.repo`` for a Helm repository; None for OCI."""
    plain_http: bool
    """``plain_http``: an OCI registry declared insecure."""
