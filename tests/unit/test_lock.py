"""images.lock: format stability, strict reading, atomic writes, verify and diff.

Guards against lockfiles that churn in review (unsorted keys), two spellings of one image
holding two digests, a half-written file after a crash, and moved tags going unnoticed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from airlock.images import LockEntry, Lockfile, PolicyError, PolicyErrors, parse

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64


def sample() -> Lockfile:
    return Lockfile(
        {
            "ghcr.io/loft-sh/vcluster-oss:0.36.1": LockEntry(
                D1,
                "application/vnd.oci.image.index.v1+json",
                {"linux/arm64": D3, "linux/amd64": D2},
            ),
            "docker.io/library/registry:3.0.0": LockEntry(D2),
        }
    )


def test_dump_is_sorted_and_stable():
    text = sample().dumps()
    assert text == (
        "# images.lock — written by 'airlock images lock'; review changes like code.\n"
        "images:\n"
        "  docker.io/library/registry:3.0.0:\n"
        f"    digest: {D2}\n"
        "  ghcr.io/loft-sh/vcluster-oss:0.36.1:\n"
        f"    digest: {D1}\n"
        "    media_type: application/vnd.oci.image.index.v1+json\n"
        "    platforms:\n"
        f"      linux/amd64: {D2}\n"
        f"      linux/arm64: {D3}\n"
        "version: 1\n"
    )
    assert Lockfile.loads(text) == sample()
    assert Lockfile.loads(text).dumps() == text


def test_lookup_accepts_any_spelling_of_the_source():
    lock = sample()
    assert lock.get("registry:3.0.0").digest == D2
    assert lock.get(parse("index.docker.io/library/registry:3.0.0")).digest == D2
    assert lock.get(f"docker.io/library/registry:3.0.0@{D3}").digest == D2
    assert lock.get("registry:3.0.1") is None


def test_non_canonical_keys_are_rejected_with_the_fix():
    with pytest.raises(PolicyError) as caught:
        Lockfile.from_data({"version": 1, "images": {"registry:3.0.0": {"digest": D1}}})
    assert "write it as 'docker.io/library/registry:3.0.0'" in str(caught.value)


def test_every_bad_entry_is_reported_at_once():
    data = {
        "version": 1,
        "images": {
            "docker.io/library/a:1": {"digest": "sha256:short"},
            "docker.io/library/b": {"digest": D1},
            "docker.io/library/c:1": {"digest": D1, "extra": 1},
            "docker.io/library/d:1": {"digest": D1, "platforms": {"amd64": D1}},
        },
    }
    with pytest.raises(PolicyErrors) as caught:
        Lockfile.from_data(data)
    messages = [str(problem) for problem in caught.value.problems]
    assert len(messages) == 4
    assert messages[0].startswith("images.lock['docker.io/library/a:1'].digest: 'sha256:short'")
    assert "add the tag the digest was taken from" in messages[1]
    assert "unknown fields" in messages[2]
    assert "platform must be 'os/arch[/variant]'" in messages[3]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"version": 2, "images": {}}, "this airlock reads version 1"),
        ([], "must be a mapping"),
        ({"version": 1, "images": [], "x": 1}, "unknown top-level keys"),
    ],
)
def test_bad_lockfile_shapes(data, message):
    with pytest.raises(PolicyError, match=message):
        Lockfile.from_data(data)


def test_invalid_yaml_is_a_clear_error():
    with pytest.raises(PolicyError, match="is not a YAML lockfile"):
        Lockfile.loads("images: [\n")


def test_missing_file_is_an_empty_lock(tmp_path: Path):
    assert len(Lockfile.load(tmp_path / "images.lock")) == 0


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path: Path, monkeypatch):
    target = tmp_path / "images.lock"
    target.write_text("previous content\n")
    real_replace = os.replace

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        sample().write(target)
    assert target.read_text() == "previous content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images.lock"]
    monkeypatch.setattr(os, "replace", real_replace)
    sample().write(target)
    assert Lockfile.load(target) == sample()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images.lock"]


def test_verify_lists_missing_and_unused_entries():
    report = sample().verify(["ghcr.io/loft-sh/vcluster-oss:0.36.1", "nginx:1.27", f"alpine:3.20@{D1}"])
    assert report.missing == ("docker.io/library/nginx:1.27",)
    assert report.unused == ("docker.io/library/registry:3.0.0",)
    assert not report.ok


def test_diff_names_moved_added_and_removed():
    old = sample()
    new = Lockfile({"ghcr.io/loft-sh/vcluster-oss:0.36.1": LockEntry(D3)}).with_entry(
        "nginx:1.27", LockEntry(D1)
    )
    changes = [str(change) for change in old.diff(new)]
    assert changes == [
        f"docker.io/library/nginx:1.27: new entry {D1}",
        f"docker.io/library/registry:3.0.0: entry removed (was {D2})",
        f"ghcr.io/loft-sh/vcluster-oss:0.36.1: tag moved {D1} -> {D3}",
    ]
    assert old.diff(sample()) == []


def test_a_write_keeps_the_files_mode(tmp_path: Path):
    path = tmp_path / "images.lock"
    sample().write(path)
    os.chmod(path, 0o644)
    Lockfile().write(path)
    assert path.stat().st_mode & 0o777 == 0o644  # was 0600 after every write (mkstemp)


def test_a_new_lockfile_gets_the_umasks_mode(tmp_path: Path):
    previous = os.umask(0o022)
    try:
        sample().write(tmp_path / "images.lock")
    finally:
        os.umask(previous)
    assert (tmp_path / "images.lock").stat().st_mode & 0o777 == 0o644


def test_temporaries_are_named_for_gitignore_and_removed_on_failure(tmp_path: Path, monkeypatch):
    path = tmp_path / "images.lock"

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        sample().write(path)
    assert list(tmp_path.iterdir()) == []
    ignored = (Path(__file__).resolve().parents[2] / ".gitignore").read_text().split()
    assert "*.airlock-tmp" in ignored and "*.airlock-lock" in ignored


def test_update_removes_temporaries_a_killed_writer_left(tmp_path: Path):
    path = tmp_path / "images.lock"
    stale = tmp_path / ".images.lock.0badc0ffee00.airlock-tmp"
    stale.write_text("half a lock")
    unrelated = tmp_path / ".other.lock.0badc0ffee00.airlock-tmp"
    unrelated.write_text("another file's")
    Lockfile.update(path, lambda lock: lock.with_entry("docker.io/library/x:1", LockEntry(D1)))
    assert not stale.exists() and unrelated.exists()
    assert len(Lockfile.load(path)) == 1


def test_concurrent_updates_merge_instead_of_losing_an_entry(tmp_path: Path):
    """Two 'airlock images lock' runs at once: load -> change -> write under one file lock."""
    import contextlib
    import threading
    import time

    path = tmp_path / "images.lock"
    Lockfile().write(path)
    both_loaded = threading.Barrier(2, timeout=5)

    def add(key: str, digest: str) -> None:
        def change(lock: Lockfile) -> Lockfile:
            with contextlib.suppress(threading.BrokenBarrierError):
                both_loaded.wait(timeout=0.5)  # without the file lock both would get here
            time.sleep(0.05)
            return lock.with_entry(key, LockEntry(digest))

        Lockfile.update(path, change)

    threads = [
        threading.Thread(target=add, args=("docker.io/library/a:1", D1)),
        threading.Thread(target=add, args=("docker.io/library/b:1", D2)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(Lockfile.load(path).entries) == ["docker.io/library/a:1", "docker.io/library/b:1"]


def test_a_directory_or_binary_file_is_unreadable_not_a_traceback(tmp_path: Path):
    from airlock.images.lock import LockfileUnreadable

    with pytest.raises(LockfileUnreadable, match="is a directory"):
        Lockfile.load(tmp_path)
    (tmp_path / "images.lock").write_bytes(bytes(range(256)))
    with pytest.raises(LockfileUnreadable, match="is not UTF-8 text"):
        Lockfile.load(tmp_path / "images.lock")
