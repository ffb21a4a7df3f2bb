"""The in-cluster mirror's generated skopeo sync shards, run by the real skopeo.

The plan's image list (``supply.plan_mirror`` of a resolved table) is sharded by
``airlock.oci.sync.plan_shards`` exactly as ImageSync writes it into its ConfigMap; each
shard's script and sync configurations run here with only paths (config dir, cert dir),
registry addresses (docker.io, ghcr.io and registry.example.com stand on 127.0.0.1) and the
authfile substituted. Every image must land at the plan's final reference with the source's
index digest, for the nest, flatten and replace layouts and an override that renames an image.
"""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from airlock.images.dockerconfig import RegistryCredential, render_dockerconfigjson
from airlock.images.lock import LOCK_VERSION, Lockfile
from airlock.images.policy import ImagePolicy
from airlock.images.reference import parse
from airlock.images.table import ImageRequest, build_table
from airlock.oci.supply import plan_mirror
from airlock.oci.sync import plan_shards, trust_of
from tests.integration.test_oci_copy import client_for
from tests.support.oci_layout import Layout, build_layout
from tests.support.registry import start_registry

pytestmark = pytest.mark.realserver

CERT_ROOT = "/etc/airlock/certs"
CONFIG_DIR = "/etc/airlock/sync"
AUTHFILE = "/var/run/airlock/auth/.dockerconfigjson"
SOURCES = {
    "apps/app": ("docker.io/library/app:1.0", ("linux/amd64", "linux/arm64")),
    "apps/base": ("docker.io/library/base:2", ("linux/amd64", "linux/arm64")),
    "apps/tool": ("ghcr.io/org/tool:3.1", ("linux/amd64",)),
    "apps/other": ("ghcr.io/org/other:0.9", ("linux/amd64", "linux/arm64")),
}
PINNED = ("apps/app", "apps/tool")
LAYOUTS = {
    "nest": {"registry": {"to": "registry.example.com/mirror", "layout": "nest"}},
    "flatten": {"registry": {"to": "registry.example.com/mirror", "layout": "flatten"}},
    "replace": {
        "mirrors": [
            {"source": "ghcr.io/org", "to": "registry.example.com/tools", "layout": "replace"},
            {"source": "docker.io", "to": "registry.example.com/hub", "layout": "flatten"},
        ]
    },
    "renamed": {
        "registry": {"to": "registry.example.com/mirror", "layout": "nest"},
        "overrides": {"apps/tool": {"repository": "tools/renamed"}},
    },
}


@pytest.fixture(scope="module")
def upstream(tmp_path_factory, test_ca_module):
    """One registry standing in for docker.io and ghcr.io, holding every source image."""
    work = tmp_path_factory.mktemp("upstream")
    registry = start_registry(work / "reg", ca=test_ca_module, username="up", password="pw-up")
    layouts: dict[str, Layout] = {}
    try:
        for name, (source, platforms) in SOURCES.items():
            ref = parse(source)
            layout = build_layout(
                work / name.replace("/", "-"), tag=str(ref.tag), platforms=platforms, layer_size=32 * 1024
            )
            subprocess.run(
                [
                    "skopeo",
                    "copy",
                    "--all",
                    "--dest-cert-dir",
                    str(registry.cert_dir),
                    "--dest-creds",
                    "up:pw-up",
                    f"oci:{layout.path}:{ref.tag}",
                    f"docker://{registry.endpoint}/{ref.path}:{ref.tag}",
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
            layouts[name] = layout
        yield registry, layouts
    finally:
        registry.stop()


@pytest.fixture(scope="module")
def test_ca_module():
    from tests.support.pki import make_ca

    return make_ca()


def _plan(layout: str, ca_pem: str, layouts: dict[str, Layout]):
    trust = {host: {"caBundle": ca_pem} for host in ("docker.io", "ghcr.io", "registry.example.com")}
    policy = ImagePolicy.model_validate({"pin": "preferred", "registries": trust, **LAYOUTS[layout]})
    lock = Lockfile.from_data(
        {
            "version": LOCK_VERSION,
            "images": {
                str(parse(SOURCES[name][0])): {"digest": layouts[name].index_digest} for name in PINNED
            },
        }
    )
    requests = [ImageRequest(name, source, "apps") for name, (source, _) in SOURCES.items()]
    table = build_table(requests, policy, lock)
    pairs = plan_mirror(table.entries, lock, pin=policy.pin)
    finals = {entry.request.name: entry.resolved.final for entry in table.entries}
    return policy, pairs, finals


def _at(text: str, hosts: dict[str, str]) -> str:
    """Registry addresses substituted where a reference or a registry key starts."""
    for host, address in hosts.items():
        text = re.sub(
            rf"(?:(?<=\s)|(?<=docker://)|^){re.escape(host)}(?=[/\s:]|$)", address, text, flags=re.M
        )
    return text


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_shard_lands_each_image_at_its_final_reference(layout, upstream, test_ca_module, tmp_path):
    registry, layouts = upstream
    destination = start_registry(tmp_path / "dst", ca=test_ca_module, username="dst", password="pw-dst")
    try:
        policy, pairs, finals = _plan(layout, test_ca_module.certificate_pem, layouts)
        hosts = {
            "docker.io": registry.endpoint,
            "ghcr.io": registry.endpoint,
            "registry.example.com": destination.endpoint,
        }
        shards = plan_shards(pairs, shards=2, trust=trust_of(policy.registries, hosts), cert_root=CERT_ROOT)
        assert [shard.images for shard in shards] == [2, 2]
        # the pod's files, where the pod mounts them
        config_dir, cert_root = tmp_path / "sync", tmp_path / "certs"
        config_dir.mkdir()
        for host in hosts:
            (cert_root / host).mkdir(parents=True)
            (cert_root / host / "ca.crt").write_text(test_ca_module.certificate_pem)
        authfile = tmp_path / "auth.json"
        authfile.write_text(
            render_dockerconfigjson(
                {
                    registry.endpoint: RegistryCredential("up", "pw-up"),
                    destination.endpoint: RegistryCredential("dst", "pw-dst"),
                }
            )
        )
        for shard in shards:
            for name, document in shard.files().items():
                text = yaml.safe_dump(document)
                text = text.replace(CERT_ROOT, str(cert_root))
                (config_dir / name).write_text(_at(text, hosts))
            script = shard.script(
                config_dir=CONFIG_DIR,
                cert_root=CERT_ROOT,
                authfile=AUTHFILE,
                trust=trust_of(policy.registries, hosts),
            )
            script = (
                script.replace(CONFIG_DIR, str(config_dir))
                .replace(CERT_ROOT, str(cert_root))
                .replace(AUTHFILE, str(authfile))
            )
            result = subprocess.run(
                ["sh", "-c", _at(script, hosts)],
                capture_output=True,
                text=True,
                timeout=300,
                env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
            )
            assert result.returncode == 0, result.stderr[-3000:]
        with client_for(test_ca_module, registry, destination) as client:
            for name, final in finals.items():
                landed = parse(_at(str(final), hosts))
                digest = layouts[name].index_digest
                # pulled by digest when pinned, by tag otherwise; the tag is there either way
                # (airlock images verify reads it), pointing at the source's index digest
                assert client.head_manifest(landed, str(landed.tag)) == digest, (layout, name, str(final))
                if landed.digest:
                    assert landed.digest == digest
                    assert client.get_manifest(landed, landed.digest).digest == digest
        synced = [image for shard in shards for group in shard.groups for image in group.images]
        copied = [copy for shard in shards for copy in shard.copies]
        assert len(synced) == 2 and len(copied) == 2  # the pinned two are copied to their tags
    finally:
        destination.stop()
