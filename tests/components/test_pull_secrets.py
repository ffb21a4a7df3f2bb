"""Pull secrets exist exactly where pods need them: each namespace whose pods pull from a
registry with credentials gets one Secret holding only those registries' logins.

Guards "pull secret in the wrong namespace" (ImagePullBackOff) and its opposite, credentials
copied into namespaces that never pull from that registry.
"""

from __future__ import annotations

import base64
import json

from airlock.plan.manifests import kubernetes_objects

from .conftest import run_stack, stack_values

CREDENTIALS = "airlock:registryCredentials"


def secrets_by_namespace(recording) -> dict[str, dict]:
    return {
        manifest["metadata"]["namespace"]: manifest
        for manifest in kubernetes_objects(recording)
        if manifest["kind"] == "Secret" and manifest["type"] == "kubernetes.io/dockerconfigjson"
    }


def test_secret_only_in_namespaces_whose_pods_pull_from_a_credentialed_registry():
    values, secrets = stack_values("staging")
    del values["airlock:registry"]  # logins given by hand here; the registry case is below
    del values["airlock:vcluster"]
    del values["airlock:gateway"]
    del values["airlock:crossplane"]
    del values["airlock:nodes"]
    del values["airlock:imageSync"]
    values["airlock:images"].update(
        registry={"to": "registry.staging.example.com"},
        mirrors=[
            {"source": "docker.io", "to": "docker-io.cache.staging.example.com", "layout": "flatten"},
            {"source": "ghcr.io", "to": "ghcr-io.cache.staging.example.com", "layout": "flatten"},
        ],
    )
    values["airlock:namespaces"] = {"airlock-system": {}, "apps": {}, "batch": {}, "idle": {}}
    values["airlock:workloadImages"] = {
        "apps/web": {"image": "nginx:1.27", "namespace": "apps"},  # docker.io cache: credentialed
        "batch/job": {"image": "quay.io/team/job:2.0", "namespace": "batch"},  # hosted registry
        "batch/tool": {"image": "ghcr.io/team/tool:1.0", "namespace": "batch"},  # ghcr cache: no login
    }
    values[CREDENTIALS] = {
        "docker-io.cache.staging.example.com": {"username": "hub", "password": "p1"},
        "registry.staging.example.com": {"username": "reg", "password": "p2"},
        "unused.example.com": {"username": "x", "password": "p3"},
    }
    recording = run_stack("staging", values, secrets | {CREDENTIALS})
    by_namespace = secrets_by_namespace(recording)
    assert sorted(by_namespace) == ["apps", "batch"]  # not idle, not airlock-system
    for manifest in by_namespace.values():
        assert manifest["type"] == "kubernetes.io/dockerconfigjson"
        assert manifest["metadata"]["name"] == "airlock-pull"
    apps = json.loads(by_namespace["apps"]["stringData"][".dockerconfigjson"])["auths"]
    batch = json.loads(by_namespace["batch"]["stringData"][".dockerconfigjson"])["auths"]
    assert sorted(apps) == ["docker-io.cache.staging.example.com"]
    assert sorted(batch) == ["registry.staging.example.com"]
    assert base64.b64decode(batch["registry.staging.example.com"]["auth"]) == b"reg:p2"


def test_platform_registry_login_reaches_the_pull_secrets_automatically():
    from airlock.plan.engine import computed_placeholder

    by_namespace = secrets_by_namespace(run_stack("staging"))
    # not airlock-system: the registry's own image comes from upstream
    assert sorted(by_namespace) == [
        "apps",
        "crossplane-system",
        "envoy-gateway-system",
        "vcluster-team-a",
        "vcluster-team-b",
    ]
    auths = json.loads(by_namespace["apps"]["stringData"][".dockerconfigjson"])["auths"]
    assert sorted(auths) == ["docker-io.registry.staging.example.com"]  # only what apps pulls from
    login = auths["docker-io.registry.staging.example.com"]
    assert login["username"] == "airlock"
    assert login["password"] == computed_placeholder("airlock-registry-login", "result")


def test_secret_waits_for_its_namespace():
    recording = run_stack("staging")
    secret = next(
        r
        for r in recording.resources
        if r.type == "kubernetes:core/v1:Secret"
        and r.inputs["type"] == "kubernetes.io/dockerconfigjson"
        and r.inputs["metadata"]["namespace"] == "apps"
    )
    namespace = next(
        r
        for r in recording.resources
        if r.type == "kubernetes:core/v1:Namespace" and r.name.endswith("-apps")
    )
    assert namespace.urn in secret.dependencies


def test_no_credentials_means_no_secrets():
    recording = run_stack("dev")
    assert secrets_by_namespace(recording) == {}
    document_images = next(r for r in recording.resources if r.type == "airlock:index:ImageConfig").outputs[
        "images"
    ]
    assert all(image["pullSecrets"] == [] for image in document_images)


def test_existing_namespace_is_not_created_but_gets_its_secret():
    values, secrets = stack_values("staging")
    del values["airlock:registry"]
    del values["airlock:vcluster"]
    del values["airlock:gateway"]
    del values["airlock:crossplane"]
    del values["airlock:nodes"]
    del values["airlock:imageSync"]
    values["airlock:registryCredentials"] = {"docker.io": {"username": "u", "password": "p"}}
    secrets.add("airlock:registryCredentials")
    values["airlock:namespaces"] = {"default": {"create": False}}
    values["airlock:workloadImages"] = {"apps/web": {"image": "nginx:1.27", "namespace": "default"}}
    recording = run_stack("staging", values, secrets)
    assert not [r for r in recording.resources if r.type == "kubernetes:core/v1:Namespace"]
    assert sorted(secrets_by_namespace(recording)) == ["default"]
