"""The OCI client against real registries: resolve, copy every platform byte-identically,
skip what is present, mount within a registry, refuse altered bytes, name failed logins.

Guards the supply-chain failures users meet: an index flattened to one platform, a copy that
re-uploads everything, a corrupted layer tagged anyway, an unhelpful 401.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from airlock.images.dockerconfig import RegistryCredential
from airlock.images.reference import parse
from airlock.oci.client import RegistryClient, RegistryError, RegistryTransport
from airlock.oci.copy import copy_image
from tests.support.oci_layout import build_layout
from tests.support.registry import start_registry

pytestmark = pytest.mark.realserver


@pytest.fixture
def two_registries(tmp_path, test_ca):
    source = start_registry(tmp_path / "src", ca=test_ca, username="alice", password="pw-src")
    destination = start_registry(tmp_path / "dst", ca=test_ca, username="bob", password="pw-dst")
    yield source, destination
    source.stop()
    destination.stop()


def client_for(test_ca, *registries) -> RegistryClient:
    return RegistryClient(
        {r.endpoint: RegistryCredential(r.username, r.password) for r in registries},
        {r.endpoint: RegistryTransport(ca_bundle=test_ca.certificate_pem) for r in registries},
    )


def push(
    registry,
    layout_dir: Path,
    tag: str,
    repository: str = "library/app",
    platforms=("linux/amd64", "linux/arm64"),
    size=64 * 1024,
):
    layout = build_layout(layout_dir, tag=tag, platforms=platforms, layer_size=size)
    result = subprocess.run(
        [
            "skopeo",
            "copy",
            "--all",
            "--dest-cert-dir",
            str(registry.cert_dir),
            "--dest-creds",
            f"{registry.username}:{registry.password}",
            f"oci:{layout.path}:{tag}",
            f"docker://{registry.endpoint}/{repository}:{tag}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return layout


def test_resolve_returns_the_index_digest_and_platforms(two_registries, tmp_path, test_ca):
    source, _ = two_registries
    layout = push(source, tmp_path / "layout", "1.0")
    with client_for(test_ca, source) as client:
        manifest = client.get_manifest(parse(f"{source.endpoint}/library/app:1.0"))
    assert manifest.digest == layout.index_digest and manifest.is_index
    assert manifest.platforms() == layout.platform_digests


def test_copy_is_byte_identical_and_a_second_copy_uploads_nothing(two_registries, tmp_path, test_ca):
    source, destination = two_registries
    layout = push(source, tmp_path / "layout", "1.0", size=256 * 1024)
    src = parse(f"{source.endpoint}/library/app:1.0")
    dst = parse(f"{destination.endpoint}/mirror/library/app:1.0")
    with client_for(test_ca, source, destination) as client:
        first = copy_image(client, src, dst)
        assert first.digest == layout.index_digest
        assert first.copied == 4 and first.skipped == 0  # 2 layers + 2 configs
        assert first.bytes_uploaded == layout.blob_bytes
        assert client.get_manifest(dst).digest == layout.index_digest
        for platform, digest in layout.platform_digests.items():
            assert client.get_manifest(dst, digest).digest == digest, platform
        second = copy_image(client, src, dst)
        assert second.present and second.bytes_uploaded == 0 and second.digest == layout.index_digest
        forced = copy_image(client, src, dst, force=True)
        assert not forced.present and forced.bytes_uploaded == 0 and forced.skipped == 4
        assert forced.bytes_skipped == layout.blob_bytes


def test_a_destination_tag_at_another_digest_is_copied_over(two_registries, tmp_path, test_ca):
    source, destination = two_registries
    push(source, tmp_path / "old", "1.0", size=4096)
    src = parse(f"{source.endpoint}/library/app:1.0")
    dst = parse(f"{destination.endpoint}/library/app:1.0")
    with client_for(test_ca, source, destination) as client:
        copy_image(client, src, dst)
        moved = push(source, tmp_path / "new", "1.0", size=8192)
        report = copy_image(client, src, dst)
        assert not report.present and report.copied == 4
        assert client.head_manifest(dst, "1.0") == moved.index_digest


def test_the_registry_refuses_manifests_whose_references_are_missing(two_registries, tmp_path, test_ca):
    """Why the present-tag short cut is sound: distribution accepts neither an image manifest
    whose blobs it lacks nor an index whose child manifests it lacks, so a tag at the source's
    digest means the whole graph is there."""
    source, destination = two_registries
    push(source, tmp_path / "layout", "1.0", size=4096)
    src = parse(f"{source.endpoint}/library/app:1.0")
    dst = parse(f"{destination.endpoint}/library/app:1.0")
    with client_for(test_ca, source, destination) as client:
        index = client.get_manifest(src)
        with pytest.raises(RegistryError, match="MANIFEST_UNKNOWN|MANIFEST_BLOB_UNKNOWN|BLOB_UNKNOWN"):
            client.put_manifest(dst, "1.0", index)
        child = client.get_manifest(src, index.children()[0]["digest"])
        with pytest.raises(RegistryError, match="MANIFEST_BLOB_UNKNOWN|BLOB_UNKNOWN"):
            client.put_manifest(dst, child.digest, child)
        assert client.head_manifest(dst, "1.0") is None


def test_copy_within_a_registry_mounts(two_registries, tmp_path, test_ca):
    source, _ = two_registries
    push(source, tmp_path / "layout", "1.0")
    with client_for(test_ca, source) as client:
        report = copy_image(
            client, parse(f"{source.endpoint}/library/app:1.0"), parse(f"{source.endpoint}/other/app:1.0")
        )
    assert report.mounted == 4 and report.bytes_uploaded == 0


def test_platform_filter_pushes_a_smaller_index(two_registries, tmp_path, test_ca):
    source, destination = two_registries
    layout = push(source, tmp_path / "layout", "1.0")
    with client_for(test_ca, source, destination) as client:
        report = copy_image(
            client,
            parse(f"{source.endpoint}/library/app:1.0"),
            parse(f"{destination.endpoint}/library/app:1.0"),
            platforms=["linux/arm64"],
        )
        assert report.platforms == ["linux/arm64"] and report.digest != layout.index_digest
        assert client.get_manifest(parse(f"{destination.endpoint}/library/app:1.0")).platforms() == {
            "linux/arm64": layout.platform_digests["linux/arm64"]
        }


def test_wrong_credentials_name_the_registry(two_registries, tmp_path, test_ca):
    source, _ = two_registries
    push(source, tmp_path / "layout", "1.0")
    client = RegistryClient(
        {source.endpoint: RegistryCredential("alice", "wrong")},
        {source.endpoint: RegistryTransport(ca_bundle=test_ca.certificate_pem)},
    )
    with pytest.raises(RegistryError) as caught:
        client.get_manifest(parse(f"{source.endpoint}/library/app:1.0"))
    assert str(caught.value).startswith(f"{source.endpoint}: authentication failed")
    assert "user 'alice'" in str(caught.value) and "check the password" in str(caught.value)


def test_untrusted_certificate_says_how_to_trust_it(two_registries, tmp_path):
    source, _ = two_registries
    client = RegistryClient({source.endpoint: RegistryCredential("alice", "pw-src")})
    with pytest.raises(RegistryError, match="--ca-file"):
        client.get_manifest(parse(f"{source.endpoint}/library/app:1.0"))


def test_missing_tag_is_a_clear_404(two_registries, test_ca):
    source, _ = two_registries
    with (
        client_for(test_ca, source) as client,
        pytest.raises(RegistryError, match="not found: manifest library/none:1"),
    ):
        client.get_manifest(parse(f"{source.endpoint}/library/none:1"))


def test_manifest_digest_is_verified(two_registries, tmp_path, test_ca):
    source, _ = two_registries
    push(source, tmp_path / "layout", "1.0")
    wrong = "sha256:" + hashlib.sha256(b"other").hexdigest()
    with client_for(test_ca, source) as client, pytest.raises(RegistryError):
        client.get_manifest(parse(f"{source.endpoint}/library/app@{wrong}"))


def test_docker_hub_is_reached_at_its_api_host_with_the_docker_io_login(
    two_registries, tmp_path, test_ca, monkeypatch
):
    """References say docker.io; the API answers at registry-1.docker.io. A real registry stands
    in for the API host; the login and trust stay keyed by docker.io, as auth files key them."""
    import airlock.oci.client as client_module

    source, _ = two_registries
    layout = push(source, tmp_path / "layout", "1.0")
    assert client_module.API_HOSTS == {"docker.io": "registry-1.docker.io"}
    monkeypatch.setattr(client_module, "API_HOSTS", {"docker.io": source.endpoint})
    client = RegistryClient(
        {"docker.io": RegistryCredential(source.username, source.password)},
        {"docker.io": RegistryTransport(ca_bundle=test_ca.certificate_pem)},
    )
    with client:
        manifest = client.get_manifest(parse("docker.io/library/app:1.0"))
    assert manifest.digest == layout.index_digest
