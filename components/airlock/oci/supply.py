"""The image supply chain of a stack: lock, mirror, verify (no pulumi import).

Each works on the stack's image table (``load_stack_config(..., ignore_lock=True)``): the
*source* of every image (what upstream publishes) and its *final* location (what the
environment pulls). Images whose final registry is a pull-through cache are skipped by mirror:
the cache fetches them on demand and refuses pushes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ..images.lock import LockEntry, Lockfile, is_placeholder
from ..images.reference import ImageReference
from .client import RegistryClient, RegistryError
from .copy import BlobLedger, CopyReport, TagCheck, check_pinned_tag, copy_image, learn_blobs

if TYPE_CHECKING:  # the table needs pydantic; the lock, mirror and verify paths do not
    from ..images.table import TableEntry

__all__ = [
    "MirrorError",
    "VerifyProblem",
    "lock_sources",
    "mirror_images",
    "mirror_pairs",
    "plan_mirror",
    "pulled_by_digest",
    "verify_images",
    "verify_report",
]


def lock_sources(
    client: RegistryClient,
    sources: Iterable[ImageReference],
    *,
    locate: Callable[[ImageReference], ImageReference] | None = None,
    workers: int = 16,
) -> Lockfile:
    """Resolve each tagged source to its index (or manifest) digest and platform digests.

    ``locate`` maps a source to where it is read from (the mirror, with ``--from-mirror``)."""
    wanted = sorted(
        {source.without_digest() for source in sources if source.tag and not source.digest}, key=str
    )

    def resolve(source: ImageReference) -> tuple[ImageReference, LockEntry]:
        location = locate(source) if locate else source
        manifest = client.get_manifest(location.without_digest())
        return source, LockEntry(manifest.digest, manifest.media_type, manifest.platforms())

    with ThreadPoolExecutor(max_workers=workers) as pool:
        resolved = list(pool.map(resolve, wanted))
    lock = Lockfile()
    for source, entry in resolved:
        lock = lock.with_entry(source, entry)
    return lock


class MirrorError(ValueError):
    """The stack cannot be mirrored as asked; the message says why and what to do instead."""


def _under(reference: ImageReference, prefix: str) -> bool:
    """``reference`` lives at ``prefix`` (a host, or host/path on whole path components)."""
    domain, _, path = prefix.partition("/")
    if reference.domain != domain:
        return False
    return not path or reference.path == path or reference.path.startswith(path + "/")


def _copied_by_mirror(entry: TableEntry, pull_through: Iterable[str]) -> bool:
    """False when the image is already where it is pulled from, or a pull-through location (an
    in-cluster cache, a Harbor proxy project) fetches it on demand and refuses pushes."""
    final = entry.resolved.final
    if final.name == entry.resolved.source.name:
        return False
    return not any(_under(final, prefix) for prefix in pull_through)


def mirror_pairs(
    entries: Iterable[TableEntry],
    lock: Lockfile,
    pull_through: Iterable[str] = (),
    *,
    placeholders: Literal["refuse", "by-tag"] = "refuse",
) -> list[tuple[ImageReference, ImageReference]]:
    """(source pinned by the lock when it can be, destination) for every image to copy.

    An offline placeholder in the lock is refused: no registry serves that digest; or, for a
    list deployed to sync later (ImageSync; ``pulumi up`` refuses placeholders itself), the
    source is synced by its tag."""
    prefixes = list(pull_through)
    pairs: dict[str, tuple[ImageReference, ImageReference]] = {}
    refused: set[str] = set()
    for entry in entries:
        if not _copied_by_mirror(entry, prefixes):
            continue
        source, final = entry.resolved.source, entry.resolved.final
        locked = lock.get(source) if source.tag and not source.digest else None
        if locked is not None and is_placeholder(source, locked):
            if placeholders == "refuse":
                refused.add(str(source))
                continue
            locked = None
        pinned = source.with_digest(locked.digest) if locked else source
        destination = final.without_digest() if final.tag else final
        pairs[str(destination)] = (pinned, destination)
    if refused:
        raise MirrorError(
            f"images.lock holds offline placeholder digests for {', '.join(sorted(refused))}; "
            "no registry serves them: run 'airlock images lock' with registry access first"
        )
    return [pairs[key] for key in sorted(pairs)]


def pulled_by_digest(
    entries: Iterable[TableEntry], lock: Lockfile, pin: str, pull_through: Iterable[str] = ()
) -> list[str]:
    """Logical names of the mirrored images the plan pulls by digest (explicit, or the lock's).

    ``entries`` come from a table resolved without the lock (``ignore_lock=True``), so a final
    digest there is an explicit one; ``pin`` is the stack's ``images.pin``."""
    prefixes = list(pull_through)
    names = set()
    for entry in entries:
        if not _copied_by_mirror(entry, prefixes):
            continue
        source, final = entry.resolved.source, entry.resolved.final
        locked = lock.get(source) if pin != "off" and source.tag and not source.digest else None
        if final.digest or source.digest or locked is not None:
            names.add(entry.request.name)
    return sorted(names)


def plan_mirror(
    entries: Iterable[TableEntry],
    lock: Lockfile,
    *,
    pin: str,
    pull_through: Iterable[str] = (),
    platforms: Iterable[str] = (),
    placeholders: Literal["refuse", "by-tag"] = "refuse",
) -> list[tuple[ImageReference, ImageReference]]:
    """What ``airlock images mirror`` copies, after the rules that keep pods pullable.

    ``platforms`` pushes a reduced index, which has a digest of its own: images the stack pulls
    by digest would then be missing from the mirror, so that combination is refused."""
    entry_list = list(entries)
    prefixes = list(pull_through)
    pairs = mirror_pairs(entry_list, lock, prefixes, placeholders=placeholders)
    wanted = list(platforms)
    pinned = pulled_by_digest(entry_list, lock, pin, prefixes) if wanted else []
    if pinned:
        raise MirrorError(
            f"--platform {' '.join(wanted)} pushes a reduced index, which has a digest of its own, but "
            f"the stack pulls {', '.join(pinned)} by digest and the mirror would not have those "
            "digests: mirror every platform (drop --platform), or set images.pin: off to pull by tag"
        )
    return pairs


def mirror_images(
    client: RegistryClient,
    pairs: Iterable[tuple[ImageReference, ImageReference]],
    *,
    platforms: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
    on_done: Callable[[CopyReport], None] | None = None,
    force: bool = False,
    images_at_once: int = 8,
) -> list[CopyReport]:
    """Copy each pair (``images_at_once`` in parallel); reports come back in ``pairs`` order.

    First every pinned image is checked with one HEAD of its destination tag; when some are
    missing, the manifests of the present ones on the same registries are read so that the
    blobs they hold are mounted, not uploaded again (the ledger knows the repositories the
    plan already filled). Every pair is attempted; the first failure in ``pairs`` order is
    raised once the others have ended. What was copied stays copied, and a re-run skips it."""
    ledger = BlobLedger()  # a blob the images share goes up once, then is mounted
    pair_list = list(pairs)

    def check(pair: tuple[ImageReference, ImageReference]) -> TagCheck:
        return check_pinned_tag(client, *pair, platforms=platforms, force=force)

    def one(pair: tuple[ImageReference, ImageReference], checked: TagCheck) -> CopyReport:
        source, destination = pair
        report = copy_image(
            client,
            source,
            destination,
            platforms=platforms,
            progress=progress,
            force=force,
            ledger=ledger,
            tag_check=checked,
        )
        if on_done:
            on_done(report)
        return report

    with ThreadPoolExecutor(max_workers=images_at_once) as pool:
        checks = list(pool.map(check, pair_list))
        missing = {
            destination.domain for (_, destination), c in zip(pair_list, checks, strict=True) if not c.present
        }
        present = [destination for (_, destination), c in zip(pair_list, checks, strict=True) if c.present]
        list(
            pool.map(
                lambda image: learn_blobs(client, image, ledger), [d for d in present if d.domain in missing]
            )
        )
        return list(pool.map(one, pair_list, checks))


@dataclass(frozen=True)
class VerifyProblem:
    image: str
    problem: str
    not_mirrored: bool = False
    """True when the final reference lacks the locked content (mirror has not run)."""

    def __str__(self) -> str:
        return f"{self.image}: {self.problem}"


def verify_images(
    client: RegistryClient,
    entries: Iterable[TableEntry],
    lock: Lockfile,
    *,
    upstream: bool = True,
    workers: int = 16,
) -> tuple[int, list[VerifyProblem]]:
    """Every final reference exists with the locked digest (and upstream still agrees)."""
    checks: dict[str, TableEntry] = {}
    for entry in entries:
        checks.setdefault(str(entry.resolved.final), entry)

    def check(entry: TableEntry) -> list[VerifyProblem]:
        source, final = entry.resolved.source, entry.resolved.final
        name = str(final)
        expected = source.digest or final.digest
        if expected is None:
            locked = lock.get(source)
            if locked is None:
                return [VerifyProblem(name, f"no images.lock entry for {source}; run 'airlock images lock'")]
            expected = locked.digest
        problems = []
        try:
            at_digest = client.head_manifest(final, expected)
            if at_digest is None:
                problems.append(
                    VerifyProblem(name, f"{expected} is missing; run 'airlock images mirror'", True)
                )
            if final.tag:
                tagged = client.head_manifest(final, final.tag)
                if tagged != expected:
                    problems.append(
                        VerifyProblem(name, f"tag {final.tag} points at {tagged}, locked {expected}")
                    )
            if upstream and source.tag and not source.digest and source.name != final.name:
                current = client.head_manifest(source.without_digest(), source.tag)
                if current != expected:
                    problems.append(
                        VerifyProblem(str(source), f"tag moved upstream: {expected} -> {current}")
                    )
        except RegistryError as error:
            problems.append(VerifyProblem(name, str(error)))
        return problems

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(check, checks.values()))
    return len(checks), [problem for problems in results for problem in problems]


def verify_report(stack: str, checked: int, problems: list[VerifyProblem]) -> dict[str, object]:
    """What ``airlock images verify --report`` writes and ``airlock:verifyReport`` reads."""
    return {
        "stack": stack,
        "checked": checked,
        "not_mirrored": sorted({p.image for p in problems if p.not_mirrored}),
        "problems": [str(p) for p in problems],
    }
