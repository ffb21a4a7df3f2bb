"""vcluster tenants in every stack: chart values the pinned chart accepts, every image through
the policy (control plane, distro, etcd, CoreDNS, init container, tenant workloads, the
operator's background proxy), pull secrets where the pods run, kubeconfigs kept secret.

Guards the vcluster failures users report: hard-coded images (the background proxy pinned to
bitnami/kubectl), defaultImageRegistry flattening nested mirrors, tenant workloads still
pulling from Docker Hub, pull secrets on one service account only, unknown keys in values.
"""

from __future__ import annotations

import re

import jsonschema
import pytest

from airlock.images.reference import parse
from airlock.plan.document import build_document
from airlock.plan.manifests import kubernetes_objects, unwrap_secrets

from .conftest import STACKS
from .vcluster_values_schema import VALUES_SCHEMA

REGISTRY_HOSTS = {"staging": "registry.staging.example.com", "prod": "registry.prod.example.com"}


def charts(recording) -> dict[str, dict]:
    return {
        r.name: unwrap_secrets(r.inputs)
        for r in recording.resources
        if r.type == "kubernetes:helm.sh/v4:Chart" and "$airlock:index:VirtualCluster$" in r.urn
    }


def images_in(values: dict) -> list[str]:
    """Every image reference the chart will deploy, joined the way the chart joins them."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if set(node) == {"registry", "repository", "tag"}:
                found.append(f"{node['registry']}/{node['repository']}:{node['tag']}")
            for key, value in node.items():
                if key == "image" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)

    walk(values)
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_declares_two_tenants_with_values_the_chart_accepts(recordings, stack):
    tenant_charts = charts(recordings[stack])
    assert len(tenant_charts) >= 2
    validator = jsonschema.Draft202012Validator(VALUES_SCHEMA)
    for chart in tenant_charts.values():
        assert chart["chart"] == "vcluster" and chart["version"] == "0.36.1"
        assert chart["repositoryOpts"] == {"repo": "https://charts.loft.sh"}
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(chart["values"])]
        assert not errors


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_every_vcluster_image_comes_from_the_environment_registry(recordings, stack):
    host = REGISTRY_HOSTS[stack]
    for chart in charts(recordings[stack]).values():
        values = chart["values"]
        deployed = images_in(values)
        assert len(deployed) >= 4  # control plane, distro, CoreDNS, init container (+ etcd)
        translated = list(values["sync"]["toHost"]["pods"]["translateImage"].values())
        for image in deployed + translated:
            ref = parse(image)  # every joined string is a valid reference
            assert ref.domain == host or ref.domain.endswith("." + host), image
            if stack == "prod":
                assert ref.digest is not None, image
    tenants = recordings[stack].outputs["tenants"]
    for summary in tenants.values():
        proxy = parse(summary["backgroundProxyImage"])
        assert proxy.domain == host or proxy.domain.endswith("." + host)
        assert proxy.path.endswith("loft-sh/vcluster-pro")
        assert (proxy.digest is not None) == (stack == "prod")
        assert summary["connectCommand"]["env"].startswith(
            f"VCLUSTER_BACKGROUND_PROXY_IMAGE={summary['backgroundProxyImage']} vcluster connect "
        )
        assert summary["connectCommand"]["flag"].endswith(
            f"--background-proxy-image {summary['backgroundProxyImage']}"
        )


def test_prod_digests_ride_in_the_tag_and_join_to_the_resolved_reference(recordings):
    document = build_document(recordings["prod"])
    finals = {(i["name"], i["namespace"]): i["final"] for i in document["images"]}
    for name, chart in charts(recordings["prod"]).items():
        namespace = "vcluster-" + name.removeprefix("airlock-vcluster-").removesuffix("-chart")
        image = chart["values"]["controlPlane"]["statefulSet"]["image"]
        joined = f"{image['registry']}/{image['repository']}:{image['tag']}"
        assert joined == finals[("vcluster/control-plane", namespace)]
        assert "@sha256:" in image["tag"]


def test_tenant_workloads_are_translated_in_every_spelling(recordings):
    values = next(iter(charts(recordings["staging"]).values()))["values"]
    translate = values["sync"]["toHost"]["pods"]["translateImage"]
    final = "docker-io.registry.staging.example.com/library/nginx:1.27"
    for spelling in (
        "nginx:1.27",
        "library/nginx:1.27",
        "docker.io/nginx:1.27",
        "docker.io/library/nginx:1.27",
        "index.docker.io/library/nginx:1.27",
    ):
        assert translate[spelling] == final


def test_pull_secrets_on_both_service_accounts_and_present_in_the_host_namespace(recordings):
    recording = recordings["staging"]
    secrets = {
        (o["metadata"]["namespace"], o["metadata"]["name"])
        for o in kubernetes_objects(recording)
        if o["kind"] == "Secret" and o["type"] == "kubernetes.io/dockerconfigjson"
    }
    for chart in charts(recording).values():
        advanced = chart["values"]["controlPlane"]["advanced"]
        # as vcluster v0.36.1's templates render them: the control plane's ServiceAccount lists its
        # own, the workload ServiceAccount the concatenation of both (workload-serviceaccount.yaml)
        control_plane = advanced["serviceAccount"]["imagePullSecrets"]
        workload = control_plane + advanced["workloadServiceAccount"]["imagePullSecrets"]
        assert control_plane == [{"name": "airlock-pull"}]
        assert workload == [{"name": "airlock-pull"}]  # once, not twice
        assert (chart["namespace"], "airlock-pull") in secrets
        assert "defaultImageRegistry" not in advanced  # per-image fields instead (nested layouts)


def test_fromhost_and_tohost_selection_reaches_the_values(recordings):
    tenant_charts = charts(recordings["staging"])
    team_a = tenant_charts["airlock-vcluster-team-a-chart"]["values"]["sync"]
    assert team_a["fromHost"]["storageClasses"] == {
        "enabled": True,
        "selector": {"matchLabels": {"airlock/tenant-visible": "true"}},
    }
    assert team_a["toHost"]["ingresses"] == {"enabled": True}
    team_b = tenant_charts["airlock-vcluster-team-b-chart"]["values"]
    assert team_b["sync"]["fromHost"]["configMaps"]["mappings"] == {
        "byName": {"airlock-system/ca-bundle": "kube-system/ca-bundle"}
    }
    assert team_b["controlPlane"]["backingStore"]["etcd"]["deploy"]["enabled"] is True


def test_kubeconfigs_are_secret_and_each_tenant_gets_a_provider(recordings):
    recording = recordings["staging"]
    document = build_document(recording)
    assert re.fullmatch(r"\[secret [0-9a-f]{16}\]", document["outputs"]["tenantKubeconfigs"])
    providers = [r for r in recording.resources if r.type == "pulumi:providers:kubernetes"]
    assert len(providers) == 2
    for provider in providers:
        assert provider.inputs["kubeconfig"] != "" and document_has_masked(document, provider.urn)
    reads = [
        r
        for r in recording.resources
        if r.type == "kubernetes:core/v1:Secret" and r.name.endswith("-kubeconfig")
    ]
    assert sorted(r.name for r in reads) == [
        "airlock-vcluster-team-a-kubeconfig",
        "airlock-vcluster-team-b-kubeconfig",
    ]


def document_has_masked(document: dict, urn: str) -> bool:
    resource = next(r for r in document["resources"] if r["urn"] == urn)
    return re.fullmatch(r"\[secret [0-9a-f]{16}\]", resource["inputs"]["kubeconfig"]) is not None


def test_tenant_namespaces_are_created_by_the_platform(recordings):
    names = {
        unwrap_secrets(r.inputs)["metadata"]["name"]
        for r in recordings["prod"].resources
        if r.type == "kubernetes:core/v1:Namespace"
    }
    assert {"vcluster-payments", "vcluster-search"} <= names


def test_chart_can_come_from_an_oci_mirror():
    from .conftest import run_stack, stack_values

    values, secrets = stack_values("staging")
    values["airlock:vcluster"]["chart"] = {
        "repository": "oci://registry.staging.example.com/charts/",
        "version": "0.36.1",
    }
    for chart in charts(run_stack("staging", values, secrets)).values():
        assert chart["chart"] == "oci://registry.staging.example.com/charts/vcluster"
        assert "repositoryOpts" not in chart


def test_values_collision_is_warned_and_the_policy_wins():
    from .conftest import run_stack, stack_values

    values, secrets = stack_values("dev")
    values["airlock:vcluster"]["tenants"][0]["values"] = {
        "controlPlane": {"coredns": {"deployment": {"image": "coredns/coredns:1.0.0", "replicas": 2}}}
    }
    recording = run_stack("dev", values, secrets)
    chart = charts(recording)["airlock-vcluster-team-a-chart"]["values"]["controlPlane"]["coredns"][
        "deployment"
    ]
    assert chart == {"image": "localhost:5001/docker.io/coredns/coredns:1.14.2", "replicas": 2}
    assert any(
        "values.controlPlane.coredns.deployment.image is set by the image policy" in w
        for w in recording.warnings
    )
