"""Where logins and trust come from: auth files (named, variable, podman/docker defaults), the
stack's registry via the Pulumi CLI, and CA files."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from airlock.images.dockerconfig import RegistryCredential, render_dockerconfigjson
from airlock.oci.access import (
    AccessError,
    auth_files,
    load_credentials,
    stack_registry_login,
    transports_for,
)


def write_auth(path: Path, logins: dict[str, tuple[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_dockerconfigjson({h: RegistryCredential(u, p) for h, (u, p) in logins.items()}))
    return path


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    return tmp_path


def test_named_files_in_order_later_wins(clean_env):
    first = write_auth(clean_env / "a.json", {"r.io": ("a", "1"), "s.io": ("s", "1")})
    second = write_auth(clean_env / "b.json", {"r.io": ("b", "2")})
    assert load_credentials([str(first), str(second)]) == {
        "r.io": RegistryCredential("b", "2"),
        "s.io": RegistryCredential("s", "1"),
    }


def test_the_variable_then_the_podman_and_docker_files(clean_env, monkeypatch):
    assert auth_files(None) == ([], False)
    docker = write_auth(clean_env / "home/.docker/config.json", {"r.io": ("docker", "d"), "d.io": ("d", "d")})
    podman = write_auth(clean_env / "run/containers/auth.json", {"r.io": ("podman", "p")})
    assert auth_files(None) == ([podman, docker], False)
    # the first default file that has a registry wins, as in containers-auth.json(5)
    assert load_credentials(None) == {
        "r.io": RegistryCredential("podman", "p"),
        "d.io": RegistryCredential("d", "d"),
    }
    variable = write_auth(clean_env / "v.json", {"v.io": ("v", "v")})
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(variable))
    assert load_credentials(None) == {"v.io": RegistryCredential("v", "v")}
    assert load_credentials([str(docker)])["r.io"] == RegistryCredential("docker", "d")


def test_the_stack_login_is_overridden_by_an_auth_file(clean_env):
    named = write_auth(clean_env / "a.json", {"r.io": ("file", "f")})
    base = {"r.io": RegistryCredential("stack", "s"), "m.io": RegistryCredential("stack", "m")}
    assert load_credentials([str(named)], base=base) == {
        "r.io": RegistryCredential("file", "f"),
        "m.io": RegistryCredential("stack", "m"),
    }


def test_unreadable_and_malformed_files_name_the_file_and_the_fix(clean_env):
    with pytest.raises(AccessError, match=r"auth file .*missing.json: cannot read it .*--authfile"):
        load_credentials([str(clean_env / "missing.json")])
    bad = clean_env / "bad.json"
    bad.write_text('{"auths": {"r.io": {"auth": "!!"}}}')
    with pytest.raises(AccessError) as caught:
        load_credentials([str(bad)])
    assert str(bad) in str(caught.value) and "is not base64" in str(caught.value)
    assert "podman login r.io" in str(caught.value)


def test_ca_files_that_cannot_be_read_are_named(tmp_path):
    with pytest.raises(AccessError, match=r"--ca-file r.io=.*nope.pem: cannot read it"):
        transports_for(None, {"r.io": str(tmp_path / "nope.pem")}, [])


def fake_pulumi(directory: Path, script: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "pulumi"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_stack_login_runs_pulumi_stack_output_in_the_project(tmp_path, monkeypatch):
    payload = render_dockerconfigjson(
        {"registry.staging.example.com": RegistryCredential("airlock", "s3cret")}
    )
    record, output = tmp_path / "called", tmp_path / "output.json"
    output.write_text(json.dumps(payload))  # --json prints a string output as a JSON string
    fake_pulumi(tmp_path / "bin", f'pwd > {record}\necho "$@" >> {record}\ncat {output}\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    project = tmp_path / "project"
    project.mkdir()
    login = stack_registry_login(project, "staging")
    assert login == {"registry.staging.example.com": RegistryCredential("airlock", "s3cret")}
    cwd, arguments = record.read_text().splitlines()
    assert Path(cwd) == project
    assert arguments == "stack output registryPullSecretPayload --show-secrets --json --stack staging"


def test_stack_login_failures_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(AccessError, match="needs the Pulumi CLI on PATH.*--authfile"):
        stack_registry_login(tmp_path, "dev")
    fake_pulumi(
        tmp_path / "bin",
        'echo "error: current stack has no output named registryPullSecretPayload" >&2\nexit 255\n',
    )
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(AccessError) as caught:
        stack_registry_login(tmp_path, "prod")
    message = str(caught.value)
    assert (
        "no output named registryPullSecretPayload" in message
        and "registry.mode in-cluster or docker" in message
    )
