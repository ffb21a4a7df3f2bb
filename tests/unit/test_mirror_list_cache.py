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
    (root / "Pulumi.yaml").write_text("name: p\n")
    (root / "Pulumi.dev.yaml").write_text("config:\n  airlock:lockFile: locks/dev.lock\n")
    (root / "locks").mkdir()
    (root / "locks" / "dev.lock").write_text("version: 1\nimages: {}\n")
    return root


def _stored(root: Path) -> str:
    key = mirrorlist.cache_key(root, "dev", platforms=[], version="1")
    assert key is not None
    trust = {"registry.example.com": type("T", (), {"ca_bundle": "PEM", "insecure": False})()}
    mirrorlist.store(root, "dev", key, MirrorList.of(PAIRS, trust))
    return key


def test_a_kept_list_comes_back_for_the_same_inputs(project: Path) -> None:
    key = _stored(project)
    found = mirrorlist.load(project, "dev", key)
    assert found is not None and found.pairs == PAIRS
    assert found.policy.registries == {"registry.example.com": CachedTrust("PEM", False)}


@pytest.mark.parametrize(
    "change",
    [
        lambda root: (root / "locks" / "dev.lock").write_text("version: 1\nimages: {x: y}\n"),
        lambda root: (root / "Pulumi.dev.yaml").write_text(
            "config:\n  airlock:lockFile: locks/dev.lock\n  airlock:x: 1\n"
        ),
        lambda root: (root / "Pulumi.yaml").write_text("name: q\n"),
    ],
)
def test_any_changed_input_misses(project: Path, change) -> None:
    key = _stored(project)
    change(project)
    new_key = mirrorlist.cache_key(project, "dev", platforms=[], version="1")
    assert new_key != key and mirrorlist.load(project, "dev", new_key) is None


def test_platforms_and_version_are_part_of_the_key(project: Path) -> None:
    key = _stored(project)
    assert mirrorlist.cache_key(project, "dev", platforms=["linux/amd64"], version="1") != key
    assert mirrorlist.cache_key(project, "dev", platforms=[], version="2") != key


def test_a_lockfile_named_in_a_form_this_cannot_read_is_never_cached(project: Path) -> None:
    (project / "Pulumi.dev.yaml").write_text("config: {airlock:lockFile: other.lock}\n")
    assert mirrorlist.cache_key(project, "dev", platforms=[], version="1") is None


def test_a_damaged_cache_file_is_ignored(project: Path) -> None:
    key = _stored(project)
    for path in (Path(project.parent / "cache") / "airlock" / "mirror").glob("*.json"):
        path.write_text("{not json")
    assert mirrorlist.load(project, "dev", key) is None
