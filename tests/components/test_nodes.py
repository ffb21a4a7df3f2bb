"""The nodes in every stack: staging's NodeRegistryConfig DaemonSet (the hosts.toml tree of its
caches and the registry's CA on every node), its own image pulled from where no trust is needed,
the component on its own, and ``airlock nodes render`` for every runtime.

Guards: nodes that do not trust the in-cluster registry's generated CA (every pull from it
fails), a DaemonSet whose image is in the registry it must first make trusted, a DaemonSet
that skips tainted nodes, a tree that changes without the pods noticing, and a render that
leaves a half-written directory or overwrites one by surprise.
"""

from __future__ import annotations

import json
import tomllib
from typing import Any

import kubernetes_validate
import pytest
import yaml

from airlock.plan.engine import PlanError, Recording, record_program
from airlock.plan.manifests import kubernetes_objects
from tests.support.cli import run_cli
from tests.support.pki import make_ca

from .conftest import PROJECT_DIR, run_stack, stack_values

TYPE = "airlock:index:NodeRegistryConfig"
CACHES = ("docker.io", "ghcr.io", "registry.k8s.io", "xpkg.crossplane.io")


def node_objects(recording: Recording) -> dict[str, dict[str, Any]]:
    return {
        o["kind"]: o
        for o in kubernetes_objects(recording)
        if o["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "node-registry"
    }


def files_of(objects: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The tree as the DaemonSet's projected volume lays it out (ConfigMap and Secret items)."""
    (volume,) = [v for v in objects["DaemonSet"]["spec"]["template"]["spec"]["volumes"] if "projected" in v]
    files = {}
    for source in volume["projected"]["sources"]:
        kind, data = ("ConfigMap", "data") if "configMap" in source else ("Secret", "stringData")
        for item in source["configMap" if kind == "ConfigMap" else "secret"]["items"]:
            files[item["path"]] = objects[kind][data][item["key"]]
    return files


def test_only_staging_runs_the_daemonset(recordings):
    # the Secret holds the hosts.toml files that carry the registry's login
    assert set(node_objects(recordings["staging"])) == {"ConfigMap", "DaemonSet", "Secret"}
    assert node_objects(recordings["dev"]) == {} and node_objects(recordings["prod"]) == {}


def test_staging_nodes_pull_every_cached_upstream_through_its_cache_with_the_registrys_ca(recordings):
    objects = node_objects(recordings["staging"])
    files = files_of(objects)
    for upstream in CACHES:
        document = tomllib.loads(files[f"{upstream}/hosts.toml"])
        cache = f"{upstream.replace('.', '-')}.registry.staging.example.com"
        assert "server" not in document  # fallback: the upstream after the cache
        assert document["host"][f"https://{cache}"]["ca"] == f"../{cache}/ca.crt"
        assert document["host"][f"https://{cache}"]["header"]["Authorization"].startswith("Basic ")
        assert files[f"{cache}/ca.crt"] == "[computed at deploy: airlock-registry-ca.certPem]"
    hosted = tomllib.loads(files["registry.staging.example.com/hosts.toml"])
    assert hosted["server"] == "https://registry.staging.example.com" and hosted["ca"] == "ca.crt"
    listed = files.pop("airlock-files").splitlines()
    assert sorted(listed) == sorted(files)
    assert max(i for i, p in enumerate(listed) if p.endswith("ca.crt")) < min(
        i for i, p in enumerate(listed) if p.endswith("hosts.toml")
    )


def test_the_daemonset_reaches_every_node_and_writes_only_the_certs_directory(recordings):
    daemon_set = node_objects(recordings["staging"])["DaemonSet"]
    pod = daemon_set["spec"]["template"]["spec"]
    assert pod["tolerations"] == [{"operator": "Exists"}]
    assert pod["priorityClassName"] == "system-node-critical"
    assert pod["automountServiceAccountToken"] is False
    (container,) = pod["containers"]
    assert container["securityContext"] == {
        "privileged": True,
        "runAsUser": 0,
        "readOnlyRootFilesystem": True,
    }
    assert container["resources"] == {
        "requests": {"cpu": "10m", "memory": "16Mi"},
        "limits": {"memory": "32Mi"},
    }
    (host_path,) = [v["hostPath"] for v in pod["volumes"] if "hostPath" in v]
    assert host_path == {"path": "/etc/containerd/certs.d", "type": "DirectoryOrCreate"}
    assert daemon_set["spec"]["template"]["metadata"]["annotations"]["airlock/node-registry-sha256"]


def test_its_own_image_comes_from_docker_hub_not_the_cache_it_makes_trusted(recordings):
    (container,) = node_objects(recordings["staging"])["DaemonSet"]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "docker.io/library/busybox:1.37.0"
    (component,) = recordings["staging"].of_type(TYPE)
    assert component.outputs["image"] == "docker.io/library/busybox:1.37.0"
    exported = recordings["staging"].outputs["nodes"]
    assert exported["image"] == "docker.io/library/busybox:1.37.0"
    assert exported["upstreams"] == list(CACHES)
    assert exported["upstream"] == "fallback"


def test_a_changed_tree_changes_the_pod_template():
    values, secrets = stack_values("staging")
    values["airlock:nodes"]["exclude"] = ["ghcr.io"]
    changed = node_objects(run_stack("staging", values, secrets))["DaemonSet"]
    original = node_objects(run_stack("staging"))["DaemonSet"]
    key = "airlock/node-registry-sha256"
    assert (
        changed["spec"]["template"]["metadata"]["annotations"][key]
        != original["spec"]["template"]["metadata"]["annotations"][key]
    )


# -- on its own ----------------------------------------------------------------------------------------
STANDALONE = """
import pulumi
from airlock.image_config import ImageConfig, ImageConfigArgs
from airlock.images.policy import ImagePolicy, MirrorRule, RegistryTrust
from airlock.nodes import NodeRegistryConfig, NodeRegistryConfigArgs, NodesSettings, image_requests, node_plan

CA = open("ca.pem").read()
policy = ImagePolicy(
    mirrors=(MirrorRule(source="docker.io", to="mirror.corp:5443/hub", layout="replace"),),
    registries={"mirror.corp:5443": RegistryTrust(ca_bundle=CA)},
    pin="off",
)
settings = NodesSettings.model_validate({"daemonSet": {"enabled": True, "namespace": "kube-system"}})
plan = node_plan(policy, settings)
requests = image_requests(settings.daemon_set, plan.hosts_to_trust)
images = ImageConfig("images", ImageConfigArgs(policy=policy, requests=requests))
nodes = NodeRegistryConfig(
    "nodes", NodeRegistryConfigArgs(settings=settings, plan=plan, image_config=images, cas=CAS)
)
pulumi.export("files", nodes.files)
pulumi.export("image", nodes.image)
"""


def _standalone(tmp_path, cas: str) -> Recording:
    (tmp_path / "Pulumi.yaml").write_text("name: nodes\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "ca.pem").write_text(make_ca().certificate_pem)
    (tmp_path / "__main__.py").write_text(STANDALONE.replace("CAS", cas))
    return record_program(tmp_path, "dev")


def test_node_registry_config_on_its_own(tmp_path):
    recording = _standalone(tmp_path, '{"mirror.corp:5443": CA}')
    assert recording.outputs["files"] == [
        "mirror.corp:5443/ca.crt",
        "docker.io/hosts.toml",
        "mirror.corp:5443/hosts.toml",
    ]
    # busybox is a docker.io image: the rule sending docker.io to the mirror it configures is
    # skipped for it
    assert recording.outputs["image"] == "docker.io/library/busybox:1.37.0"
    objects = node_objects(recording)
    files = files_of(objects)
    assert files["mirror.corp:5443/ca.crt"] == (tmp_path / "ca.pem").read_text()
    document = tomllib.loads(files["docker.io/hosts.toml"])
    assert document["server"] == "https://mirror.corp:5443/v2/hub" and document["override_path"] is True


def test_on_its_own_a_missing_ca_registers_nothing(tmp_path):
    with pytest.raises(PlanError, match=r"nodes: no CA given for mirror.corp:5443") as caught:
        _standalone(tmp_path, "{}")
    assert not [r for r in caught.value.recording.resources if r.type == TYPE]


# -- airlock nodes render ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("runtime", "expected"),
    [
        ("containerd", ["certs.d/localhost:5001/hosts.toml", "containerd-config.toml"]),
        ("containerd1", ["certs.d/localhost:5001/hosts.toml", "containerd-config.toml"]),
        ("cri-o", ["registries.conf"]),
        ("kind", ["certs.d/localhost:5001/hosts.toml", "kind-config.yaml", "local-registry-hosting.yaml"]),
    ],
)
def test_render_writes_and_lists_each_runtimes_files(tmp_path, runtime, expected):
    out = tmp_path / "nested" / "out"
    result = run_cli(
        "nodes", "render", "--stack", "dev", "--runtime", runtime, "--out", str(out), "--format", "json"
    )
    assert result.exit_code == 0, result.output
    listing = json.loads(result.stdout)
    assert [row["path"] for row in listing["files"]] == expected
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert on_disk == sorted([*expected, ".airlock-nodes"])  # the marker lists what it wrote
    assert not list(tmp_path.rglob("*.airlock-tmp"))


def test_kind_render_is_the_dev_cluster():
    out = PROJECT_DIR / ".pytest-kind-render"
    try:
        result = run_cli("nodes", "render", "--stack", "dev", "--runtime", "kind", "--out", str(out))
        assert result.exit_code == 0, result.output
        config = yaml.safe_load((out / "kind-config.yaml").read_text())
        assert config["name"] == "airlock-dev"
        assert config["nodes"][0]["extraMounts"][0]["hostPath"] == str(out / "certs.d")
        hosts = tomllib.loads((out / "certs.d" / "localhost:5001" / "hosts.toml").read_text())
        assert hosts["server"] == "http://kind-registry:5000"  # the registry container on the kind network
        hosting = yaml.safe_load((out / "local-registry-hosting.yaml").read_text())
        kubernetes_validate.validate(hosting, "1.34", strict=True)
        assert yaml.safe_load(hosting["data"]["localRegistryHosting.v1"])["host"] == "localhost:5001"
        assert result.stdout.splitlines() == [
            str(out / p)
            for p in ("certs.d/localhost:5001/hosts.toml", "kind-config.yaml", "local-registry-hosting.yaml")
        ]
    finally:
        import shutil

        shutil.rmtree(out, ignore_errors=True)


def test_render_refuses_a_non_empty_directory_unless_forced(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    refused = run_cli("nodes", "render", "--stack", "dev", "--runtime", "containerd", "--out", str(out))
    assert refused.exit_code == 2
    assert "the directory exists and is not empty; pass --force" in refused.stderr
    assert (out / "mine.txt").read_text() == "keep"
    forced = run_cli(
        "nodes", "render", "--stack", "dev", "--runtime", "containerd", "--out", str(out), "--force"
    )
    assert forced.exit_code == 0, forced.output
    # files airlock did not write are never removed; its own are replaced in place
    assert (out / "mine.txt").read_text() == "keep" and (out / "containerd-config.toml").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name != "out"]
    assert not list(out.rglob("*.airlock-tmp"))


def test_a_re_render_keeps_the_directories_and_removes_only_files_it_no_longer_writes(tmp_path):
    out = tmp_path / "out"
    assert run_cli("nodes", "render", "--stack", "dev", "--runtime", "kind", "--out", str(out)).exit_code == 0
    certs = out / "certs.d"
    inode = certs.stat().st_ino  # kind's nodes bind-mount this directory: it must stay the same
    again = run_cli(
        "nodes", "render", "--stack", "dev", "--runtime", "containerd", "--out", str(out), "--force"
    )
    assert again.exit_code == 0, again.output
    assert certs.stat().st_ino == inode
    assert not (out / "kind-config.yaml").exists() and not (out / "local-registry-hosting.yaml").exists()
    assert (out / "containerd-config.toml").is_file() and (certs / "localhost:5001" / "hosts.toml").is_file()


@pytest.mark.parametrize("where", ["project", "parent-of-project", "root"])
def test_render_refuses_a_directory_that_holds_the_project(where):
    out = {"project": PROJECT_DIR, "parent-of-project": PROJECT_DIR.parent, "root": PROJECT_DIR.anchor}[where]
    result = run_cli(
        "nodes", "render", "--stack", "dev", "--runtime", "containerd", "--out", str(out), "--force"
    )
    assert result.exit_code == 2
    assert "render into a directory of its own" in result.stderr
    assert not (PROJECT_DIR / "containerd-config.toml").exists()


def test_render_refuses_an_unknown_runtime(tmp_path):
    result = run_cli("nodes", "render", "--stack", "dev", "--runtime", "docker", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "invalid choice: 'docker'" in result.stderr and "containerd1" in result.stderr
    assert not (tmp_path / "o").exists()


def test_render_of_staging_needs_the_generated_ca_and_checks_it_is_pem(tmp_path):
    missing = run_cli(
        "nodes", "render", "--stack", "staging", "--runtime", "containerd", "--out", str(tmp_path / "a")
    )
    assert missing.exit_code == 2
    assert "--registry-ca: is needed: the in-cluster registry's CA is generated at deploy" in missing.stderr
    assert "pulumi stack output registry --stack staging --json | jq -r .caBundle" in missing.stderr
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    not_pem = run_cli(
        "nodes",
        "render",
        "--stack",
        "staging",
        "--runtime",
        "containerd",
        "--out",
        str(tmp_path / "b"),
        "--registry-ca",
        str(bad),
    )
    assert not_pem.exit_code == 2 and "is not a PEM certificate bundle" in not_pem.stderr
    good = tmp_path / "ca.pem"
    good.write_text(make_ca().certificate_pem)
    ok = run_cli(
        "nodes",
        "render",
        "--stack",
        "staging",
        "--runtime",
        "cri-o",
        "--out",
        str(tmp_path / "c"),
        "--registry-ca",
        str(good),
    )
    assert ok.exit_code == 0, ok.output
    assert (
        tmp_path / "c" / "certs.d" / "registry.staging.example.com" / "ca.crt"
    ).read_text() == good.read_text()
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_render_for_kind_refuses_a_registry_off_the_kind_network(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    for name in ("Pulumi.yaml", "__main__.py", "images.lock"):
        (root / name).write_text((PROJECT_DIR / name).read_text())
    (root / "Pulumi.dev.yaml").write_text(
        (PROJECT_DIR / "Pulumi.dev.yaml").read_text().replace("network: kind", "network: bridge")
    )
    result = run_cli(
        "nodes",
        "render",
        "--stack",
        "dev",
        "--runtime",
        "kind",
        "--out",
        str(tmp_path / "o"),
        "--project-dir",
        str(root),
    )
    assert result.exit_code == 2
    assert "registry.network: 'bridge' is not kind's network" in result.stderr
    assert "as kind-registry:5000" in result.stderr
    # containerd nodes elsewhere do not care which Docker network the container is on
    other = run_cli(
        "nodes",
        "render",
        "--stack",
        "dev",
        "--runtime",
        "containerd",
        "--out",
        str(tmp_path / "p"),
        "--project-dir",
        str(root),
    )
    assert other.exit_code == 0, other.output


def test_uninstall_ships_an_empty_tree_so_the_daemonset_removes_its_files():
    values, secrets = stack_values("staging")
    values["airlock:nodes"]["daemonSet"]["uninstall"] = True
    objects = node_objects(run_stack("staging", values, secrets))
    assert set(objects) == {"ConfigMap", "DaemonSet"}  # no logins left to carry
    assert files_of(objects) == {"airlock-files": ""}


def test_forbidden_is_refused_where_a_bootstrap_image_would_need_the_cache_it_avoids():
    values, secrets = stack_values("staging")
    values["airlock:nodes"]["upstream"] = "forbidden"
    with pytest.raises(PlanError) as caught:
        run_stack("staging", values, secrets)
    message = str(caught.value)
    assert (
        "airlock:nodes.upstream: 'forbidden': registry/registry (docker.io/library/registry:3.0.0)" in message
    )
    assert "nodes/sync (docker.io/library/busybox:1.37.0)" in message
    assert "would pull docker.io only from docker-io.registry.staging.example.com" in message
    assert "set airlock:nodes.upstream: fallback" in message
    assert caught.value.recording.resources == []
