"""`airlock images lock / mirror / verify` for a stack, against two real TLS+htpasswd registries.

Guards: a lock that records a child digest instead of the index, a mirror that flattens an
index or re-uploads on every run, verify passing after upstream moved a tag, and `--check`
missing a moved tag in CI.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from airlock.images.dockerconfig import RegistryCredential, render_dockerconfigjson
from airlock.images.lock import Lockfile
from airlock.images.reference import parse
from tests.support.cli import run_cli
from tests.support.registry import start_registry

from .test_oci_copy import push

pytestmark = pytest.mark.realserver
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path, test_ca):
    upstream = start_registry(tmp_path / "upstream", ca=test_ca, username="up", password="pw-up")
    mirror = start_registry(tmp_path / "mirror", ca=test_ca, username="airlock", password="pw-mirror")
    directory = tmp_path / "project"
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    trust = {"caBundle": test_ca.certificate_pem}
    (directory / "Pulumi.test.yaml").write_text(
        yaml.safe_dump(
            {
                "config": {
                    "airlock:environment": "test",
                    "airlock:namespaces": {"apps": {}},
                    "airlock:images": {
                        "registry": {"to": f"{mirror.endpoint}/platform", "layout": "nest"},
                        "pin": "preferred",
                        "registries": {upstream.endpoint: trust, mirror.endpoint: trust},
                    },
                    "airlock:workloadImages": {
                        "apps/web": {"image": f"{upstream.endpoint}/library/web:1.0", "namespace": "apps"},
                        "apps/worker": {"image": f"{upstream.endpoint}/team/worker:2.1", "namespace": "apps"},
                    },
                }
            }
        )
    )
    authfile = tmp_path / "auth.json"
    authfile.write_text(
        render_dockerconfigjson(
            {
                upstream.endpoint: RegistryCredential("up", "pw-up"),
                mirror.endpoint: RegistryCredential("airlock", "pw-mirror"),
            }
        )
    )
    yield directory, upstream, mirror, authfile
    upstream.stop()
    mirror.stop()


def run(*args: str):
    return run_cli(*args)


def test_lock_mirror_verify_and_a_moved_tag(project, tmp_path):
    directory, upstream, mirror, authfile = project
    web = push(upstream, tmp_path / "web", "1.0", "library/web", size=128 * 1024)
    worker = push(upstream, tmp_path / "worker", "2.1", "team/worker", platforms=("linux/amd64",))
    common = ["--stack", "test", "--project-dir", str(directory), "--authfile", str(authfile)]

    locked = run("images", "lock", *common)
    assert locked.exit_code == 0, locked.output
    lock = Lockfile.load(directory / "images.lock")
    web_entry = lock.get(f"{upstream.endpoint}/library/web:1.0")
    assert web_entry.digest == web.index_digest  # the index, not a child
    assert dict(web_entry.platforms) == web.platform_digests
    assert lock.get(f"{upstream.endpoint}/team/worker:2.1").digest == worker.index_digest
    assert run("images", "lock", *common, "--check").exit_code == 0

    mirrored = run("images", "mirror", *common, "--format", "json")
    assert mirrored.exit_code == 0, mirrored.output
    reports = {r["destination"]: r for r in json.loads(mirrored.output)}
    nested = upstream.endpoint.replace(":", "_")  # the nest layout's spelling of host:port
    web_dst = f"{mirror.endpoint}/platform/{nested}/library/web:1.0"
    assert reports[web_dst]["digest"] == web.index_digest
    assert reports[web_dst]["bytes_uploaded"] == web.blob_bytes
    assert sorted(reports[web_dst]["platforms"]) == ["linux/amd64", "linux/arm64"]

    again = json.loads(run("images", "mirror", *common, "--format", "json").output)
    assert sum(r["bytes_uploaded"] for r in again) == 0 and all(r["present"] for r in again)
    text = run("images", "mirror", *common, "--force")
    assert text.exit_code == 0, text.output
    assert "2 images (0 already present), 0 bytes uploaded" in text.output
    assert f"{web.blob_bytes + worker.blob_bytes} bytes of blobs skipped" in text.output

    verified = run("images", "verify", *common)
    assert verified.exit_code == 0, verified.output
    assert "2 images checked, 0 problem(s)" in verified.output

    moved = push(upstream, tmp_path / "web2", "1.0", "library/web", size=64 * 1024)
    check = run("images", "lock", *common, "--check")
    assert check.exit_code == 1
    assert f"library/web:1.0: tag moved {web.index_digest} -> {moved.index_digest}" in check.output
    assert (
        Lockfile.load(directory / "images.lock").get(f"{upstream.endpoint}/library/web:1.0").digest
        == web.index_digest
    )
    failed = run("images", "verify", *common)
    assert failed.exit_code == 1
    assert f"tag moved upstream: {web.index_digest} -> {moved.index_digest}" in failed.output


def test_list_shows_source_and_final(project):
    directory, upstream, mirror, _ = project
    listed = run("images", "list", "--stack", "test", "--project-dir", str(directory), "--format", "json")
    assert listed.exit_code == 0, listed.output
    rows = {row["role"]: row for row in json.loads(listed.stdout)}
    assert rows["web"]["source"] == f"{upstream.endpoint}/library/web:1.0"
    nested = upstream.endpoint.replace(":", "_")
    assert rows["web"]["final"] == f"{mirror.endpoint}/platform/{nested}/library/web:1.0"


def test_copy_command_and_wrong_credentials(project, tmp_path):
    _directory, upstream, mirror, authfile = project
    push(upstream, tmp_path / "img", "3.0", "library/tool", platforms=("linux/amd64",))
    ca = tmp_path / "ca.pem"
    ca.write_text(upstream.ca.certificate_pem)
    src, dst = f"{upstream.endpoint}/library/tool:3.0", f"{mirror.endpoint}/tools/tool:3.0"
    ca_args = ["--ca-file", f"{upstream.endpoint}={ca}", "--ca-file", f"{mirror.endpoint}={ca}"]
    copied = run("images", "copy", src, dst, "--authfile", str(authfile), *ca_args, "--format", "json")
    assert copied.exit_code == 0, copied.output
    assert json.loads(copied.output)["copied"] == 2
    recopied = run("images", "copy", src, dst, "--authfile", str(authfile), *ca_args)
    assert recopied.exit_code == 0 and "already present, nothing copied" in recopied.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(render_dockerconfigjson({upstream.endpoint: RegistryCredential("up", "nope")}))
    refused = run("images", "copy", src, dst, "--authfile", str(bad), *ca_args)
    assert refused.exit_code == 1
    assert f"{upstream.endpoint}: authentication failed" in refused.output
    assert "nope" not in refused.output


def test_verify_report_feeds_the_plan_with_images_not_mirrored_yet(project, tmp_path):
    from airlock.plan.engine import record_program

    directory, upstream, _mirror, authfile = project
    push(upstream, tmp_path / "web", "1.0", "library/web")
    push(upstream, tmp_path / "worker", "2.1", "team/worker", platforms=("linux/amd64",))
    (directory / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    common = ["--stack", "test", "--project-dir", str(directory), "--authfile", str(authfile)]
    assert run("images", "lock", *common).exit_code == 0
    report = directory / "verify.json"
    before = run("images", "verify", *common, "--report", str(report))
    assert before.exit_code == 1
    data = json.loads(report.read_text())
    assert data["stack"] == "test" and len(data["not_mirrored"]) == 2

    stack_file = directory / "Pulumi.test.yaml"
    config = yaml.safe_load(stack_file.read_text())
    config["config"]["airlock:verifyReport"] = "verify.json"
    stack_file.write_text(yaml.safe_dump(config))
    recording = record_program(directory, "test")
    assert recording.outputs["unmirroredImages"] == ["apps/web", "apps/worker"]
    assert any("apps/web:" in w and "is not in its registry yet" in w for w in recording.warnings)

    assert run("images", "mirror", *common).exit_code == 0
    assert run("images", "verify", *common, "--report", str(report)).exit_code == 0
    assert record_program(directory, "test").outputs["unmirroredImages"] == []


def test_stack_login_supplies_the_mirror_login(project, tmp_path, monkeypatch):
    """`--stack-login` reads the stack's registry login through the Pulumi CLI (a stand-in
    script here: the CLI is not installable on this machine) and merges it with the auth file."""
    import os
    import stat

    directory, upstream, mirror, _ = project
    push(upstream, tmp_path / "web", "1.0", "library/web", platforms=("linux/amd64",))
    push(upstream, tmp_path / "worker", "2.1", "team/worker", platforms=("linux/amd64",))
    upstream_only = tmp_path / "upstream.json"
    upstream_only.write_text(render_dockerconfigjson({upstream.endpoint: RegistryCredential("up", "pw-up")}))
    common = ["--stack", "test", "--project-dir", str(directory), "--authfile", str(upstream_only)]

    assert run("images", "lock", *common).exit_code == 0  # the upstream login is enough to lock
    refused = run("images", "mirror", *common)
    assert refused.exit_code == 1 and f"{mirror.endpoint}: authentication failed" in refused.output

    payload = tmp_path / "payload.json"
    payload.write_text(
        json.dumps(render_dockerconfigjson({mirror.endpoint: RegistryCredential("airlock", "pw-mirror")}))
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(f"#!/bin/sh\ncat {payload}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    mirrored = run("images", "mirror", *common, "--stack-login", "--format", "json")
    assert mirrored.exit_code == 0, mirrored.output
    assert len(json.loads(mirrored.stdout)) == 2
    assert "pw-mirror" not in mirrored.output
    assert run("images", "verify", *common, "--stack-login", "--no-upstream").exit_code == 0


def test_mirror_refuses_what_the_plan_could_not_pull(project, tmp_path):
    """Two ways a mirror would leave pods pulling digests the mirror lacks: offline placeholder
    digests in the lock, and `--platform` (a reduced index has its own digest) on a stack that
    pulls by digest. Both are refused before anything is copied; with `pin: off` the reduced
    index is what the plan pulls, by tag."""
    directory, upstream, mirror, authfile = project
    web = push(upstream, tmp_path / "web", "1.0", "library/web")
    push(upstream, tmp_path / "worker", "2.1", "team/worker", platforms=("linux/amd64",))
    common = ["--stack", "test", "--project-dir", str(directory), "--authfile", str(authfile)]
    nested = upstream.endpoint.replace(":", "_")
    web_dst = parse(f"{mirror.endpoint}/platform/{nested}/library/web:1.0")

    assert run("images", "placeholders", "--stack", "test", "--project-dir", str(directory)).exit_code == 0
    refused = run("images", "mirror", *common)
    assert refused.exit_code == 2
    assert (
        "offline placeholder digests" in refused.stderr
        and f"{upstream.endpoint}/library/web:1.0" in refused.stderr
    )
    assert "airlock images lock" in refused.stderr

    (directory / "images.lock").unlink()
    assert run("images", "lock", *common).exit_code == 0
    reduced = run("images", "mirror", *common, "--platform", "linux/arm64")
    assert reduced.exit_code == 2
    assert "pulls apps/web, apps/worker by digest" in reduced.stderr and "images.pin: off" in reduced.stderr
    with client_for_mirror(mirror) as client:
        assert client.head_manifest(web_dst, "1.0") is None  # nothing was copied

    stack_file = directory / "Pulumi.test.yaml"
    config = yaml.safe_load(stack_file.read_text())
    config["config"]["airlock:images"]["pin"] = "off"
    stack_file.write_text(yaml.safe_dump(config))
    by_tag = run("images", "mirror", *common, "--platform", "linux/arm64", "--format", "json")
    assert by_tag.exit_code == 0, by_tag.output
    copied = {r["destination"]: r for r in json.loads(by_tag.stdout)}
    assert copied[str(web_dst)]["platforms"] == ["linux/arm64"]
    assert copied[str(web_dst)]["digest"] != web.index_digest
    listed = json.loads(run("images", "list", *common[:4], "--format", "json").stdout)
    assert {row["final"] for row in listed} >= {str(web_dst)}  # pulled by tag: the reduced index


def client_for_mirror(mirror):
    from airlock.oci.client import RegistryClient, RegistryTransport

    return RegistryClient(
        {mirror.endpoint: RegistryCredential("airlock", "pw-mirror")},
        {mirror.endpoint: RegistryTransport(ca_bundle=mirror.ca.certificate_pem)},
    )
