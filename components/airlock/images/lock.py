"""``images.lock``: the reviewed, committed map from source reference to digest.

Format (YAML, keys sorted, written atomically, stable byte for byte for the same content)::

    # images.lock — written by 'airlock images lock'; review changes like code.
    version: 1
    images:
      docker.io/library/registry:3.0.0:
        digest: sha256:…            # the index (or single manifest) digest: what pods pull
        media_type: application/vnd.oci.image.index.v1+json
        platforms:                  # per-platform manifest digests, when known
          linux/amd64: sha256:…
          linux/arm64: sha256:…

Keys are canonical source references (``str(parse(x))``) with a tag and without a digest: the
thing whose digest can move upstream. A key that is not canonical is rejected so that two
spellings of one image can never hold two digests.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import secrets
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..yaml_io import YamlError, load_bytes
from .errors import PolicyError, PolicyErrors
from .reference import ImageReference, InvalidReferenceError, parse, parse_digest

__all__ = ["LOCK_FILENAME", "LockChange", "LockEntry", "LockReport", "Lockfile", "LockfileUnreadable"]

LOCK_FILENAME = "images.lock"
LOCK_VERSION = 1
HEADER = "# images.lock — written by 'airlock images lock'; review changes like code.\n"
_PLATFORM_PARTS = (2, 3)


@dataclass(frozen=True, slots=True)
class LockEntry:
    digest: str
    media_type: str | None = None
    platforms: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"digest": self.digest}
        if self.media_type:
            data["media_type"] = self.media_type
        if self.platforms:
            data["platforms"] = dict(sorted(self.platforms.items()))
        return data


@dataclass(frozen=True, slots=True)
class LockChange:
    source: str
    old: str | None
    new: str | None

    @property
    def kind(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "moved"

    def __str__(self) -> str:
        if self.kind == "moved":
            return f"{self.source}: tag moved {self.old} -> {self.new}"
        if self.kind == "added":
            return f"{self.source}: new entry {self.new}"
        return f"{self.source}: entry removed (was {self.old})"


@dataclass(frozen=True, slots=True)
class LockReport:
    missing: tuple[str, ...]
    unused: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.missing


TEMP_SUFFIX = ".airlock-tmp"
LOCK_SUFFIX = ".airlock-lock"


@contextlib.contextmanager
def _file_lock(target: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``.<name>.airlock-lock`` beside ``target`` (flock; on
    Windows, msvcrt's byte-range lock). The lock file stays; it is ignored by git."""
    lock_path = target.with_name(f".{target.name}{LOCK_SUFFIX}")
    handle = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(handle, msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases either lock


class LockfileUnreadable(PolicyError):
    """The lockfile is not a readable YAML text file (a directory, binary, not UTF-8, bad YAML)."""


PLACEHOLDER_SEED = "airlock-offline-placeholder:"


def placeholder_entry(reference: ImageReference | str) -> LockEntry:
    """A recognisable stand-in digest for an image whose registry cannot be reached.

    ``sha256("airlock-offline-placeholder:<source>")``: no registry serves it, so a pull by it
    fails loudly, and :func:`is_placeholder` lets every resolution warn about it. Written only
    by ``airlock images placeholders``, for plans made without network access.
    """
    key = lock_key(reference)
    digest = "sha256:" + hashlib.sha256((PLACEHOLDER_SEED + key).encode()).hexdigest()
    return LockEntry(digest=digest, media_type="application/vnd.airlock.offline-placeholder")


def is_placeholder(reference: ImageReference | str, entry: LockEntry) -> bool:
    return entry.digest == placeholder_entry(reference).digest


def lock_key(reference: ImageReference | str) -> str:
    """The canonical key of a source reference: fully qualified, tag kept, digest dropped."""
    ref = reference if isinstance(reference, ImageReference) else parse(reference)
    return str(ref.without_digest())


def _check_entry(key: str, raw: object) -> LockEntry:
    path = f"images.lock[{key!r}]"
    try:
        ref = parse(key)
    except InvalidReferenceError as error:
        raise PolicyError(path, key, f"not an image reference: {error}", "fix or delete the key") from None
    if str(ref) != key or ref.digest is not None or ref.tag is None:
        raise PolicyError(
            path,
            key,
            "keys must be canonical source references with a tag and no digest",
            f"write it as {lock_key(ref)!r}" if ref.tag else "add the tag the digest was taken from",
        )
    if not isinstance(raw, dict):
        raise PolicyError(
            path, raw, "an entry is a mapping with 'digest'", "regenerate with 'airlock images lock'"
        )
    unknown = sorted(set(raw) - {"digest", "media_type", "platforms"})
    if unknown:
        raise PolicyError(path, unknown, "unknown fields", "only digest, media_type and platforms exist")
    digest = raw.get("digest")
    try:
        parse_digest(str(digest))
    except InvalidReferenceError as error:
        raise PolicyError(
            f"{path}.digest", digest, error.reason, "regenerate with 'airlock images lock'"
        ) from None
    platforms = raw.get("platforms") or {}
    if not isinstance(platforms, dict):
        raise PolicyError(f"{path}.platforms", platforms, "must map 'os/arch[/variant]' to a digest", "")
    for platform, platform_digest in platforms.items():
        if not isinstance(platform, str) or len(platform.split("/")) not in _PLATFORM_PARTS:
            raise PolicyError(f"{path}.platforms", platform, "platform must be 'os/arch[/variant]'", "")
        try:
            parse_digest(str(platform_digest))
        except InvalidReferenceError as error:
            raise PolicyError(f"{path}.platforms[{platform!r}]", platform_digest, error.reason, "") from None
    media_type = raw.get("media_type")
    return LockEntry(digest=str(digest), media_type=media_type, platforms=dict(platforms))


class Lockfile:
    """An immutable set of lock entries keyed by canonical source reference."""

    def __init__(self, entries: Mapping[str, LockEntry] | None = None) -> None:
        self._entries = dict(sorted((entries or {}).items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lockfile) and self._entries == other._entries

    def __hash__(self) -> int:  # pragma: no cover - mutable-looking container
        return hash(tuple(self._entries.items()))

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Lockfile({len(self)} entries)"

    @property
    def entries(self) -> Mapping[str, LockEntry]:
        return dict(self._entries)

    def get(self, reference: ImageReference | str) -> LockEntry | None:
        return self._entries.get(lock_key(reference))

    def with_entry(self, reference: ImageReference | str, entry: LockEntry) -> Lockfile:
        entries = dict(self._entries)
        entries[lock_key(reference)] = entry
        return Lockfile(entries)

    def merged(self, newer: Lockfile) -> Lockfile:
        """These entries, with ``newer``'s replacing or adding theirs (a lock run's result)."""
        return Lockfile({**self._entries, **newer._entries})

    def with_placeholders(self, sources: Iterable[ImageReference]) -> Lockfile:
        """A placeholder entry for every tagged source without an entry (offline plans only)."""
        entries = dict(self._entries)
        for source in sources:
            if source.digest is None and source.tag is not None and lock_key(source) not in entries:
                entries[lock_key(source)] = placeholder_entry(source)
        return Lockfile(entries)

    # -- reading and writing -------------------------------------------------------------
    @classmethod
    def from_data(cls, data: object) -> Lockfile:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise PolicyError("images.lock", type(data).__name__, "must be a mapping", "regenerate it")
        unknown = sorted(set(data) - {"version", "images"})
        if unknown:
            raise PolicyError("images.lock", unknown, "unknown top-level keys", "only 'version' and 'images'")
        if data.get("version") != LOCK_VERSION:
            raise PolicyError(
                "images.lock.version",
                data.get("version"),
                f"this airlock reads version {LOCK_VERSION}",
                "regenerate with 'airlock images lock'",
            )
        images = data.get("images") or {}
        if not isinstance(images, dict):
            raise PolicyError("images.lock.images", images, "must be a mapping", "regenerate it")
        problems: list[PolicyError] = []
        entries: dict[str, LockEntry] = {}
        for key, raw in images.items():
            try:
                entries[str(key)] = _check_entry(str(key), raw)
            except PolicyError as error:
                problems.append(error)
        if problems:
            raise PolicyErrors(problems)
        return cls(entries)

    @classmethod
    def loads(cls, text: str | bytes, source: str = "images.lock") -> Lockfile:
        try:
            data = load_bytes(text if isinstance(text, bytes) else text.encode(), source=source)
        except YamlError as error:
            where = f"line {error.line}: " if error.line else ""
            raise LockfileUnreadable(
                "images.lock", source, f"is not a YAML lockfile ({where}{error.problem})", "regenerate it"
            ) from None
        return cls.from_data(data)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Lockfile:
        """Read a lockfile; a missing file is an empty lock."""
        target = Path(path)
        try:
            data = target.read_bytes()
        except FileNotFoundError:
            return cls()
        except IsADirectoryError:
            raise LockfileUnreadable(
                "images.lock", str(target), "is a directory", "point lockFile at a file, e.g. images.lock"
            ) from None
        except OSError as error:
            raise LockfileUnreadable(
                "images.lock", str(target), f"cannot be read ({error.strerror})", "check the path"
            ) from None
        return cls.loads(data, str(target))

    def to_data(self) -> dict[str, Any]:
        return {
            "version": LOCK_VERSION,
            "images": {key: entry.as_dict() for key, entry in self._entries.items()},
        }

    def dumps(self) -> str:
        body = yaml.safe_dump(self.to_data(), sort_keys=True, default_flow_style=False, width=1000)
        return HEADER + body

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write atomically: a temporary file in the same directory, fsync, then rename.

        The file keeps its mode (a new one gets 0666 less the umask, like any file the user
        creates); the temporary file is named ``.<name>.<random>.airlock-tmp`` (ignored by git)
        and removed on any error. Read-modify-write callers use :meth:`update`, which also
        holds the file lock."""
        target = Path(path)
        try:
            mode: int | None = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            mode = None
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}{TEMP_SUFFIX}")
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            if mode is not None:
                os.fchmod(handle, mode)
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(self.dumps())
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    @classmethod
    def update(
        cls, path: str | os.PathLike[str], change: Callable[[Lockfile], Lockfile]
    ) -> tuple[Lockfile, Lockfile]:
        """Load, change and write the lockfile under an exclusive file lock; (old, new).

        Two ``airlock images lock`` runs at once each merge into what the other wrote instead of
        overwriting it. Temporary files a killed writer left behind are removed first (a writer
        holds the lock for as long as its temporary file exists). Nothing is written when the
        content does not change."""
        target = Path(path)
        try:
            with _file_lock(target):
                return cls._update_locked(target, change)
        except OSError as error:
            raise LockfileUnreadable(
                "images.lock",
                str(target),
                f"cannot be written ({error.strerror or error})",
                "check that its folder exists and is writable",
            ) from None

    @classmethod
    def _update_locked(
        cls, target: Path, change: Callable[[Lockfile], Lockfile]
    ) -> tuple[Lockfile, Lockfile]:
        for stale in target.parent.glob(f".{glob.escape(target.name)}.*{TEMP_SUFFIX}"):
            stale.unlink(missing_ok=True)
        old = cls.load(target)
        new = change(old)
        if new != old or not target.exists():
            new.write(target)
        return old, new

    # -- checks --------------------------------------------------------------------------
    def verify(self, required: Iterable[ImageReference | str]) -> LockReport:
        """Which needed source references lack an entry, and which entries nothing needs.

        References that already carry a digest need no entry.
        """
        needed: set[str] = set()
        for item in required:
            ref = item if isinstance(item, ImageReference) else parse(item)
            if ref.digest is None:
                needed.add(lock_key(ref))
        missing = tuple(sorted(needed - set(self._entries)))
        unused = tuple(sorted(set(self._entries) - needed))
        return LockReport(missing=missing, unused=unused)

    def diff(self, newer: Lockfile) -> list[LockChange]:
        """Entries added, removed, or whose digest moved, sorted by source."""
        changes: list[LockChange] = []
        for key in sorted(set(self._entries) | set(newer._entries)):
            old = self._entries.get(key)
            new = newer._entries.get(key)
            old_digest = old.digest if old else None
            new_digest = new.digest if new else None
            if old_digest != new_digest:
                changes.append(LockChange(key, old_digest, new_digest))
        return changes
