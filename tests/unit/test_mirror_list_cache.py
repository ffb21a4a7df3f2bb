"""The mirror list kept between runs: used only for exactly the inputs it was computed from."""

from __future__ import annotations

from pathlib import Path

import pytest

from airlock.images.reference import parse
from airlock.oci import mirrorlist
from airlock.oci.mirrorlist import CachedTrust, MirrorList

PAIRS = [
    (
        parse("docker.io/library/nginx:1.27@sha256:" + "a" * 64),
        parse("registry.example.com/docker.io/library/nginx:1.27"),
    )
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "project"
    root.mkdir()
    # the lockfile is named by the project's default here, not the stack file
    (root / "Pulumi.yaml").write_text("name: p\nconfig:\n  lockFile: {default: locks/dev.lock}\n")
    (root / "Pulumi.dev.yaml").write_text("config:\n  airlock:environment: dev\n")
    (root / "locks").mkdir()
    (root / "locks" / "dev.lock").write_text("version: 1\nimages: {}\n")
    return root


def _stored(root: Path) -> str:
    key = mirrorlist.cache_key(root, "dev", platforms=[], version="1")
    assert key is not None
    trust = {"registry.example.com": type("T", (), {"ca_bundle": "PEM", "insecure": False})()}
    mirrorlist.store(root, "dev", key, MirrorList.of(PAIRS, trust, root / "locks" / "dev.lock"))
    return key


def test_a_kept_list_comes_back_for_the_same_inputs(project: Path) -> None:
    key = _stored(project)
    found = mirrorlist.load(project, "dev", key)
    assert found is not None and found.pairs == PAIRS
    assert found.policy.registries == {"registry.example.com": CachedTrust("PEM", False)}


def test_the_lockfile_the_loader_named_is_checked_on_every_read(project: Path) -> None:
    key = _stored(project)
    (project / "locks" / "dev.lock").write_text("version: 1\nimages: {x: y}\n")
    assert mirrorlist.load(project, "dev", key) is None
    (project / "locks" / "dev.lock").unlink()
    assert mirrorlist.load(project, "dev", key) is None


@pytest.mark.parametrize(
    "change",
    [
        lambda root: (root / "Pulumi.dev.yaml").write_text("config:\n  airlock:environment: other\n"),
        lambda root: (root / "Pulumi.yaml").write_text("name: q\n"),
    ],
)
def test_a_changed_project_or_stack_file_misses(project: Path, change) -> None:
    key = _stored(project)
    change(project)
    new_key = mirrorlist.cache_key(project, "dev", platforms=[], version="1")
    assert new_key != key and mirrorlist.load(project, "dev", new_key) is None


def test_platforms_and_code_are_part_of_the_key(project: Path) -> None:
    key = _stored(project)
    assert mirrorlist.cache_key(project, "dev", platforms=["linux/amd64"], version="1") != key
    assert mirrorlist.cache_key(project, "dev", platforms=[], version="2") != key


def test_a_damaged_cache_file_is_ignored(project: Path) -> None:
    key = _stored(project)
    for path in (project.parent / "cache" / "airlock" / "mirror").glob("*.json"):
        path.write_text("{not json")
    assert mirrorlist.load(project, "dev", key) is None
