"""Crossplane settings (pure): ``airlock:crossplane``, the chart and the packages.

Read against crossplane/crossplane v2.3.4: ``cluster/charts/crossplane/values.yaml`` (chart
values), ``apis/pkg/v1/package_types.go`` and ``cluster/crds/pkg.crossplane.io_providers.yaml``
(``spec.package`` and its CEL rule, ``packagePullPolicy``, ``revisionActivationPolicy``).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from .. import kube
from ..charts import ChartSource
from ..images.policy import canonical_reference
from ..images.reference import parse
from ..model import StrictModel

__all__ = [
    "CHART_REPOSITORY",
    "CHART_VERSION",
    "PACKAGE_PATTERN",
    "PACKAGE_RULE_MESSAGE",
    "CrossplaneChart",
    "CrossplaneSettings",
    "PackageSettings",
]

CHART_REPOSITORY = "https://charts.crossplane.io/stable"
CHART_VERSION = "2.3.4"
# The CEL rule on spec.package of Provider, Function and Configuration (v2.3.4
# cluster/crds/pkg.crossplane.io_providers.yaml): a registry host with a dot, a repository,
# and a tag or a sha256 digest.
PACKAGE_PATTERN = re.compile(r"^[^\.\/]+(\.[^\.\/]+)+(\/[^\/:@]+)+(:[^:@]+(@sha256.+)?|@sha256.+)$")
PACKAGE_RULE_MESSAGE = (
    "must be a fully qualified image name, including the registry, repository, and tag or digest "
    "(the package CRD's CEL rule: the registry host needs a dot)"
)


class CrossplaneChart(ChartSource):
    """The Crossplane chart: ``charts.crossplane.io/stable`` (no OCI chart is published), or a
    mirror."""

    chart: ClassVar[str] = "crossplane"
    repository: str = Field(
        CHART_REPOSITORY, description="Helm repository URL, or oci://host/path for a mirror."
    )
    version: str = Field(CHART_VERSION, description="Chart version (pinned).")


class PackageSettings(StrictModel):
    """A Crossplane package: a Provider, a Function or a Configuration (``pkg.crossplane.io/v1``)."""

    kind: Literal["Provider", "Function", "Configuration"] = Field(description="The package kind.")
    name: str = Field(description="Object name (cluster-scoped).")
    package: str = Field(description="Source reference as upstream publishes it, with a tag or digest.")
    revision_activation_policy: Literal["Automatic", "Manual"] | None = Field(
        None, description="spec.revisionActivationPolicy; Crossplane's default (Automatic) if unset."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return kube.dns_label(value, "a package name")

    @field_validator("package")
    @classmethod
    def _package(cls, value: str) -> str:
        reference = parse(canonical_reference(value))
        if reference.tag is None and reference.digest is None:
            raise ValueError(
                f"a package needs a tag or a digest: Crossplane refuses {value!r} ({PACKAGE_RULE_MESSAGE}); "
                "add the version, e.g. ':v1.0.0'"
            )
        return str(reference)

    @property
    def logical_name(self) -> str:
        """``crossplane-providers/<name>`` (the key of ``images.overrides``)."""
        return f"crossplane-{self.kind.lower()}s/{self.name}"


class CrossplaneSettings(StrictModel):
    """``airlock:crossplane``: one Crossplane installation and its packages."""

    chart: CrossplaneChart = Field(
        default_factory=CrossplaneChart, description="The crossplane chart source and version."
    )
    namespace: str = Field(
        "crossplane-system", description="Crossplane's namespace (declared under airlock:namespaces)."
    )
    release_name: str = Field("crossplane", description="Helm release name.")
    package_source: Literal["rewrite", "mirror"] = Field(
        "rewrite",
        description="rewrite: spec.package keeps the upstream name and ImageConfigs rewrite it to "
        "the mirror (Crossplane matches dependencies by upstream names); mirror: spec.package is "
        "the final reference (only for packages no other package depends on).",
    )
    packages: tuple[PackageSettings, ...] = Field(
        (), description="Providers, Functions and Configurations to install."
    )
    values: dict[str, Any] = Field(
        default_factory=dict, description="Chart values merged last (escape hatch)."
    )

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        return kube.dns_label(value, "namespace")

    @field_validator("release_name")
    @classmethod
    def _release(cls, value: str) -> str:
        return kube.helm_release_name(value)

    @model_validator(mode="after")
    def _unique(self) -> CrossplaneSettings:
        keys = [(package.kind, package.name) for package in self.packages]
        repeated = sorted({f"{kind} {name}" for kind, name in keys if keys.count((kind, name)) > 1})
        if repeated:
            raise ValueError(f"package {', '.join(repeated)} is declared more than once")
        return self
