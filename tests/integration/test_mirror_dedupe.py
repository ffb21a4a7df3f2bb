"""A stack's mirror against real registries: shared blobs go up once, then are mounted; a
re-mirror of pinned images costs one request per image.

The failure this guards: a stack whose images share a base layer uploaded that layer once per
repository (the copy checked only the repository it wrote to, and mounted only from the
source repository on the same registry) — 2.7x the bytes the destination lacked.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from airlock.images.reference import parse
from airlock.oci.client import RegistryClient
from airlock.oci.supply import mirror_images
from tests.integration.test_oci_copy import client_for
from tests.support.oci_layout import Layout, build_layout, layer_blob
from tests.support.registry import start_registry

pytestmark = pytest.mark.realserver

IMAGES = 6
PLATFORMS = ("linux/amd64", "linux/arm64")


@pytest.fixture
def stack_images(tmp_path, test_ca):
    source = start_registry(tmp_path / "src", ca=test_ca, username="alice", password="pw-src")
    destination = start_registry(tmp_path / "dst", ca=test_ca, username="bob", password="pw-dst")
    base = layer_blob(512 * 1024)
    layouts: dict[str, Layout] = {}
    try:
        for index in range(IMAGES):
            repository = f"team/app-{index}"
            layout = build_layout(
                tmp_path / f"layout-{index}",
                tag="1.0",
                platforms=PLATFORMS,
                layer_size=128 * 1024,
                shared_layers=(base,),
            )
            subprocess.run(
                [
                    "skopeo",
                    "copy",
                    "--all",
                    "--dest-cert-dir",
                    str(source.cert_dir),
                    "--dest-creds",
                    "alice:pw-src",
                    f"oci:{layout.path}:1.0",
                    f"docker://{source.endpoint}/{repository}:1.0",
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
            layouts[repository] = layout
        yield source, destination, layouts
    finally:
        source.stop()
        destination.stop()


def _pairs(source, destination, layouts: dict[str, Layout], *, pinned: bool) -> list[tuple[Any, Any]]:
    return [
        (
            parse(f"{source.endpoint}/{repository}:1.0" + (f"@{layout.index_digest}" if pinned else "")),
            parse(f"{destination.endpoint}/mirror/{repository}:1.0"),
        )
        for repository, layout in layouts.items()
    ]


def _counting(client: RegistryClient) -> Counter[str]:
    """Requests per registry made through ``client`` from now on."""
    counts: Counter[str] = Counter()
    real = client.request

    def request(method: str, registry: str, *args: Any, **kwargs: Any) -> Any:
        counts[registry] += 1
        return real(method, registry, *args, **kwargs)

    client.request = request  # type: ignore[method-assign]
    return counts


def test_shared_blobs_are_uploaded_once_and_mounted_everywhere_else(stack_images, test_ca):
    source, destination, layouts = stack_images
    shared = next(iter(layouts.values())).shared_bytes
    missing = shared + sum(layout.blob_bytes for layout in layouts.values())
    with client_for(test_ca, source, destination) as client:
        reports = mirror_images(client, _pairs(source, destination, layouts, pinned=False), images_at_once=4)
        assert sum(report.bytes_uploaded for report in reports) == missing  # exactly what was missing
        assert client.bytes_uploaded == missing
        assert sum(report.copied for report in reports) == 1 + IMAGES * len(PLATFORMS) * 2
        assert sum(report.mounted for report in reports) == IMAGES - 1  # the base, in every other repository
        for repository, layout in layouts.items():
            destination_ref = parse(f"{destination.endpoint}/mirror/{repository}:1.0")
            assert client.get_manifest(destination_ref).digest == layout.index_digest
            for digest in layout.platform_digests.values():
                assert client.get_manifest(destination_ref, digest).digest == digest

        counts = _counting(client)
        again = mirror_images(client, _pairs(source, destination, layouts, pinned=True))
        assert all(report.present for report in again)
        assert counts == Counter({destination.endpoint: IMAGES})  # one HEAD per image, the source untouched
        assert client.bytes_uploaded == missing


def test_a_registry_that_refuses_mounts_still_gets_every_image(stack_images, test_ca, monkeypatch):
    source, destination, layouts = stack_images
    shared = next(iter(layouts.values())).shared_bytes
    with client_for(test_ca, source, destination) as client:
        monkeypatch.setattr(client, "mount_blob", lambda *args: False)
        reports = mirror_images(client, _pairs(source, destination, layouts, pinned=True), images_at_once=3)
        assert sum(report.mounted for report in reports) == 0
        # without mounts the base goes to each repository (once per repository, never twice)
        assert client.bytes_uploaded == IMAGES * shared + sum(
            layout.blob_bytes for layout in layouts.values()
        )
        for repository, layout in layouts.items():
            destination_ref = parse(f"{destination.endpoint}/mirror/{repository}:1.0")
            assert client.get_manifest(destination_ref).digest == layout.index_digest


def test_the_layout_helper_shares_the_base(tmp_path: Path) -> None:
    base = layer_blob(4096)
    one = build_layout(tmp_path / "a", platforms=PLATFORMS, shared_layers=(base,))
    two = build_layout(tmp_path / "b", platforms=PLATFORMS, shared_layers=(base,))
    assert one.shared_bytes == two.shared_bytes == len(base)
    assert one.index_digest != two.index_digest


def test_a_lock_rolled_back_moves_the_tag_back(stack_images, test_ca):
    """The destination tag must point at the pinned digest, even when the destination still
    holds that digest from before (a lock moved forward, then back)."""
    source, destination, layouts = stack_images
    first, second = list(layouts.items())[:2]
    target = parse(f"{destination.endpoint}/mirror/app:1.0")
    with client_for(test_ca, source, destination) as client:
        for repository, layout in (first, second, first):
            pinned = parse(f"{source.endpoint}/{repository}:1.0@{layout.index_digest}")
            report = mirror_images(client, [(pinned, target)])[0]
            assert not report.present
            assert client.head_manifest(target, "1.0") == layout.index_digest


def test_adding_an_image_mounts_what_the_present_images_hold(stack_images, test_ca):
    """The everyday case: a stack gains one image whose base its other images already brought.
    Only the new image's own blobs go up; the base is mounted from a repository already there."""
    source, destination, layouts = stack_images
    pairs = _pairs(source, destination, layouts, pinned=True)
    with client_for(test_ca, source, destination) as client:
        mirror_images(client, pairs[:-1])
        before = client.bytes_uploaded
        reports = mirror_images(client, pairs)
        (added,) = [report for report in reports if not report.present]
        new_layout = list(layouts.values())[-1]
        assert client.bytes_uploaded - before == new_layout.blob_bytes
        assert added.mounted == 1 and added.bytes_uploaded == new_layout.blob_bytes
        assert client.get_manifest(pairs[-1][1]).digest == new_layout.index_digest
