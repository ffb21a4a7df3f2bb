"""PrivateRegistry in each stack: what is deployed per mode, and what must never change.

Guards a bcrypt hash recomputed at every preview (every `pulumi up` would roll the registry),
a registry that pulls its own image from itself, a local registry listening beyond loopback,
and an external registry that deploys anything.
"""

from __future__ import annotations

import yaml

from airlock.plan.engine import computed_placeholder
from airlock.plan.manifests import kubernetes_objects, unwrap_secrets
from airlock.registry.spec import htpasswd_line

from .conftest import run_stack


def children_of(recording, type_token: str) -> list:
    prefix = "urn:pulumi:"
    return [r for r in recording.resources if r.type == type_token and r.urn.startswith(prefix)]


def auth_secret(recording) -> dict:
    return next(
        o
        for o in kubernetes_objects(recording)
        if o["kind"] == "Secret" and o["metadata"]["name"] == "registry-auth"
    )


def test_htpasswd_comes_from_state_and_is_stable_between_plans():
    first, second = auth_secret(run_stack("staging")), auth_secret(run_stack("staging"))
    assert first == second
    assert first["stringData"]["htpasswd"] == htpasswd_line(
        "airlock", computed_placeholder("airlock-registry-login", "bcryptHash")
    )


def test_registry_image_never_comes_from_the_registry_itself(recordings):
    for stack in ("dev", "staging"):
        deployment_images = [
            c["image"]
            for o in kubernetes_objects(recordings[stack])
            if o["kind"] == "Deployment"
            for c in o["spec"]["template"]["spec"]["containers"]
        ]
        remote = [
            unwrap_secrets(r.inputs)["name"]
            for r in children_of(recordings[stack], "docker:index/remoteImage:RemoteImage")
        ]
        for image in deployment_images + remote:
            assert image == "docker.io/library/registry:3.0.0", (stack, image)


def test_in_cluster_deploys_hosted_and_one_cache_per_upstream(recordings):
    objects = kubernetes_objects(recordings["staging"])
    deployments = sorted(o["metadata"]["name"] for o in objects if o["kind"] == "Deployment")
    assert deployments == [
        "registry",
        "registry-cache-docker-io",
        "registry-cache-ghcr-io",
        "registry-cache-registry-k8s-io",
        "registry-cache-xpkg-crossplane-io",
    ]
    for deployment in (o for o in objects if o["kind"] == "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert (
            container["securityContext"]["runAsNonRoot"]
            and container["securityContext"]["readOnlyRootFilesystem"]
        )
        assert container["resources"]["limits"]["memory"] and container["readinessProbe"]
        assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    remote_urls = {
        o["metadata"]["name"]: yaml.safe_load(o["data"]["config.yml"]).get("proxy", {}).get("remoteurl")
        for o in objects
        if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("registry")
    }
    assert remote_urls == {
        "registry-config": None,
        "registry-cache-docker-io-config": "https://registry-1.docker.io",
        "registry-cache-ghcr-io-config": "https://ghcr.io",
        "registry-cache-registry-k8s-io-config": "https://registry.k8s.io",
        "registry-cache-xpkg-crossplane-io-config": "https://xpkg.crossplane.io",
    }
    policy = next(o for o in objects if o["kind"] == "NetworkPolicy")
    sources = policy["spec"]["ingress"][0]["from"]
    assert {"ipBlock": {"cidr": "10.0.0.0/16"}} in sources
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "apps"}}} in sources


def test_generated_certificate_names_every_host(recordings):
    request = next(
        r for r in recordings["staging"].resources if r.type == "tls:index/certRequest:CertRequest"
    )
    names = unwrap_secrets(request.inputs)["dnsNames"]
    assert "registry.staging.example.com" in names
    assert "xpkg-crossplane-io.registry.staging.example.com" in names
    assert "registry.airlock-system.svc.cluster.local" in names


def test_docker_mode_listens_on_loopback_and_publishes_kep_1755(recordings):
    container = unwrap_secrets(children_of(recordings["dev"], "docker:index/container:Container")[0].inputs)
    assert container["ports"] == [{"internal": 5000, "external": 5001, "ip": "127.0.0.1"}]
    assert container["networksAdvanced"] == [{"name": "kind"}]
    assert container["name"] == "kind-registry"
    hosting = next(
        o for o in kubernetes_objects(recordings["dev"]) if o["metadata"]["name"] == "local-registry-hosting"
    )
    assert hosting["metadata"]["namespace"] == "kube-public"
    data = yaml.safe_load(hosting["data"]["localRegistryHosting.v1"])
    # image fields name localhost:5001, which the nodes' hosts.toml maps to the container
    # (airlock nodes render --runtime kind); kind-registry:5000 there would be tried over HTTPS
    assert data == {
        "host": "localhost:5001",
        "hostFromContainerRuntime": "localhost:5001",
        "hostFromClusterNetwork": "kind-registry:5000",
        "help": "https://kind.sigs.k8s.io/docs/user/local-registry/",
    }


def test_external_mode_deploys_nothing_and_outputs_its_login(recordings):
    recording = recordings["prod"]
    registry = next(r for r in recording.resources if r.type == "airlock:index:PrivateRegistry")
    assert not [r for r in recording.resources if r.parent == registry.urn]
    summary = recording.outputs["registry"]
    assert summary["endpoint"] == "registry.prod.example.com"
    assert summary["caches"] == {"docker.io": "registry.prod.example.com/dockerhub-proxy"}
    assert summary["username"] == "robot-airlock"
