"""Copy an image — every platform of an index by default — between registries.

Order matters (registry-facts): blobs first, then child manifests by digest, then the top
manifest by tag. A blob the destination already has is skipped after one HEAD; on the same
registry a cross-repository mount replaces the upload. The top manifest is pushed with the
source's exact bytes, so the destination's digest equals the source's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..images.reference import ImageReference
from .client import Manifest, RegistryClient, RegistryError

__all__ = ["CopyReport", "copy_image", "filter_platforms"]


@dataclass
class CopyReport:
    source: str
    destination: str
    digest: str
    platforms: list[str] = field(default_factory=list)
    blobs: int = 0
    skipped: int = 0
    mounted: int = 0
    copied: int = 0
    bytes_uploaded: int = 0
    bytes_skipped: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def filter_platforms(index: Manifest, platforms: list[str]) -> Manifest:
    """An index with only ``platforms`` (a new manifest, hence a new digest)."""
    import hashlib

    data = index.data
    wanted = set(platforms)
    kept = [
        child
        for child in data.get("manifests", [])
        if "/".join(
            filter(None, [child.get("platform", {}).get(k) for k in ("os", "architecture", "variant")])
        )
        in wanted
    ]
    if not kept:
        available = ", ".join(sorted(index.platforms()))
        raise RegistryError(f"none of {', '.join(platforms)} in the index (available: {available})")
    content = json.dumps({**data, "manifests": kept}, separators=(",", ":")).encode()
    return Manifest("sha256:" + hashlib.sha256(content).hexdigest(), index.media_type, content)


def copy_image(
    client: RegistryClient,
    source: ImageReference,
    destination: ImageReference,
    *,
    platforms: list[str] | None = None,
    workers: int = 8,
    progress: Callable[[int], None] | None = None,
) -> CopyReport:
    top = client.get_manifest(source)
    if source.digest and top.digest != source.digest:
        raise RegistryError(f"{source.domain}: {source} resolved to {top.digest}")
    if top.is_index and platforms:
        top = filter_platforms(top, platforms)
    report = CopyReport(str(source), str(destination), top.digest, platforms=sorted(top.platforms()))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        children = (
            list(pool.map(lambda c: client.get_manifest(source, c["digest"]), top.children()))
            if top.is_index
            else []
        )
        manifests = children or [top]
        descriptors: dict[str, dict[str, Any]] = {}
        for manifest in manifests:
            for blob in manifest.blobs():
                descriptors.setdefault(blob["digest"], blob)
        report.blobs = len(descriptors)

        def transfer(descriptor: dict[str, Any]) -> tuple[str, int]:
            digest = descriptor["digest"]
            if client.blob_exists(destination, digest):
                return "skipped", int(descriptor.get("size", 0))
            if source.domain == destination.domain and client.mount_blob(destination, source, digest):
                return "mounted", 0
            return "copied", client.copy_blob(source, destination, descriptor, progress)

        for outcome, size in pool.map(transfer, descriptors.values()):
            if outcome == "skipped":
                report.skipped += 1
                report.bytes_skipped += size
            elif outcome == "mounted":
                report.mounted += 1
            else:
                report.copied += 1
                report.bytes_uploaded += size
        for child in children:
            client.put_manifest(destination, child.digest, child)
    client.put_manifest(destination, destination.tag or top.digest, top)
    if destination.tag:
        pushed = client.head_manifest(destination, destination.tag)
        if pushed != top.digest:
            raise RegistryError(
                f"{destination.domain}: {destination} points at {pushed}, expected {top.digest}"
            )
    return report
