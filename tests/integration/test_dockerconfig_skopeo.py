"""The generated .dockerconfigjson is accepted by a real client against a real registry.

Guards the "pull secret in the wrong format" class of bug: a payload without ``auth`` (skopeo
reads only that), a key with a scheme or the wrong host spelling, or credentials for one host
silently used for another.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from airlock.images.dockerconfig import RegistryCredential, render_dockerconfigjson
from tests.support.oci_layout import build_layout
from tests.support.registry import RunningRegistry

pytestmark = pytest.mark.realserver


def skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=120, check=False)


def push_test_image(registry: RunningRegistry, tmp_path: Path, authfile: Path) -> str:
    layout = build_layout(tmp_path / "layout", tag="v1")
    result = skopeo(
        "copy",
        "--dest-cert-dir",
        str(registry.cert_dir),
        "--dest-authfile",
        str(authfile),
        f"oci:{layout.path}:v1",
        f"docker://{registry.endpoint}/team/app:v1",
    )
    assert result.returncode == 0, result.stderr
    return layout.index_digest


def write_authfile(path: Path, credentials: dict[str, RegistryCredential]) -> Path:
    path.write_text(render_dockerconfigjson(credentials))
    return path


def test_skopeo_pushes_and_inspects_with_the_generated_authfile(tls_auth_registry, tmp_path):
    registry = tls_auth_registry
    authfile = write_authfile(
        tmp_path / "auth.json", {registry.endpoint: RegistryCredential("airlock", "s3cret-pass")}
    )
    digest = push_test_image(registry, tmp_path, authfile)
    result = skopeo(
        "inspect",
        "--raw",
        "--authfile",
        str(authfile),
        "--cert-dir",
        str(registry.cert_dir),
        f"docker://{registry.endpoint}/team/app:v1",
    )
    assert result.returncode == 0, result.stderr
    import hashlib

    assert "sha256:" + hashlib.sha256(result.stdout.encode()).hexdigest() == digest


def test_anonymous_and_wrong_password_are_refused(tls_auth_registry, tmp_path):
    registry = tls_auth_registry
    good = write_authfile(
        tmp_path / "good.json", {registry.endpoint: RegistryCredential("airlock", "s3cret-pass")}
    )
    push_test_image(registry, tmp_path, good)
    target = f"docker://{registry.endpoint}/team/app:v1"
    empty = tmp_path / "empty.json"
    empty.write_text('{"auths": {}}')
    anonymous = skopeo("inspect", "--authfile", str(empty), "--cert-dir", str(registry.cert_dir), target)
    assert anonymous.returncode != 0
    assert "authentication required" in anonymous.stderr or "unauthorized" in anonymous.stderr
    wrong = write_authfile(
        tmp_path / "wrong.json", {registry.endpoint: RegistryCredential("airlock", "nope")}
    )
    refused = skopeo("inspect", "--authfile", str(wrong), "--cert-dir", str(registry.cert_dir), target)
    assert refused.returncode != 0
    assert "unauthorized" in refused.stderr or "authentication required" in refused.stderr


def test_credentials_for_another_host_spelling_do_not_apply(tls_auth_registry, tmp_path):
    """127.0.0.1:PORT and localhost:PORT are different keys to every client."""
    registry = tls_auth_registry
    good = write_authfile(
        tmp_path / "good.json", {registry.endpoint: RegistryCredential("airlock", "s3cret-pass")}
    )
    push_test_image(registry, tmp_path, good)
    other = write_authfile(
        tmp_path / "other.json", {f"localhost:{registry.port}": RegistryCredential("airlock", "s3cret-pass")}
    )
    result = skopeo(
        "inspect",
        "--authfile",
        str(other),
        "--cert-dir",
        str(registry.cert_dir),
        f"docker://{registry.endpoint}/team/app:v1",
    )
    assert result.returncode != 0


def test_one_payload_serves_several_registries(tls_auth_registry, tmp_path, test_ca):
    from tests.support.registry import start_registry

    second = start_registry(tmp_path / "second", ca=test_ca, username="other", password="pw-two")
    try:
        authfile = write_authfile(
            tmp_path / "multi.json",
            {
                tls_auth_registry.endpoint: RegistryCredential("airlock", "s3cret-pass"),
                second.endpoint: RegistryCredential("other", "pw-two"),
                "docker.io": RegistryCredential("hub-user", "hub-token"),
            },
        )
        for registry in (tls_auth_registry, second):
            push_test_image(registry, tmp_path / registry.endpoint.replace(":", "_"), authfile)
            result = skopeo(
                "inspect",
                "--authfile",
                str(authfile),
                "--cert-dir",
                str(registry.cert_dir),
                f"docker://{registry.endpoint}/team/app:v1",
            )
            assert result.returncode == 0, result.stderr
    finally:
        second.stop()


def test_payload_without_auth_field_is_what_breaks_skopeo(tls_auth_registry, tmp_path):
    """Why every entry carries ``auth``: skopeo ignores username/password alone."""
    import json

    registry = tls_auth_registry
    good = write_authfile(
        tmp_path / "good.json", {registry.endpoint: RegistryCredential("airlock", "s3cret-pass")}
    )
    push_test_image(registry, tmp_path, good)
    payload = json.loads(good.read_text())
    for entry in payload["auths"].values():
        del entry["auth"]
    stripped = tmp_path / "stripped.json"
    stripped.write_text(json.dumps(payload))
    result = skopeo(
        "inspect",
        "--authfile",
        str(stripped),
        "--cert-dir",
        str(registry.cert_dir),
        f"docker://{registry.endpoint}/team/app:v1",
    )
    assert result.returncode != 0
