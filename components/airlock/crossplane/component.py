"""Crossplane: the core and its packages, every image and package through the image policy.

Used on its own, with the ImageConfig that resolved its images and the policy it resolved
them with::

    settings = CrossplaneSettings.model_validate({"packages": [...]})
    images = ImageConfig("images", ImageConfigArgs(policy=policy, requests=image_requests(settings)))
    Crossplane("xp", CrossplaneArgs(settings=settings, image_config=images, policy=policy))

What it creates: a ConfigMap with the CA bundle of every registry packages come from (when any
has a private CA: ``images.registries.<host>.caBundle``, or the platform registry's generated
CA) for ``registryCaBundleConfig``; the chart ``crossplane`` with ``helm.v4.Chart`` (core image
as ``image.repository``/``tag``, or the whole reference with ``ignoreTag`` for a digest; pull
secrets as plain names); then, once the chart is ready (its init container has applied
Crossplane's CRDs), the ImageConfigs (rewrites from the policy's rules, pull secrets for the
mirror prefixes) and after them the package objects, so that the first fetch already goes
through the mirror.

``packageSource: rewrite`` (default): ``spec.package`` keeps the upstream name (with the
locked digest) and the ImageConfigs relocate the fetch; Crossplane's Lock keys packages by
``spec.package`` and matches dependencies by upstream names, so this keeps a declared
dependency from being installed twice. ``mirror``: ``spec.package`` is the policy's final
reference (for packages no other package depends on). The rewrite ImageConfigs exist in both
modes. The CA bundle's hash is a pod annotation: Crossplane reads the bundle once, at start.

Outputs: ``core_image``, ``packages`` (``Kind/name`` -> ``spec.package``), ``image_configs``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s

from ..image_config import adopt
from ..images.policy import ImagePolicy
from ..resources import MANAGED_BY, claim_objects, cluster_of, helm_chart
from ..secrets import secret_paths
from .images import CORE
from .settings import CrossplaneSettings
from .spec import (
    CA_ANNOTATION,
    CA_CONFIG_MAP,
    CA_KEY,
    TYPE_TOKEN,
    chart_values,
    image_configs,
    object_keys,
    package_object,
    package_problems,
    package_reference,
    rewrites,
    values_problems,
)

if TYPE_CHECKING:
    from ..image_config import ImageConfig, PendingImageConfig

__all__ = ["Crossplane", "CrossplaneArgs"]


@dataclass(frozen=True)
class CrossplaneArgs:
    settings: CrossplaneSettings
    image_config: ImageConfig | PendingImageConfig
    """Resolves the core image and the packages (``crossplane.images.image_requests``) and holds
    the pull secret of Crossplane's namespace; a pending one is registered as a child."""
    policy: ImagePolicy
    """The policy the images were resolved with: its rules become the rewrite ImageConfigs."""
    labels: Mapping[str, str] = field(default_factory=dict)
    namespace_resource: pulumi.Resource | None = None
    registry_ca: pulumi.Input[str] | None = None
    """The platform registry's CA (generated at deploy time), for packages from ``registry_hosts``."""
    registry_hosts: frozenset[str] = frozenset()
    secret_values: bool = False


def _bundle(pems: list[pulumi.Input[str]]) -> pulumi.Output[str]:
    """PEM bundles joined, each once, in order."""

    def join(texts: list[str]) -> str:
        unique = list(dict.fromkeys(text.strip() for text in texts if text and text.strip()))
        return "\n".join(unique) + "\n"

    joined: pulumi.Output[str] = pulumi.Output.all(*pems).apply(join)
    return joined


class Crossplane(pulumi.ComponentResource):
    # Class-level annotations are the outputs (a component package's schema reads them).
    core_image: pulumi.Output[str]
    packages: pulumi.Output[dict[str, str]]
    image_configs: pulumi.Output[list[str]]

    def __init__(self, name: str, args: CrossplaneArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        settings, images = args.settings, args.image_config
        namespace = settings.namespace
        core = images.resolved(CORE, namespace)
        resolved = {
            package.logical_name: images.resolved(package.logical_name, namespace)
            for package in settings.packages
        }
        problems = [
            f"{'.'.join(map(str, path))}: {why}; {fix}" for path, _, why, fix in values_problems(settings)
        ] + [
            f"packages[{path[1]}].package: {why}; {fix}"
            for path, _, why, fix in package_problems(settings, resolved, args.policy)
        ]
        if problems:  # what the stack loader reports with config paths, for a component used alone
            raise ValueError("crossplane: " + "; ".join(problems))
        pems: list[pulumi.Input[str]] = [image.ca_bundle for image in resolved.values() if image.ca_bundle]
        if args.registry_ca is not None and any(
            image.registry in args.registry_hosts for image in resolved.values()
        ):
            pems.append(args.registry_ca)
        pull_secrets = images.pull_secret_names(namespace)
        core_values, warnings = chart_values(settings, core, pull_secrets, bool(pems))
        self.values: dict[str, Any] = core_values
        labels = {**MANAGED_BY, **args.labels}
        configs = rewrites(args.policy, resolved.values())
        pull_registries = [r for r in images.table.secret_registries.get(namespace, ()) if pull_secrets]
        self.manifests: list[dict[str, Any]] = image_configs(
            configs, pull_registries, pull_secrets[0] if pull_secrets else None, labels
        )
        claim_objects(
            f"{TYPE_TOKEN} {name}",
            object_keys(settings)
            + [(m["apiVersion"], m["kind"], "", m["metadata"]["name"]) for m in self.manifests],
            cluster_of(opts),
        )
        super().__init__(TYPE_TOKEN, name, None, opts)
        images = adopt(images, self)
        for warning in warnings:
            pulumi.log.warn(warning, self)

        def child(*depends: pulumi.Resource | None) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, depends_on=[d for d in depends if d is not None])

        home = [args.namespace_resource, images.secret_for(namespace)]
        ca_map = None
        values: pulumi.Input[dict[str, Any]] = self.values
        if pems:
            bundle = _bundle(pems)
            ca_map = k8s.core.v1.ConfigMap(
                f"{name}-registry-ca",
                metadata={"name": CA_CONFIG_MAP, "namespace": namespace, "labels": labels},
                data={CA_KEY: bundle},
                opts=child(*home),
            )
            # Crossplane reads the bundle once, at start: a new CA must restart its pod. The
            # chart copies customAnnotations onto the pod template (templates/deployment.yaml).
            annotations = {
                **dict(self.values.get("customAnnotations") or {}),
                CA_ANNOTATION: bundle.apply(lambda text: hashlib.sha256(text.encode()).hexdigest()),
            }
            values = {**self.values, "customAnnotations": annotations}
        if args.secret_values or any(secret_paths(self.values)):
            values = pulumi.Output.secret(values)
        chart = helm_chart(
            f"{name}-chart",
            release=settings.release_name,
            namespace=namespace,
            location=settings.chart.location(),
            values=values,
            opts=child(*home, ca_map),
        )
        # The CRDs exist once the chart is ready (its init container applies them); the
        # ImageConfigs must exist before the packages, or the first fetch goes upstream.
        config_resources = [
            k8s.apiextensions.CustomResource(
                f"{name}-imageconfig-{manifest['metadata']['name']}",
                api_version=manifest["apiVersion"],
                kind=manifest["kind"],
                metadata=manifest["metadata"],
                spec=manifest["spec"],
                opts=child(chart),
            )
            for manifest in self.manifests
        ]
        references: dict[str, str] = {}
        for package in settings.packages:
            image = resolved[package.logical_name]
            reference = package_reference(settings, image)
            manifest = package_object(package, reference, image, pull_secrets, labels)
            self.manifests.append(manifest)
            references[f"{package.kind}/{package.name}"] = reference
            k8s.apiextensions.CustomResource(
                f"{name}-{package.kind.lower()}-{package.name}",
                api_version=manifest["apiVersion"],
                kind=manifest["kind"],
                metadata=manifest["metadata"],
                spec=manifest["spec"],
                opts=child(chart, *config_resources),
            )
        self.core_image = pulumi.Output.from_input(str(core.final))
        self.packages = pulumi.Output.from_input(references)
        self.image_configs = pulumi.Output.from_input(
            [m["metadata"]["name"] for m in self.manifests if m["kind"] == "ImageConfig"]
        )
        self.register_outputs(
            {"coreImage": self.core_image, "packages": self.packages, "imageConfigs": self.image_configs}
        )
