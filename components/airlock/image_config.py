"""ImageConfig: the resolved image table and one pull secret per namespace that needs it.

The one place consumers ask, in their own format, at plan time: ``resolved(name, namespace)``,
``final(name)``, ``pull_secret_names(namespace)``, ``pull_secret_objects(namespace)``, and
``secret_for(namespace)`` (the Secret resource to wait for). Every component takes an
ImageConfig (or, for the registry that must exist before any login does, the table it wraps).

Thin wiring around the pure table (``airlock.images.table``): the table is resolved before
this component registers itself, so a bad policy registers nothing. A stack resolves it once
(``load_stack_config``) and hands it in as ``ImageConfigArgs.table``; used on its own, the
component resolves ``requests`` itself::

    images = ImageConfig("images", ImageConfigArgs(
        policy=ImagePolicy(registry={"to": "registry.example.com"}),
        requests=[ImageRequest("apps/web", "nginx:1.27", "apps")],
        credentials={"registry.example.com": RegistryLoginInput("robot", password)},
    ))
    images.final("apps/web")  # 'registry.example.com/docker.io/library/nginx:1.27'

Credentials: a namespace's pull secret holds a registry's login exactly when an image its
pods pull comes from that registry and ``credentials`` has a login for it (one rule,
``build_table``'s ``credential_registries``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from .catalog import CATALOG
from .images.dockerconfig import RegistryCredential, check_username, render_dockerconfigjson
from .images.errors import PolicyError
from .images.formats import pull_secret_names, pull_secret_objects
from .images.lock import Lockfile
from .images.policy import ImagePolicy, ResolvedImage
from .images.reference import parse
from .images.table import ANY_NAMESPACE, ImageRequest, ImageTable, build_table
from .resources import MANAGED_BY, as_secret, claim_objects, cluster_of

__all__ = [
    "ImageConfig",
    "ImageConfigArgs",
    "PendingImageConfig",
    "RegistryLoginInput",
    "adopt",
    "as_secret",
    "secret_payload",
]

TYPE_TOKEN = "airlock:index:ImageConfig"


@dataclass(frozen=True)
class RegistryLoginInput:
    """Credentials for one registry; the password should be a secret Output."""

    username: pulumi.Input[str]
    """Checked before anything registers when it is a plain string (an Output, e.g. read from
    another stack, is checked when the pull secret is rendered)."""
    password: pulumi.Input[str]


@dataclass(frozen=True)
class ImageConfigArgs:
    policy: ImagePolicy = field(default_factory=ImagePolicy)
    """The environment's image policy."""
    requests: Sequence[ImageRequest] = ()
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
    table: ImageTable | None = None
    """The table already resolved from these inputs (``load_stack_config`` does it once per
    run); None: resolve ``requests`` with ``policy`` and ``lock`` here."""


def _payload(registries: Sequence[str], logins: Sequence[str]) -> str:
    pairs = iter(logins)
    return render_dockerconfigjson(
        {registry: RegistryCredential(next(pairs), next(pairs)) for registry in registries}
    )


def secret_payload(registries: Sequence[str], logins: Sequence[pulumi.Input[str]]) -> pulumi.Output[str]:
    """The dockerconfigjson text for ``registries`` (``logins``: user, password per registry, in
    order), secret from the moment it exists."""
    rendered: pulumi.Output[str] = pulumi.Output.all(*logins).apply(
        lambda values: _payload(registries, [str(value) for value in values])
    )
    return as_secret(rendered)


LOGINS_ANNOTATION = "airlock/logins"
"""On each pull Secret: ``{registry: username}`` as JSON, the non-secret facts of its content."""


def _logins_annotation(
    registries: Sequence[str], credentials: Mapping[str, RegistryLoginInput]
) -> pulumi.Output[str]:
    usernames = [credentials[registry].username for registry in registries]
    rendered: pulumi.Output[str] = pulumi.Output.all(*usernames).apply(
        lambda names: json.dumps(dict(zip(registries, (str(n) for n in names), strict=True)), sort_keys=True)
    )
    return rendered


def _table(args: ImageConfigArgs) -> ImageTable:
    """Validate the logins, then resolve (or check the table handed in): before registration."""
    for registry, login in args.credentials.items():
        if not isinstance(login.username, str):
            continue
        try:
            check_username(login.username)
        except PolicyError as error:
            raise PolicyError(
                f"credentials[{registry!r}].username", login.username, error.reason, error.fix
            ) from None
    if args.table is None:
        return build_table(
            args.requests,
            args.policy,
            args.lock,
            credential_registries=args.credentials.keys(),
            pull_secret_name=args.pull_secret_name,
            known_names=CATALOG,
        )
    if args.requests or args.lock != Lockfile() or args.policy != ImagePolicy():
        raise ValueError(
            "ImageConfigArgs: give either table (already resolved) or policy/requests/lock to resolve, "
            "not both: the table would be used and the others ignored"
        )
    needed = {registry for registries in args.table.secret_registries.values() for registry in registries}
    missing = sorted(needed - set(args.credentials))
    if missing or args.table.pull_secret_name != args.pull_secret_name:
        raise ValueError(
            f"ImageConfigArgs.table was resolved for other logins or another pull secret name "
            f"(missing logins: {', '.join(missing) or 'none'}); resolve it with the same "
            "credentials and pull_secret_name"
        )
    return args.table


def _claim_secrets(
    name: str, table: ImageTable, pull_secret_name: str, opts: pulumi.ResourceOptions | None
) -> None:
    claim_objects(
        f"{TYPE_TOKEN} {name}",
        [("v1", "Secret", namespace, pull_secret_name) for namespace in table.secret_registries],
        cluster_of(opts),
    )


class _TableQueries:
    """What consumers read at plan time, from the resolved table (before and after registration)."""

    # No public class-level annotations: a component package's schema reads those as outputs.
    _table: ImageTable
    _credentials: dict[str, RegistryLoginInput]

    @property
    def table(self) -> ImageTable:
        """The resolved image table."""
        return self._table

    def resolved(self, image_name: str, namespace: str | object | None = ANY_NAMESPACE) -> ResolvedImage:
        """The decision for an image; with ``namespace``, only if requested for pods there."""
        return self.table.resolved(image_name, namespace)

    def final(self, image_name: str) -> str:
        return str(self.table.resolved(image_name).final)

    def names_in(self, namespace: str | None) -> list[str]:
        """Logical names of the images requested for ``namespace``."""
        return self.table.names_in(namespace)

    def pull_secrets_for(self, namespace: str | None) -> list[str]:
        return self.table.pull_secrets_for(namespace)

    def pull_secret_names(self, namespace: str | None) -> list[str]:
        """Plain names (Crossplane's chart, ``packagePullSecrets`` take objects again)."""
        return pull_secret_names(self.table.pull_secrets_for(namespace))

    def pull_secret_objects(self, namespace: str | None) -> list[dict[str, str]]:
        """``[{"name": …}]`` (Pod specs, vcluster, Envoy Gateway)."""
        return pull_secret_objects(self.table.pull_secrets_for(namespace))

    def login_for(self, registry: str) -> RegistryLoginInput | None:
        """The login this ImageConfig holds for ``registry`` (host[:port]), if any: what a
        consumer that pulls outside the pull secrets (the nodes' runtime) sends there."""
        return self._credentials.get(registry)


class PendingImageConfig(_TableQueries):
    """An ImageConfig resolved and claimed but not registered yet: a component used on its own
    (a component package's Construct, from any language) owns its images. The component reads
    the decisions before it registers itself (nothing registers when they fail), then
    :func:`adopt` registers the ImageConfig as its child."""

    def __init__(self, name: str, args: ImageConfigArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        self._table = _table(args)
        _claim_secrets(name, self._table, args.pull_secret_name, opts)
        self.name, self._args, self._credentials = name, args, dict(args.credentials)

    def register(self, owner: pulumi.Resource) -> ImageConfig:
        resolved = ImageConfigArgs(
            table=self.table,
            credentials=self._args.credentials,
            pull_secret_name=self._args.pull_secret_name,
            labels=self._args.labels,
            namespace_resources=self._args.namespace_resources,
            not_mirrored=self._args.not_mirrored,
        )
        return ImageConfig(self.name, resolved, opts=pulumi.ResourceOptions(parent=owner))


def adopt(image_config: ImageConfig | PendingImageConfig, owner: pulumi.Resource) -> ImageConfig:
    """The ImageConfig a component reads after registering: the one handed in, or its own
    pending one, registered now as its child."""
    if isinstance(image_config, PendingImageConfig):
        return image_config.register(owner)
    return image_config


class ImageConfig(_TableQueries, pulumi.ComponentResource):
    """Resolves every requested image through the policy and creates the pull secrets."""

    images: pulumi.Output[list[dict[str, object]]]
    """One row per (image, namespace): source, final, rule, pullPolicy, pullSecrets, …"""
    image_map: pulumi.Output[dict[str, dict[str, str]]]
    """logical name -> namespace ('-': outside the cluster) -> final reference."""
    pull_secrets: pulumi.Output[dict[str, str]]
    """namespace -> name of its pull Secret, for namespaces that have one."""
    unmirrored: pulumi.Output[list[str]]
    """Logical names of images a supplied verify report found missing."""

    def __init__(self, name: str, args: ImageConfigArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        self._table = _table(args)
        _claim_secrets(name, self._table, args.pull_secret_name, opts)
        super().__init__(TYPE_TOKEN, name, None, opts)
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
        self._name, self._pull_secret_name, self._labels = name, args.pull_secret_name, dict(args.labels)
        self._payloads: dict[str, pulumi.Output[str]] = {}
        self._credentials = dict(args.credentials)
        for namespace, registries in self.table.secret_registries.items():
            logins: list[pulumi.Input[str]] = []
            for registry in registries:
                logins += [args.credentials[registry].username, args.credentials[registry].password]
            depends = [args.namespace_resources[namespace]] if namespace in args.namespace_resources else []
            self._payloads[namespace] = secret_payload(registries, logins)
            self.secrets[namespace] = k8s.core.v1.Secret(
                f"{name}-pull-{namespace}",
                metadata={
                    "name": args.pull_secret_name,
                    "namespace": namespace,
                    "labels": {**MANAGED_BY, **args.labels},
                    # what the Secret holds, without a password: reviewed in plans and previews
                    "annotations": {LOGINS_ANNOTATION: _logins_annotation(registries, args.credentials)},
                },
                type="kubernetes.io/dockerconfigjson",
                string_data={".dockerconfigjson": self._payloads[namespace]},
                opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
            )
            secret_names[namespace] = args.pull_secret_name
        # One Output per table (not one per nested value): the table is plain data known now.
        self.images = pulumi.Output.from_input(json.dumps(self.table.as_list())).apply(json.loads)
        self.image_map = pulumi.Output.from_input(json.dumps(self.table.as_map())).apply(json.loads)
        self.pull_secrets = pulumi.Output.from_input(json.dumps(secret_names)).apply(json.loads)
        self.register_outputs(
            {
                "images": self.images,
                "imageMap": self.image_map,
                "pullSecrets": self.pull_secrets,
                "unmirrored": self.unmirrored,
            }
        )

    def claim_pull_secrets_in(
        self, namespaces: Sequence[str], *, pulls_in: str, provider: pulumi.ProviderResource
    ) -> None:
        """Claim, before the caller registers anything, the Secrets :meth:`pull_secret_in` will
        create in ``namespaces`` on ``provider``'s cluster (none when ``pulls_in`` needs none)."""
        if pulls_in in self._payloads:
            claim_objects(
                f"{TYPE_TOKEN} {self._name}",
                [("v1", "Secret", namespace, self._pull_secret_name) for namespace in namespaces],
                cluster_of(pulumi.ResourceOptions(provider=provider)),
            )

    def pull_secret_in(
        self,
        namespace: str,
        *,
        pulls_in: str,
        cluster: str,
        provider: pulumi.ProviderResource,
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> pulumi.Resource | None:
        """The pull Secret of namespace ``pulls_in``, also created as ``namespace`` on another
        cluster (``provider``): a vcluster tenant, whose pods are synced into ``pulls_in`` on the
        host and pull there with the Secret their pod spec names, copied from the tenant.
        ``cluster`` names that cluster in resource names (the tenant). None when ``pulls_in``
        needs no pull secret. Claimed like every Secret this component creates."""
        payload = self._payloads.get(pulls_in)
        if payload is None:
            return None
        self.claim_pull_secrets_in([namespace], pulls_in=pulls_in, provider=provider)
        # "<cluster>.<namespace>": a tenant name and a namespace are DNS labels, so this never
        # meets "<host namespace>" of the Secrets above.
        return k8s.core.v1.Secret(
            f"{self._name}-pull-{cluster}.{namespace}",
            metadata={
                "name": self._pull_secret_name,
                "namespace": namespace,
                "labels": {**MANAGED_BY, **self._labels},
            },
            type="kubernetes.io/dockerconfigjson",
            string_data={".dockerconfigjson": payload},
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=list(depends_on)),
        )

    def secret_for(self, namespace: str | None) -> pulumi.Resource | None:
        """The pull Secret resource of ``namespace``, for ``depends_on``; None when it has none."""
        return self.secrets.get(namespace) if namespace is not None else None
