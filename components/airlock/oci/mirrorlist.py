"""A stack's mirror list, kept between runs of ``airlock images mirror`` (no pydantic import).

The list (``supply.plan_mirror``: each source pinned by the lock, its destination) and the
policy's registry trust depend only on the project file, the stack file, the lockfile they
name, the ``--platform`` choice and airlock's code. Loading and validating a stack costs most of a
re-mirror of a stack whose images are all present (about 0.3 s of 0.5 s here), so the list is
kept in the user's cache directory under a key hashed from exactly those inputs: any change to
one of them recomputes it, and a cached list is never used for other inputs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..images.reference import ImageReference, parse

__all__ = ["CachedPolicy", "CachedTrust", "MirrorList", "cache_key", "load", "store"]

FORMAT = 1


@dataclass(frozen=True)
class CachedTrust:
    ca_bundle: str | None
    insecure: bool


@dataclass(frozen=True)
class CachedPolicy:
    """What the registry client reads of a policy: its ``registries`` trust."""

    registries: dict[str, CachedTrust]


@dataclass(frozen=True)
class MirrorList:
    pairs: list[tuple[ImageReference, ImageReference]]
    policy: CachedPolicy
    lock_file: Path | None = None
    """The lockfile the stack names (as the loader resolved it); its content is part of the key."""

    def to_json(self, key: str) -> str:
        lock = str(self.lock_file) if self.lock_file else None
        return json.dumps(
            {
                "format": FORMAT,
                "key": key,
                "lockFile": lock,
                "lockDigest": _file_digest(self.lock_file) if self.lock_file else None,
                "pairs": [[str(source), str(destination)] for source, destination in self.pairs],
                "registries": {
                    host: {"caBundle": trust.ca_bundle, "insecure": trust.insecure}
                    for host, trust in self.policy.registries.items()
                },
            }
        )

    @classmethod
    def of(
        cls, pairs: Sequence[tuple[ImageReference, ImageReference]], registries: Any, lock_file: Path
    ) -> MirrorList:
        """From a completed policy's ``registries`` (``RegistryTrust`` objects)."""
        trust = {
            host: CachedTrust(entry.ca_bundle, bool(entry.insecure)) for host, entry in registries.items()
        }
        return cls(list(pairs), CachedPolicy(trust), lock_file)


def cache_key(root: Path, stack: str, *, platforms: Iterable[str], version: str) -> str | None:
    """The hash of the project and stack files, ``--platform`` and the code: the key a list is
    kept under (the lockfile those files name is checked when the list is read). None when a
    file cannot be read (then the list is computed, and the loader reports the problem)."""
    digest = hashlib.sha256(f"{FORMAT}\0{version}\0{stack}\0{' '.join(sorted(platforms))}\0".encode())
    for path in (root / "Pulumi.yaml", root / f"Pulumi.{stack}.yaml"):
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            return None
    return digest.hexdigest()


def _file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _path(root: Path, stack: str) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "airlock" / "mirror"
    name = hashlib.sha256(f"{root.resolve()}\0{stack}".encode()).hexdigest()[:32]
    return base / f"{name}.json"


def load(root: Path, stack: str, key: str) -> MirrorList | None:
    """The list kept for exactly these inputs, if any."""
    try:
        data = json.loads(_path(root, stack).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or data.get("key") != key:
            return None
        lock = Path(data["lockFile"]) if data.get("lockFile") else None
        if lock is None or _file_digest(lock) != data.get("lockDigest"):
            return None  # the lockfile changed (or went away) since
        pairs = [(parse(source), parse(destination)) for source, destination in data["pairs"]]
        trust = {
            host: CachedTrust(entry.get("caBundle"), bool(entry.get("insecure")))
            for host, entry in data["registries"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return MirrorList(pairs, CachedPolicy(trust), lock)


def store(root: Path, stack: str, key: str, mirror_list: MirrorList) -> None:
    """Keep the list (best effort: a cache that cannot be written is only slower next time)."""
    path = _path(root, stack)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(mirror_list.to_json(key), encoding="utf-8")
        temporary.replace(path)
