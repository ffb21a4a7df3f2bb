"""The in-cluster registry's rendered configuration, run by the real distribution binary.

The config files come from the staging stack's plan (the ConfigMaps the component declares);
only file paths, listen addresses and — for the cache — the upstream URL are substituted.
Guards a registry that starts but refuses its own clients (TLS names, auth file format), a
cache that cannot reach or serve its upstream, and drift between the config and the pod's
mounts.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import subprocess
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import yaml

from airlock.images.dockerconfig import RegistryCredential, render_dockerconfigjson
from airlock.plan.engine import record_program
from airlock.plan.manifests import kubernetes_objects, unwrap_secrets
from airlock.registry.spec import htpasswd_line
from tests.support.oci_layout import build_layout
from tests.support.pki import make_server_certificate
from tests.support.registry import free_port, start_registry, start_registry_with_config

pytestmark = pytest.mark.realserver
PROJECT_DIR = Path(__file__).resolve().parents[2]
PASSWORD = "generated-in-state-stand-in"


@pytest.fixture(scope="module")
def staging():
    recording = record_program(PROJECT_DIR, "staging")
    objects = kubernetes_objects(recording)
    config_maps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
    deployments = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}
    csr = next(r for r in recording.resources if r.type == "tls:index/certRequest:CertRequest")
    return {
        "config_maps": config_maps,
        "deployments": deployments,
        "dns_names": unwrap_secrets(csr.inputs)["dnsNames"],
    }


def rendered(staging: dict[str, Any], instance: str) -> dict[str, Any]:
    return yaml.safe_load(staging["config_maps"][f"{instance}-config"]["data"]["config.yml"])


def substitute(
    config: dict[str, Any], work: Path, port: int, debug_port: int, tls_files: tuple[Path, Path]
) -> dict[str, Any]:
    """Only paths and listen addresses change; everything else is the component's."""
    local = yaml.safe_load(yaml.safe_dump(config))
    local["http"]["addr"] = f"127.0.0.1:{port}"
    local["http"]["debug"]["addr"] = f"127.0.0.1:{debug_port}"
    local["http"]["tls"] = {"certificate": str(tls_files[0]), "key": str(tls_files[1])}
    local["auth"]["htpasswd"]["path"] = str(work / "htpasswd")
    local["storage"]["filesystem"]["rootdirectory"] = str(work / "storage")
    return local


def start_rendered(staging, instance, work: Path, ca, *, extra_env=None, upstream_url: str | None = None):
    work.mkdir(parents=True, exist_ok=True)
    server = make_server_certificate(ca, dns_names=tuple(staging["dns_names"]), ips=("127.0.0.1",))
    (work / "tls.crt").write_text(server.certificate_pem)
    (work / "tls.key").write_text(server.key_pem)
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=5)).decode()
    (work / "htpasswd").write_text(htpasswd_line("airlock", hashed))
    port, debug_port = free_port(), free_port()
    original = rendered(staging, instance)
    config = substitute(original, work, port, debug_port, (work / "tls.crt", work / "tls.key"))
    if upstream_url is not None:
        config["proxy"]["remoteurl"] = upstream_url
    env = {"REGISTRY_HTTP_SECRET": "test-http-secret", **(extra_env or {})}
    return original, config, start_registry_with_config(work, config, port, ca, "airlock", PASSWORD, env)


def skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=120, check=False)


def authfile(path: Path, endpoint: str) -> Path:
    path.write_text(render_dockerconfigjson({endpoint: RegistryCredential("airlock", PASSWORD)}))
    return path


def test_config_and_pod_agree(staging):
    config = rendered(staging, "registry")
    pod = staging["deployments"]["registry"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    assert container["args"] == ["serve", f"{mounts['config']}/config.yml"]
    assert str(Path(config["http"]["tls"]["certificate"]).parent) == mounts["tls"]
    assert str(Path(config["auth"]["htpasswd"]["path"]).parent) == mounts["auth"]
    assert config["storage"]["filesystem"]["rootdirectory"] == mounts["data"]
    assert config["http"]["addr"] == ":5000" and config["http"]["debug"]["addr"] == ":5001"
    assert container["readinessProbe"]["httpGet"] == {"path": "/debug/health", "port": "debug"}
    assert {e["name"] for e in container["env"]} == {"REGISTRY_HTTP_SECRET"}


def test_hosted_registry_runs_the_rendered_config(staging, tmp_path, test_ca):
    original, config, registry = start_rendered(staging, "registry", tmp_path / "hosted", test_ca)
    try:
        changed = {"http", "auth", "storage"}
        assert {k: v for k, v in config.items() if k not in changed} == {
            k: v for k, v in original.items() if k not in changed
        }
        # TLS verifies with the CA for every name clients use (the certificate carries the
        # component's SANs), and the debug health endpoint the probes use answers.
        context = ssl.create_default_context(cadata=test_ca.certificate_pem)
        for hostname in ("registry.staging.example.com", "docker-io.registry.staging.example.com"):
            with (
                socket.create_connection(("127.0.0.1", registry.port), timeout=5) as raw,
                context.wrap_socket(raw, server_hostname=hostname) as tls_socket,
            ):
                assert tls_socket.version() in ("TLSv1.2", "TLSv1.3")
        import urllib.request

        health = urllib.request.urlopen(f"http://{config['http']['debug']['addr']}/debug/health", timeout=5)
        assert health.status == 200

        layout = build_layout(tmp_path / "layout", tag="v1")
        target = f"docker://{registry.endpoint}/team/app:v1"
        empty = tmp_path / "empty.json"
        empty.write_text('{"auths": {}}')
        anonymous = skopeo(
            "copy",
            "--dest-cert-dir",
            str(registry.cert_dir),
            "--dest-authfile",
            str(empty),
            f"oci:{layout.path}:v1",
            target,
        )
        assert anonymous.returncode != 0 and (
            "authentication required" in anonymous.stderr or "unauthorized" in anonymous.stderr
        )

        auth = authfile(tmp_path / "auth.json", registry.endpoint)
        pushed = skopeo(
            "copy",
            "--dest-cert-dir",
            str(registry.cert_dir),
            "--dest-authfile",
            str(auth),
            f"oci:{layout.path}:v1",
            target,
        )
        assert pushed.returncode == 0, pushed.stderr
        pulled = skopeo(
            "copy",
            "--src-cert-dir",
            str(registry.cert_dir),
            "--src-authfile",
            str(auth),
            target,
            f"oci:{tmp_path / 'out'}:v1",
        )
        assert pulled.returncode == 0, pulled.stderr
        raw = skopeo(
            "inspect", "--raw", "--cert-dir", str(registry.cert_dir), "--authfile", str(auth), target
        )
        assert "sha256:" + hashlib.sha256(raw.stdout.encode()).hexdigest() == layout.index_digest
        anonymous_pull = skopeo(
            "inspect", "--cert-dir", str(registry.cert_dir), "--authfile", str(empty), target
        )
        assert anonymous_pull.returncode != 0
    finally:
        registry.stop()


def test_cache_instance_serves_an_image_that_exists_only_upstream(staging, tmp_path, test_ca):
    upstream = start_registry(tmp_path / "upstream", ca=test_ca)  # TLS, anonymous: like a public registry
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(test_ca.certificate_pem)
    try:
        layout = build_layout(tmp_path / "layout", tag="1.27", platforms=("linux/amd64", "linux/arm64"))
        pushed = skopeo(
            "copy",
            "--all",
            "--dest-cert-dir",
            str(upstream.cert_dir),
            f"oci:{layout.path}:1.27",
            f"docker://{upstream.endpoint}/library/nginx:1.27",
        )
        assert pushed.returncode == 0, pushed.stderr
        original, config, cache = start_rendered(
            staging,
            "registry-cache-docker-io",
            tmp_path / "cache",
            test_ca,
            extra_env={"SSL_CERT_FILE": str(ca_file)},
            upstream_url=f"https://{upstream.endpoint}",
        )
        try:
            assert original["proxy"]["remoteurl"] == "https://registry-1.docker.io"
            assert config["proxy"]["ttl"] == original["proxy"]["ttl"]
            auth = authfile(tmp_path / "auth.json", cache.endpoint)
            # the flatten layout: docker.io/library/nginx is <cache>/library/nginx
            source = f"docker://{cache.endpoint}/library/nginx:1.27"
            raw = skopeo(
                "inspect", "--raw", "--cert-dir", str(cache.cert_dir), "--authfile", str(auth), source
            )
            assert raw.returncode == 0, raw.stderr
            assert "sha256:" + hashlib.sha256(raw.stdout.encode()).hexdigest() == layout.index_digest
            copied = skopeo(
                "copy",
                "--all",
                "--src-cert-dir",
                str(cache.cert_dir),
                "--src-authfile",
                str(auth),
                source,
                f"oci:{tmp_path / 'pulled'}:1.27",
            )
            assert copied.returncode == 0, copied.stderr
            push = skopeo(
                "copy",
                "--dest-cert-dir",
                str(cache.cert_dir),
                "--dest-authfile",
                str(auth),
                f"oci:{layout.path}:1.27",
                f"docker://{cache.endpoint}/library/other:1",
            )
            assert push.returncode != 0  # a pull-through cache is read-only
        finally:
            cache.stop()
    finally:
        upstream.stop()
