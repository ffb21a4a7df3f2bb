"""Copy an image — every platform of an index by default — between registries.

Order matters (registry-facts): blobs first, then child manifests by digest, then the top
manifest by tag. A blob the destination repository already has is skipped after one HEAD; a
blob another repository of the destination registry holds — one this run filled, one an image
already there holds (``learn_blobs``), or the source's own repository when both are on one
registry — is mounted
(``POST …/blobs/uploads/?mount=&from=``), never uploaded again, with an upload when the
registry refuses the mount. A :class:`BlobLedger` shared by every copy of a run knows which
repository holds what and which uploads are under way: a blob several images share is uploaded
once, even when those images copy at the same time (the others wait for it, then mount it).
So a run uploads exactly the bytes of the blobs its destination registry lacks. The top
manifest is pushed with the source's exact bytes, so the destination's digest equals the
source's.

When the destination tag already points at the source's digest, nothing else is checked (and
a source pinned by digest is not even read: one HEAD decides a re-copy): a
registry accepts a manifest only once everything it references is present (distribution answers
``MANIFEST_BLOB_UNKNOWN``/``MANIFEST_UNKNOWN`` otherwise; the integration tests check this
against the real registry), so the tag's presence proves the whole graph is there. regclient's
image copy takes the same short cut unless told to force recursion (``ImageWithForceRecursive``);
``force=True`` is that here, for a registry whose blobs were deleted behind its back.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..images.reference import ImageReference
from .client import Manifest, RegistryClient, RegistryError

__all__ = [
    "BlobLedger",
    "CopyReport",
    "TagCheck",
    "check_pinned_tag",
    "copy_image",
    "filter_platforms",
    "learn_blobs",
]


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


class BlobLedger:
    """What one run knows of its destination registries: which repository holds each blob, and
    which uploads are under way (thread-safe; shared by the copies of a run)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders: dict[tuple[str, str], str] = {}
        self._uploads: dict[tuple[str, str], threading.Event] = {}

    def holder(self, registry: str, digest: str) -> str | None:
        """A repository of ``registry`` known to hold ``digest``."""
        with self._lock:
            return self._holders.get((registry, digest))

    def record(self, registry: str, digest: str, repository: str) -> None:
        with self._lock:
            self._holders.setdefault((registry, digest), repository)

    def begin(self, registry: str, digest: str) -> threading.Event | None:
        """None: the caller transfers the blob (and must call :meth:`end`); else an event set
        when the copy already transferring it ends."""
        with self._lock:
            running = self._uploads.get((registry, digest))
            if running is None:
                self._uploads[(registry, digest)] = threading.Event()
            return running

    def end(self, registry: str, digest: str, repository: str | None) -> None:
        """The transfer ended: in ``repository``, or failed (None: a waiting copy tries itself)."""
        with self._lock:
            if repository is not None:
                self._holders.setdefault((registry, digest), repository)
            self._uploads.pop((registry, digest)).set()


def learn_blobs(client: RegistryClient, image: ImageReference, ledger: BlobLedger) -> None:
    """Record in ``ledger`` every blob ``image`` (already in its registry) holds: a later copy
    mounts them from its repository. Best effort: an image that cannot be read teaches nothing."""
    try:
        top = client.get_manifest(image)
        manifests = [client.get_manifest(image, child["digest"]) for child in top.children()] or [top]
    except RegistryError:
        return
    for manifest in manifests:
        for blob in manifest.blobs():
            ledger.record(image.domain, str(blob["digest"]), image.path)


@dataclass(frozen=True)
class TagCheck:
    looked_up: bool
    """Whether the destination tag was read (a pinned source, every platform, not forced)."""
    at_tag: str | None = None
    """The digest it points at (None: absent)."""
    present: bool = False
    """The tag already points at the pinned digest: the copy is done."""


def check_pinned_tag(
    client: RegistryClient,
    source: ImageReference,
    destination: ImageReference,
    *,
    platforms: list[str] | None = None,
    force: bool = False,
) -> TagCheck:
    """For a source pinned by the lock, one HEAD of the destination tag decides whether the
    copy is done (the source is not read at all)."""
    if destination.tag is None or force or platforms or not source.digest:
        return TagCheck(looked_up=False)
    at_tag = client.head_manifest(destination, destination.tag)
    return TagCheck(True, at_tag, at_tag == source.digest)


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
    ledger: BlobLedger | None = None,
    tag_check: TagCheck | None = None,
) -> CopyReport:
    """``tag_check``: :func:`check_pinned_tag`'s answer, when the caller already asked."""
    ledger = ledger or BlobLedger()
    tagged = destination.tag is not None and not force
    checked = tag_check or check_pinned_tag(client, source, destination, platforms=platforms, force=force)
    if checked.present:
        return CopyReport(str(source), str(destination), str(source.digest), present=True)
    at_tag, looked_up = checked.at_tag, checked.looked_up
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # Otherwise the destination tag is read while the source manifest is fetched: one round
        # trip decides a re-copy.
        current = (
            pool.submit(client.head_manifest, destination, str(destination.tag))
            if tagged and not looked_up
            else None
        )
        top = client.get_manifest(source)
        if source.digest and top.digest != source.digest:
            raise RegistryError(f"{source.domain}: {source} resolved to {top.digest}")
        if top.is_index and platforms:
            top = filter_platforms(top, platforms)
        report = CopyReport(str(source), str(destination), top.digest, platforms=sorted(top.platforms()))
        if not force:
            # the tag must point at the digest (a lock rolled back re-tags an older digest);
            # a destination without a tag needs only the digest
            if current is not None:
                at_tag = current.result()
            present = at_tag if tagged else client.head_manifest(destination, top.digest)
            if present == top.digest:
                report.present = True
                return report
        children = list(pool.map(lambda c: client.get_manifest(source, c["digest"]), top.children()))
        _copy_blobs(client, source, destination, children or [top], pool, report, progress, ledger)
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
    ledger: BlobLedger,
) -> None:
    """Every blob of ``manifests`` into the destination: skipped, mounted or streamed."""
    descriptors: dict[str, dict[str, Any]] = {}
    for manifest in manifests:
        for blob in manifest.blobs():
            descriptors.setdefault(blob["digest"], blob)
    report.blobs = len(descriptors)

    def transfer(descriptor: dict[str, Any]) -> tuple[str, int]:
        return _transfer(client, source, destination, descriptor, ledger, progress)

    for outcome, size in pool.map(transfer, descriptors.values()):
        if outcome == "skipped":
            report.skipped += 1
            report.bytes_skipped += size
        elif outcome == "mounted":
            report.mounted += 1
        else:
            report.copied += 1
            report.bytes_uploaded += size


def _transfer(
    client: RegistryClient,
    source: ImageReference,
    destination: ImageReference,
    descriptor: dict[str, Any],
    ledger: BlobLedger,
    progress: Callable[[int], None] | None,
) -> tuple[str, int]:
    """One blob: ("skipped", size), ("mounted", 0) or ("copied", bytes sent)."""
    registry, digest = destination.domain, str(descriptor["digest"])
    size = int(descriptor.get("size", 0))
    while True:
        holder = ledger.holder(registry, digest)
        if holder == destination.path:
            return "skipped", size
        if holder is not None:
            try:
                mounted = client.mount_blob(destination, destination.with_path(holder), digest)
            except RegistryError:
                mounted = False  # an unexpected answer to the mount: upload instead
            if mounted:
                ledger.record(registry, digest, destination.path)
                return "mounted", 0
            break  # the registry refused the mount: upload it
        running = ledger.begin(registry, digest)
        if running is None:
            break
        running.wait()  # another copy of this run is transferring it: then mount it
    done: str | None = None
    try:
        if client.blob_exists(destination, digest):
            outcome = ("skipped", size)
        elif source.domain == registry and client.mount_blob(destination, source, digest):
            outcome = ("mounted", 0)
        else:
            outcome = ("copied", client.copy_blob(source, destination, descriptor, progress))
        done = destination.path
        return outcome
    finally:
        if holder is None:
            ledger.end(registry, digest, done)
