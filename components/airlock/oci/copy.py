"""Copy an image — every platform of an index by default — between registries.

Order matters (registry-facts): blobs first, then child manifests by digest, then the top
manifest by tag. A blob the destination already has is skipped after one HEAD; on the same
registry a cross-repository mount replaces the upload. The top manifest is pushed with the
source's exact bytes, so the destination's digest equals the source's.

When the destination tag already points at the source's digest, nothing else is checked: a
registry accepts a manifest only once everything it references is present (distribution answers
``MANIFEST_BLOB_UNKNOWN``/``MANIFEST_UNKNOWN`` otherwise; the integration tests check this
against the real registry), so the tag's presence proves the whole graph is there. regclient's
image copy takes the same short cut unless told to force recursion (``ImageWithForceRecursive``);
``force=True`` is that here, for a registry whose blobs were deleted behind its back.
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
    present: bool = False  # the destination already had this digest under this tag

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
    force: bool = False,
) -> CopyReport:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # The destination tag is read while the source manifest is fetched: one round trip
        # decides a re-copy.
        current = (
            pool.submit(client.head_manifest, destination, destination.tag)
            if destination.tag and not force
            else None
        )
        top = client.get_manifest(source)
        if source.digest and top.digest != source.digest:
            raise RegistryError(f"{source.domain}: {source} resolved to {top.digest}")
        if top.is_index and platforms:
            top = filter_platforms(top, platforms)
        report = CopyReport(str(source), str(destination), top.digest, platforms=sorted(top.platforms()))
        if not force:
            present = current.result() if current else client.head_manifest(destination, top.digest)
            if present == top.digest:
                report.present = True
                return report
        children = list(pool.map(lambda c: client.get_manifest(source, c["digest"]), top.children()))
        _copy_blobs(client, source, destination, children or [top], pool, report, progress)
        list(pool.map(lambda child: client.put_manifest(destination, child.digest, child), children))
    reference = destination.tag or top.digest
    pushed = client.put_manifest(destination, reference, top) or client.head_manifest(destination, reference)
    if pushed != top.digest:
        raise RegistryError(f"{destination.domain}: {destination} points at {pushed}, expected {top.digest}")
    return report


def _copy_blobs(
    client: RegistryClient,
    source: ImageReference,
    destination: ImageReference,
    manifests: list[Manifest],
    pool: ThreadPoolExecutor,
    report: CopyReport,
    progress: Callable[[int], None] | None,
) -> None:
    """Every blob of ``manifests`` into the destination: skipped, mounted or streamed."""
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
