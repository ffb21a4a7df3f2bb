"""ImageSync: the stack's mirror in the cluster (imports pulumi).

Used on its own::

    ImageSync("sync", ImageSyncArgs(settings=ImageSyncSettings(), pairs=plan_mirror(...),
              image_config=images, cas={"registry.example.com": ca_pem},
              logins={"registry.example.com": RegistryLoginInput("robot", password)}))

``pairs`` is the list ``airlock images mirror`` copies (``oci.supply.plan_mirror``): one list,
two engines. Outputs: ``schedule``, ``shards``, ``images`` (the final references it fills).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pulumi
import pulumi_kubernetes as k8s

from ..image_config import adopt, secret_payload
from ..images.reference import ImageReference
from ..oci.sync import Trust, default_shards, plan_shards
from ..resources import MANAGED_BY, claim_objects, cluster_of
from .images import SKOPEO
from .settings import ImageSyncSettings
from .spec import AUTH_KEY, CERT_ROOT, TYPE_TOKEN, ca_keys, config_data, cron_job_spec, metadata, object_keys

if TYPE_CHECKING:
    from ..image_config import ImageConfig, PendingImageConfig, RegistryLoginInput

__all__ = ["ImageSync", "ImageSyncArgs"]


@dataclass(frozen=True)
class ImageSyncArgs:
    settings: ImageSyncSettings
    pairs: Sequence[tuple[ImageReference, ImageReference]]
    """(source pinned by the lock where it can be, destination): ``supply.plan_mirror``."""
    image_config: ImageConfig | PendingImageConfig
    """Resolves ``imagesync/skopeo`` (``imagesync.images.image_requests``) and holds the
    namespace's pull secret; a pending one is registered as this component's child."""
    cas: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """CA PEM per registry host with a CA of its own (the policy's, the platform registry's)."""
    insecure: frozenset[str] = frozenset()
    """Registries reached over plain HTTP (declared ``insecure`` in the policy)."""
    logins: Mapping[str, RegistryLoginInput] = field(default_factory=dict)
    """Login per registry host: the sources' and the destination's (push)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    namespace_resource: pulumi.Resource | None = None


class ImageSync(pulumi.ComponentResource):
    # Class-level annotations are the outputs.
    schedule: pulumi.Output[str]
    shards: pulumi.Output[int]
    images: pulumi.Output[list[str]]

    def __init__(self, name: str, args: ImageSyncArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        settings = args.settings
        images = args.image_config
        image = images.resolved(SKOPEO, settings.namespace)
        pull_secrets = images.pull_secret_objects(settings.namespace)
        hosts = {reference.domain for pair in args.pairs for reference in pair}
        trust = {host: Trust(ca=host in args.cas, insecure=host in args.insecure) for host in sorted(hosts)}
        count = settings.shards or default_shards(len(args.pairs))
        shards = plan_shards(args.pairs, shards=count, trust=trust, cert_root=CERT_ROOT)
        data = config_data(shards, trust)
        cas = ca_keys(trust)
        labels = {**MANAGED_BY, **args.labels}
        spec = cron_job_spec(
            settings,
            image=image,
            pull_secrets=pull_secrets,
            shards=len(shards),
            data=data,
            cas=cas,
            labels=labels,
        )
        claim_objects(f"{TYPE_TOKEN} {name}", object_keys(settings), cluster_of(opts))
        super().__init__(TYPE_TOKEN, name, None, opts)
        images = adopt(images, self)
        home = [d for d in (args.namespace_resource, images.secret_for(settings.namespace)) if d is not None]
        ca_files: dict[str, pulumi.Input[str]] = {key: args.cas[host] for key, host in cas.items()}
        config = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=metadata(settings.name, settings.namespace, labels),
            data={**data, **ca_files},
            opts=pulumi.ResourceOptions(parent=self, depends_on=home),
        )
        registries = sorted(host for host in hosts if host in args.logins)
        logins: list[pulumi.Input[str]] = []
        for host in registries:
            logins += [args.logins[host].username, args.logins[host].password]
        auth = k8s.core.v1.Secret(
            f"{name}-auth",
            metadata=metadata(f"{settings.name}-auth", settings.namespace, labels),
            type="Opaque",
            string_data={AUTH_KEY: secret_payload(registries, logins)},
            opts=pulumi.ResourceOptions(parent=self, depends_on=home),
        )
        k8s.batch.v1.CronJob(
            f"{name}-cronjob",
            metadata=metadata(settings.name, settings.namespace, labels),
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*home, config, auth]),
        )
        self.schedule = pulumi.Output.from_input(settings.schedule)
        self.shards = pulumi.Output.from_input(len(shards))
        finals = sorted(final for shard in shards for group in shard.groups for _, final in group.images)
        finals += sorted(copy.destination for shard in shards for copy in shard.copies)
        self.images = pulumi.Output.from_input(finals)
        self.register_outputs({"schedule": self.schedule, "shards": self.shards, "images": self.images})
