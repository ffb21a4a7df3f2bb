"""ImageConfig: the resolved image table and one pull secret per namespace that needs it.

Thin wiring around the pure table (``components.images.table``): validation and resolution
happen before this component registers itself, so a bad policy registers nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from .images.dockerconfig import RegistryCredential, check_username, render_dockerconfigjson
from .images.errors import PolicyError
from .images.formats import pull_secret_names, pull_secret_objects, registry_repository_tag
from .images.lock import Lockfile
from .images.policy import ImagePolicy, ResolvedImage
from .images.reference import parse
from .images.table import ImageRequest, ImageTable, build_table

__all__ = ["ImageConfig", "ImageConfigArgs", "RegistryLoginInput", "as_secret"]

MANAGED_BY = {"app.kubernetes.io/managed-by": "airlock"}


@dataclass(frozen=True)
class RegistryLoginInput:
    """Credentials for one registry; the password should be a secret Output."""

    username: pulumi.Input[str]
    password: pulumi.Input[str]


@dataclass(frozen=True)
class ImageConfigArgs:
    policy: ImagePolicy
    """The environment's image policy."""
    requests: Sequence[ImageRequest]
    """Every image the consumers need, with the namespace whose pods pull it."""
    lock: Lockfile = field(default_factory=Lockfile)
    """Digests of source images (images.lock)."""
    credentials: Mapping[str, RegistryLoginInput] = field(default_factory=dict)
    """Registry host[:port] -> login, rendered into the pull secrets."""
    pull_secret_name: str = "airlock-pull"
    """Name of the dockerconfigjson Secret in each namespace."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra labels on the Secrets."""
    namespace_resources: Mapping[str, pulumi.Resource] = field(default_factory=dict)
    """Namespace resources the Secrets must wait for, by namespace name."""
    not_mirrored: frozenset[str] = frozenset()
    """Final references a verify report found missing (``airlock images verify --report``)."""


def _payload(registries: Sequence[str], logins: Sequence[str]) -> str:
    pairs = iter(logins)
    return render_dockerconfigjson(
        {registry: RegistryCredential(next(pairs), next(pairs)) for registry in registries}
    )


def as_secret(value: pulumi.Input[str]) -> pulumi.Output[str]:
    """``pulumi.Output.secret`` with a usable type (the SDK's signature infers ``Never``)."""
    source: pulumi.Input[str] = value
    wrapped: pulumi.Output[str] = pulumi.Output.secret(source)
    return wrapped


def _secret_payload(registries: Sequence[str], logins: Sequence[pulumi.Input[str]]) -> pulumi.Output[str]:
    """The dockerconfigjson text, secret from the moment it exists."""
    rendered: pulumi.Output[str] = pulumi.Output.all(*logins).apply(
        lambda values: _payload(registries, [str(value) for value in values])
    )
    return as_secret(rendered)


class ImageConfig(pulumi.ComponentResource):
    """Resolves every requested image through the policy and creates the pull secrets."""

    images: pulumi.Output[list[dict[str, object]]]
    pull_secrets: pulumi.Output[dict[str, str]]
    unmirrored: pulumi.Output[list[str]]
    """Logical names of images a supplied verify report found missing."""

    def __init__(self, name: str, args: ImageConfigArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # Validate and resolve first: a bad policy or login must register nothing.
        for registry, login in args.credentials.items():
            if isinstance(login.username, str):
                try:
                    check_username(login.username)
                except PolicyError as error:
                    raise PolicyError(
                        f"credentials[{registry!r}].username", login.username, error.reason, error.fix
                    ) from None
        self.table: ImageTable = build_table(
            args.requests,
            args.policy,
            args.lock,
            credential_registries=args.credentials.keys(),
            pull_secret_name=args.pull_secret_name,
        )
        super().__init__("airlock:index:ImageConfig", name, None, opts)
        for warning in self.table.warnings:
            pulumi.log.warn(warning, self)
        missing = {str(parse(reference).without_digest()) for reference in args.not_mirrored}
        unmirrored = sorted(
            {
                entry.request.name
                for entry in self.table.entries
                if str(entry.resolved.final.without_digest()) in missing
            }
        )
        for image_name in unmirrored:
            final = self.table.resolved(image_name).final
            pulumi.log.warn(
                f"{image_name}: {final} is not in its registry yet (verify report); "
                "run 'airlock images mirror'",
                self,
            )
        self.unmirrored = pulumi.Output.from_input(unmirrored)
        secret_names: dict[str, str] = {}
        self.secrets: dict[str, pulumi.Resource] = {}
        for namespace, registries in self.table.secret_registries.items():
            logins: list[pulumi.Input[str]] = []
            for registry in registries:
                logins += [args.credentials[registry].username, args.credentials[registry].password]
            payload = _secret_payload(registries, logins)
            depends = [args.namespace_resources[namespace]] if namespace in args.namespace_resources else []
            self.secrets[namespace] = k8s.core.v1.Secret(
                f"{name}-pull-{namespace}",
                metadata={
                    "name": args.pull_secret_name,
                    "namespace": namespace,
                    "labels": {**MANAGED_BY, **args.labels},
                },
                type="kubernetes.io/dockerconfigjson",
                string_data={".dockerconfigjson": payload},
                opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
            )
            secret_names[namespace] = args.pull_secret_name
        # One Output per table (not one per nested value): the table is plain data known now.
        table_json = json.dumps(self.table.as_list())
        self.images = pulumi.Output.from_input(table_json).apply(json.loads)
        self.pull_secrets = pulumi.Output.from_input(json.dumps(secret_names)).apply(json.loads)
        self.register_outputs(
            {"images": self.images, "pull_secrets": self.pull_secrets, "unmirrored": self.unmirrored}
        )

    # Consumers read decisions at plan time, in their own format.
    def resolved(self, image_name: str) -> ResolvedImage:
        return self.table.resolved(image_name)

    def final(self, image_name: str) -> str:
        return str(self.table.resolved(image_name).final)

    def vcluster_image(self, image_name: str) -> dict[str, str]:
        return registry_repository_tag(self.table.resolved(image_name))

    def pull_secret_names(self, namespace: str | None) -> list[str]:
        return pull_secret_names(self.table.pull_secrets_for(namespace))

    def pull_secret_objects(self, namespace: str | None) -> list[dict[str, str]]:
        return pull_secret_objects(self.table.pull_secrets_for(namespace))
