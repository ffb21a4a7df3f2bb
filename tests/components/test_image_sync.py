"""ImageSync in the stacks: the CronJob, its shards and the one image list both engines copy."""

from __future__ import annotations

import shlex
from pathlib import Path

import yaml
from pulumi.runtime import rpc

from airlock.config import load_stack_config
from airlock.images.lock import Lockfile
from airlock.oci.supply import plan_mirror
from airlock.plan.stackfiles import read_stack_files

from .conftest import PROJECT_DIR, run_stack, stack_values


def _objects(recording, kind: str) -> list[dict]:
    return [r.inputs for r in recording.resources if r.type == kind and "image-sync" in r.name]


def test_staging_syncs_the_list_airlock_images_mirror_copies(recordings):
    recording = recordings["staging"]
    (cron,) = _objects(recording, "kubernetes:batch/v1:CronJob")
    spec = cron["spec"]
    assert spec["concurrencyPolicy"] == "Forbid" and spec["schedule"] == "17 3 * * *"
    job = spec["jobTemplate"]["spec"]
    assert job["completionMode"] == "Indexed" and job["completions"] == job["parallelism"] == 1
    pod = job["template"]["spec"]
    (container,) = pod["containers"]
    assert (
        container["image"] == "quay.io/skopeo/stable:v1.18.0"
    )  # upstream: the registry it fills has nothing yet
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["automountServiceAccountToken"] is False
    assert job["template"]["metadata"]["labels"]["airlock/component"] == "image-sync"
    (config,) = _objects(recording, "kubernetes:core/v1:ConfigMap")
    script = config["data"]["shard-0.sh"]
    (line,) = [
        shlex.split(line.removesuffix(" || failed=1"))
        for line in script.splitlines()
        if line.startswith("skopeo")
    ]
    assert line[-1] == "registry.staging.example.com/mirror.gcr.io/library"
    assert line[line.index("--dest-cert-dir") + 1] == "/etc/airlock/certs/registry.staging.example.com"
    assert yaml.safe_load(config["data"]["shard-0-0.yaml"]) == {
        "mirror.gcr.io": {"images": {"library/alpine": ["3.20"]}, "tls-verify": True}
    }
    assert config["data"]["ca-0.crt"].startswith("[computed at deploy")  # the registry's generated CA
    (auth,) = _objects(recording, "kubernetes:core/v1:Secret")
    assert auth["type"] == "Opaque" and rpc.is_rpc_secret(auth["stringData"])

    # the same list `airlock images mirror --stack staging` copies (its placeholder digest: by tag)
    files = read_stack_files(PROJECT_DIR, "staging")
    loaded = load_stack_config(files.config, files.secret_keys, stack="staging", ignore_lock=True)
    policy = loaded.config.effective_policy()
    pairs = plan_mirror(
        loaded.table.entries,
        Lockfile.load(PROJECT_DIR / "images.lock"),
        pin=policy.pin,
        pull_through=loaded.config.pull_through_prefixes(),
        placeholders="by-tag",
    )
    exported = recording.outputs["imageSync"]
    assert exported["images"] == [f"{d.name}:{d.tag}" for _, d in pairs]
    assert exported["shards"] == 1 and exported["cronJob"] == "airlock-image-sync"


def test_a_larger_list_is_sharded_as_configured():
    values, secrets = stack_values("staging")
    values["airlock:imageSync"]["shards"] = 3
    values["airlock:workloadImages"].update(
        {f"apps/tool{i}": {"image": f"quay.io/team/tool{i}:1.{i}", "namespace": "apps"} for i in range(7)}
    )
    recording = run_stack("staging", values, secrets)
    (cron,) = _objects(recording, "kubernetes:batch/v1:CronJob")
    job = cron["spec"]["jobTemplate"]["spec"]
    assert job["completions"] == job["parallelism"] == 3
    (config,) = _objects(recording, "kubernetes:core/v1:ConfigMap")
    scripts = {key: text for key, text in config["data"].items() if key.endswith(".sh")}
    assert sorted(scripts) == ["shard-0.sh", "shard-1.sh", "shard-2.sh"]
    documents = [yaml.safe_load(text) for key, text in config["data"].items() if key.endswith(".yaml")]
    synced = [
        f"{registry}/{repository}:{name}"
        for document in documents
        for registry, entry in document.items()
        for repository, names in entry["images"].items()
        for name in names
    ]
    assert len(synced) == len(set(synced)) == 8  # every image once: 7 tools + alpine
    # between them the shards sync each parent of the images: quay.io/team (the tools) and
    # mirror.gcr.io/library (alpine); every shard has work
    parents = [
        {
            shlex.split(line.removesuffix(" || failed=1"))[-1]
            for line in text.splitlines()
            if line.startswith("skopeo sync")
        }
        for text in scripts.values()
    ]
    assert all(parents) and set().union(*parents) == {
        "registry.staging.example.com/quay.io/team",
        "registry.staging.example.com/mirror.gcr.io/library",
    }
    mounted = {
        item["key"]
        for volume in job["template"]["spec"]["volumes"]
        if volume["name"] == "config"
        for item in volume["configMap"]["items"]
    }
    assert mounted == {key for key in config["data"] if not key.startswith("ca-")}
    assert recording.outputs["imageSync"]["shards"] == 3


def test_skopeo_avoids_a_registry_the_policy_routes_quay_through():
    values, secrets = stack_values("staging")
    values["airlock:images"]["mirrors"] = [
        {"source": "quay.io", "to": "registry.staging.example.com/quay", "layout": "flatten"}
    ]
    recording = run_stack("staging", values, secrets)
    (cron,) = _objects(recording, "kubernetes:batch/v1:CronJob")
    (container,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "quay.io/skopeo/stable:v1.18.0"
    row = next(row for row in recording.outputs["images"] if row["name"] == "imagesync/skopeo")
    assert row["final"] == "quay.io/skopeo/stable:v1.18.0"


def test_without_the_section_there_is_no_image_sync(recordings):
    for stack in ("dev", "prod"):
        assert not _objects(recordings[stack], "kubernetes:batch/v1:CronJob")
        assert "imageSync" not in recordings[stack].outputs
    assert Path(PROJECT_DIR / "Pulumi.staging.yaml").read_text().count("airlock:imageSync") == 1


def test_the_registry_network_policy_admits_the_sync_pods_of_its_namespace(recordings):
    (policy,) = [
        r.inputs
        for r in recordings["staging"].resources
        if r.type == "kubernetes:networking.k8s.io/v1:NetworkPolicy"
    ]
    (cron,) = _objects(recordings["staging"], "kubernetes:batch/v1:CronJob")
    assert cron["metadata"]["namespace"] == policy["metadata"]["namespace"]
    peers = policy["spec"]["ingress"][0]["from"]
    labels = cron["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    (peer,) = [peer for peer in peers if "podSelector" in peer]
    assert "namespaceSelector" not in peer  # the registry's own namespace only
    assert peer["podSelector"]["matchLabels"].items() <= labels.items()
