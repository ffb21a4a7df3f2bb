"""Sharding the image list for the in-cluster mirror (pure)."""

from __future__ import annotations

import shlex
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airlock.images.reference import parse
from airlock.oci.sync import MAX_SHARDS, Trust, default_shards, plan_shards

DIGEST = "sha256:" + "a" * 64


def _pairs(count: int) -> list:
    return [
        (
            parse(f"docker.io/library/app{index}:1.{index}"),
            parse(f"registry.example.com/mirror/docker.io/library/app{index}:1.{index}"),
        )
        for index in range(count)
    ]


@given(st.integers(min_value=0, max_value=120), st.integers(min_value=1, max_value=25))
def test_shards_are_balanced_by_image_count_and_hold_every_image_once(count, shards):
    planned = plan_shards(_pairs(count), shards=shards, trust={}, cert_root="/c")
    sizes = [shard.images for shard in planned]
    assert sum(sizes) == count
    assert max(sizes) - min(sizes) <= 1
    assert len(planned) == max(1, min(shards, count))
    placed = [final for shard in planned for group in shard.groups for _, final in group.images]
    assert sorted(placed) == sorted(str(destination) for _, destination in _pairs(count))


def test_a_group_per_final_parent_with_digests_for_pinned_sources():
    pairs = [
        (
            parse(f"docker.io/library/app:1.0@{DIGEST}"),
            parse("registry.example.com/mirror/docker.io/library/app:1.0"),
        ),
        (parse("docker.io/library/base:2"), parse("registry.example.com/mirror/docker.io/library/base:2")),
        (parse("ghcr.io/org/tool:3"), parse("registry.example.com/mirror/ghcr.io/org/tool:3")),
    ]
    trust = {"registry.example.com": Trust(ca=True), "ghcr.io": Trust(insecure=True)}
    (shard,) = plan_shards(pairs, shards=1, trust=trust, cert_root="/certs")
    targets = {group.target: group.config for group in shard.groups}
    assert targets == {
        "registry.example.com/mirror/docker.io/library": {
            "docker.io": {"images": {"library/base": ["2"]}, "tls-verify": True}
        },
        "registry.example.com/mirror/ghcr.io/org": {
            "ghcr.io": {"images": {"org/tool": ["3"]}, "tls-verify": False}
        },
    }
    # the pinned one is copied by its digest to its final tag
    assert [(copy.source, copy.destination) for copy in shard.copies] == [
        (f"docker.io/library/app@{DIGEST}", "registry.example.com/mirror/docker.io/library/app:1.0")
    ]
    lines = [
        shlex.split(line.removesuffix(" || failed=1"))
        for line in shard.script(
            config_dir="/cfg", cert_root="/certs", authfile="/auth/config.json", trust=trust
        ).splitlines()
        if line.startswith("skopeo")
    ]
    assert len(lines) == 3
    for command in lines:
        assert command[1:4] in (
            ["sync", "--all", "--preserve-digests"],
            ["copy", "--all", "--preserve-digests"],
        )
        assert command[command.index("--dest-cert-dir") + 1] == "/certs/registry.example.com"
        assert command[command.index("--authfile") + 1] == "/auth/config.json"
        if command[1] == "sync":
            assert command[-2].startswith("/cfg/shard-0-") and command[-1] in targets


def test_a_renamed_image_is_copied_to_its_final_tag():
    pairs = [(parse(f"ghcr.io/org/tool:3.1@{DIGEST}"), parse("registry.example.com/tools/renamed:3.1"))]
    (shard,) = plan_shards(pairs, shards=4, trust={}, cert_root="/c")
    assert shard.groups == [] and len(shard.copies) == 1
    (line,) = [
        line
        for line in shard.script(config_dir="/cfg", cert_root="/c", authfile="/a", trust={}).splitlines()
        if line.startswith("skopeo")
    ]
    command = shlex.split(line.removesuffix(" || failed=1"))
    assert command[-2:] == [
        f"docker://ghcr.io/org/tool@{DIGEST}",
        "docker://registry.example.com/tools/renamed:3.1",
    ]


def test_the_script_runs_every_group_and_fails_if_any_failed(tmp_path):
    """The generated script with a stand-in skopeo whose first call fails: every later command
    still runs, and the script fails."""
    pairs = [
        (parse("docker.io/library/a:1"), parse("r.example.com/x/a:1")),
        (parse("docker.io/library/b:1"), parse("r.example.com/y/b:1")),
        (parse(f"docker.io/library/c:1@{DIGEST}"), parse("r.example.com/y/c:1")),
    ]
    (shard,) = plan_shards(pairs, shards=1, trust={}, cert_root="/c")
    script = shard.script(config_dir="/cfg", cert_root="/c", authfile="/a", trust={})
    calls = tmp_path / "calls"
    fake = tmp_path / "skopeo"
    fake.write_text(f'#!/bin/sh\necho "$1" >> {calls}\n[ "$(wc -l < {calls})" -gt 1 ]\n')
    fake.chmod(0o755)
    result = subprocess.run(["sh", "-c", script], env={"PATH": f"{tmp_path}:/usr/bin:/bin"}, check=False)
    assert result.returncode == 1
    assert calls.read_text().split() == ["sync", "sync", "copy"]


@pytest.mark.parametrize(
    ("images", "shards"), [(0, 1), (1, 1), (25, 1), (26, 2), (100, 4), (1000, MAX_SHARDS)]
)
def test_default_shards(images, shards):
    assert default_shards(images) == shards


def test_zero_shards_is_refused():
    with pytest.raises(ValueError, match="at least one shard"):
        plan_shards(_pairs(2), shards=0, trust={}, cert_root="/c")
