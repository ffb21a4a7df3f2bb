"""The in-cluster mirror's work, as ``skopeo sync`` runs it: shards of the stack's image list,
each a script of sync configurations (pure: no pulumi, no network).

The list is the one ``airlock images mirror`` copies (``supply.plan_mirror``: each source pinned
by the lock where it can be, and its final reference). skopeo's YAML source names a
destination repository ``<target>/<last path component of the source repository>``
(skopeo 1.9.3 ``skopeo sync --src yaml``, checked here against the real binary;
``--scoped`` would prefix the source host, which a host with a port makes an invalid
reference), so an image lands exactly at its final reference when the target is the final
repository's parent: images are grouped by that parent, one sync configuration and one
``skopeo sync`` run per group — any layout (nest, flatten, replace) comes out where the plan
expects it. An image whose final name ends differently from its source (an override that
renames it) is copied with ``skopeo copy`` instead.

A source pinned by a digest is copied by that digest to its final tag (``skopeo copy``, as
``airlock images mirror`` does: the content the lock recorded, never a tag that moved since;
``skopeo sync`` given a digest would push it without the tag pods and ``verify`` read); an
unpinned one is synced by its tag. ``--all`` copies every platform and ``--preserve-digests``
keeps the index digest (skopeo refuses rather than rewrite it).

Shards are balanced by the number of images (sizes differ by one at most); an Indexed Job's
pod runs the script of its ``JOB_COMPLETION_INDEX``.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..images.reference import ImageReference

__all__ = [
    "IMAGES_PER_SHARD",
    "MAX_SHARDS",
    "Shard",
    "SyncGroup",
    "Trust",
    "default_shards",
    "plan_shards",
    "trust_of",
]

IMAGES_PER_SHARD = 25
"""The default shard size: a shard of 25 images finishes in minutes on a small pod."""
MAX_SHARDS = 20
"""Beyond this a registry's write throughput, not the number of pods, bounds a sync."""


@dataclass(frozen=True)
class Trust:
    """How skopeo reaches one registry: a CA of its own (a cert dir holding ``ca.crt``, which
    the pod mounts at ``<cert_root>/<host>``) or plain HTTP."""

    ca: bool = False
    insecure: bool = False


@dataclass(frozen=True)
class SyncGroup:
    """One ``skopeo sync --src yaml`` run: images whose final repositories share a parent."""

    target: str
    """``host[:port]/path``: the parent of every final repository of the group."""
    config: dict[str, Any]
    """skopeo's YAML source: per source registry, ``images`` (repository -> tags or digests),
    ``tls-verify`` and ``cert-dir``."""
    images: list[tuple[str, str]]
    """(source, final reference) of each image, for reviews and the tests."""


@dataclass(frozen=True)
class Copy:
    """An image ``skopeo sync`` cannot place (its final name ends differently)."""

    source: str
    destination: str


@dataclass
class Shard:
    index: int
    groups: list[SyncGroup] = field(default_factory=list)
    copies: list[Copy] = field(default_factory=list)

    @property
    def images(self) -> int:
        return sum(len(group.images) for group in self.groups) + len(self.copies)

    def files(self, prefix: str = "shard") -> dict[str, dict[str, Any]]:
        """File name -> YAML document of each group of this shard."""
        return {
            f"{prefix}-{self.index}-{number}.yaml": group.config for number, group in enumerate(self.groups)
        }

    def script(self, *, config_dir: str, cert_root: str, authfile: str, trust: Mapping[str, Trust]) -> str:
        """The POSIX shell script a pod of this shard runs: every group, then every copy; a
        failure does not stop the others, and the script fails if any failed."""
        lines = [
            "#!/bin/sh",
            f"# airlock image sync, shard {self.index}: {self.images} images",
            "set -u",
            "failed=0",
        ]
        for name, group in zip(self.files(), self.groups, strict=True):
            registry = group.target.split("/", 1)[0]
            command = [
                "skopeo",
                "sync",
                "--all",
                "--preserve-digests",
                "--keep-going",
                "--retry-times",
                "3",
                "--src",
                "yaml",
                "--dest",
                "docker",
                "--authfile",
                authfile,
                *_destination_flags(registry, trust, cert_root),
                f"{config_dir}/{name}",
                group.target,
            ]
            lines.append(f"{shlex.join(command)} || failed=1")
        for copy in self.copies:
            source_registry = copy.source.split("/", 1)[0]
            registry = copy.destination.split("/", 1)[0]
            command = [
                "skopeo",
                "copy",
                "--all",
                "--preserve-digests",
                "--retry-times",
                "3",
                "--authfile",
                authfile,
                *_source_flags(source_registry, trust, cert_root),
                *_destination_flags(registry, trust, cert_root),
                f"docker://{copy.source}",
                f"docker://{copy.destination}",
            ]
            lines.append(f"{shlex.join(command)} || failed=1")
        lines.append('exit "$failed"')
        return "\n".join(lines) + "\n"


def _destination_flags(registry: str, trust: Mapping[str, Trust], cert_root: str) -> list[str]:
    found = trust.get(registry, Trust())
    if found.insecure:
        return ["--dest-tls-verify=false"]
    return ["--dest-cert-dir", f"{cert_root}/{registry}"] if found.ca else []


def _source_flags(registry: str, trust: Mapping[str, Trust], cert_root: str) -> list[str]:
    found = trust.get(registry, Trust())
    if found.insecure:
        return ["--src-tls-verify=false"]
    return ["--src-cert-dir", f"{cert_root}/{registry}"] if found.ca else []


def default_shards(images: int) -> int:
    """Shards for a list of ``images``: one per :data:`IMAGES_PER_SHARD`, at most :data:`MAX_SHARDS`."""
    return max(1, min(MAX_SHARDS, math.ceil(images / IMAGES_PER_SHARD)))


def _source_name(source: ImageReference) -> str:
    return source.digest if source.digest else str(source.tag)


def _final(destination: ImageReference, source: ImageReference) -> str:
    """What the image is pulled as after the sync: by digest when pinned, else by tag."""
    if source.digest:
        return f"{destination.name}@{source.digest}"
    return f"{destination.name}:{destination.tag}"


def plan_shards(
    pairs: Sequence[tuple[ImageReference, ImageReference]],
    *,
    shards: int,
    trust: Mapping[str, Trust],
    cert_root: str,
) -> list[Shard]:
    """``pairs`` (``supply.plan_mirror``) in ``shards`` shards of skopeo sync groups."""
    if shards < 1:
        raise ValueError(f"shards: {shards}: at least one shard is needed")
    ordered = sorted(pairs, key=lambda pair: str(pair[1]))
    count = min(shards, len(ordered)) or 1
    result = [Shard(index) for index in range(count)]
    for position, (source, destination) in enumerate(ordered):
        shard = result[position % count]
        renamed = source.path.rsplit("/", 1)[-1] != destination.path.rsplit("/", 1)[-1]
        if renamed or (source.digest and destination.tag):
            # what `airlock images mirror` pushes: the pinned source under the final tag (skopeo
            # sync would push a digest without its tag)
            pinned = f"{source.name}@{source.digest}" if source.digest else str(source)
            shard.copies.append(Copy(pinned, str(destination)))
            continue
        _add(shard, source, destination, trust, cert_root)
    return result


def _add(
    shard: Shard,
    source: ImageReference,
    destination: ImageReference,
    trust: Mapping[str, Trust],
    cert_root: str,
) -> None:
    target = (
        f"{destination.domain}/{destination.path.rsplit('/', 1)[0]}"
        if "/" in destination.path
        else destination.domain
    )
    group = next((group for group in shard.groups if group.target == target), None)
    if group is None:
        group = SyncGroup(target, {}, [])
        shard.groups.append(group)
    registry = group.config.setdefault(source.domain, _registry_entry(source.domain, trust, cert_root))
    names = registry["images"].setdefault(source.path, [])
    name = _source_name(source)
    if name not in names:
        names.append(name)
    group.images.append((str(source), _final(destination, source)))


def _registry_entry(registry: str, trust: Mapping[str, Trust], cert_root: str) -> dict[str, Any]:
    found = trust.get(registry, Trust())
    entry: dict[str, Any] = {"images": {}, "tls-verify": not found.insecure}
    if found.ca and not found.insecure:
        entry["cert-dir"] = f"{cert_root}/{registry}"
    return entry


def trust_of(registries: Mapping[str, Any], hosts: Iterable[str]) -> dict[str, Trust]:
    """The trust of ``hosts`` from a policy's ``registries`` (``RegistryTrust`` objects)."""
    found: dict[str, Trust] = {}
    for host in hosts:
        entry = registries.get(host)
        if entry is not None:
            found[host] = Trust(ca=bool(entry.ca_bundle), insecure=bool(entry.insecure))
    return found
