"""Crossplane in every stack: chart values the pinned chart reads, package objects and
ImageConfigs their CRDs admit (CEL rules evaluated with cel-python), the core image and every
package through the policy, the CA bundle for private registries, plain HTTP refused, and the
component on its own.

Guards the Crossplane failures users report: packages fetched from upstream although nodes have
a mirror (the crossplane pod fetches them itself), a registry on a custom port with a private CA
failing until registryCaBundleConfig is set, plain-HTTP registries failing with no option
(crossplane#6159), pull secrets given as objects where the chart wants names, a digest lost
because the chart appends a tag, `localhost:5001/...` refused by the package CEL rule, and the
pull-secret ImageConfig matched against the upstream instead of the rewritten reference.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest

from airlock.images.reference import parse
from airlock.plan.engine import PlanError, Recording
from airlock.plan.manifests import kubernetes_objects, unwrap_secrets
from tests.support.crd import validate_custom_resource
from tests.support.crossplane import fetched, pull_secret_for
from tests.support.pki import make_ca

from .conftest import STACKS, run_stack, stack_values
from .crossplane_schemas import CONFIGURATION, CROSSPLANE_VALUES, CUSTOM_RESOURCES, IMAGE_CONFIG, PACKAGE

REGISTRY_HOSTS = {"staging": "registry.staging.example.com", "prod": "registry.prod.example.com"}
TYPE = "airlock:index:Crossplane"


def chart(recording: Recording) -> dict[str, Any]:
    (found,) = [
        unwrap_secrets(r.inputs)
        for r in recording.resources
        if r.type == "kubernetes:helm.sh/v4:Chart" and f"${TYPE}$" in r.urn
    ]
    return found


def objects(recording: Recording, kind: str) -> list[dict[str, Any]]:
    return [o for o in kubernetes_objects(recording) if o["kind"] == kind]


def packages(recording: Recording) -> list[dict[str, Any]]:
    return [o for o in kubernetes_objects(recording) if o["apiVersion"] == "pkg.crossplane.io/v1"]


def rows(recording: Recording) -> dict[str, dict[str, Any]]:
    (config,) = recording.of_type("airlock:index:ImageConfig")
    return {row["name"]: row for row in config.outputs["images"] if row["name"].startswith("crossplane")}


# -- chart values ------------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", STACKS)
def test_chart_values_are_keys_the_pinned_chart_reads(recordings, stack):
    inputs = chart(recordings[stack])
    assert inputs["chart"] == "crossplane" and inputs["version"] == "2.3.4"
    assert inputs["repositoryOpts"] == {"repo": "https://charts.crossplane.io/stable"}
    errors = list(jsonschema.Draft202012Validator(CROSSPLANE_VALUES).iter_errors(inputs["values"]))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_the_values_schema_refuses_pull_secrets_as_objects(recordings):
    values = copy.deepcopy(chart(recordings["prod"])["values"])
    values["imagePullSecrets"] = [{"name": "airlock-pull"}]
    assert list(jsonschema.Draft202012Validator(CROSSPLANE_VALUES).iter_errors(values))


@pytest.mark.parametrize("stack", STACKS)
def test_the_core_image_the_chart_renders_is_the_final_reference(recordings, stack):
    image = chart(recordings[stack])["values"]["image"]
    # cluster/charts/crossplane/templates/deployment.yaml: repository verbatim with ignoreTag,
    # else repository:tag
    rendered = image["repository"] if image["ignoreTag"] else f"{image['repository']}:{image['tag']}"
    assert rendered == rows(recordings[stack])["crossplane/crossplane"]["final"]
    if stack == "prod":
        assert image["ignoreTag"] is True and "@sha256:" in rendered


# -- CRDs and CEL ----------------------------------------------------------------------------------
def test_every_package_and_image_config_passes_its_crd(recordings):
    seen = set()
    for stack in STACKS:
        for manifest in kubernetes_objects(recordings[stack]):
            schema = CUSTOM_RESOURCES.get((manifest["apiVersion"], manifest["kind"]))
            if schema is not None:
                assert validate_custom_resource(schema, manifest) == [], manifest
                seen.add(manifest["kind"])
    assert seen == {"Provider", "Function", "ImageConfig"}


PACKAGE_MESSAGE = "must be a fully qualified image name"
BAD = [
    (PACKAGE, "Provider", "localhost:5001/xpkg.crossplane.io/crossplane-contrib/provider-kubernetes:v0.18.0"),
    (PACKAGE, "Provider", "registry:5000/team/provider-x:v1"),
    (PACKAGE, "Function", "xpkg.crossplane.io/crossplane-contrib/function-x"),
    (CONFIGURATION, "Configuration", "xpkg.crossplane.io/platform"),
]


@pytest.mark.parametrize(("schema", "kind", "reference"), BAD)
def test_the_package_rule_rejects_a_bad_reference(schema, kind, reference):
    manifest = {
        "apiVersion": "pkg.crossplane.io/v1",
        "kind": kind,
        "metadata": {"name": "x"},
        "spec": {"package": reference},
    }
    errors = validate_custom_resource(schema, manifest)
    assert [e.message[: len(PACKAGE_MESSAGE)] for e in errors if e.rule] == [PACKAGE_MESSAGE]
    manifest["spec"]["package"] = "registry.example.com:8443/team/provider-x:v1@sha256:" + "a" * 64
    assert validate_custom_resource(schema, manifest) == []


def test_image_config_needs_a_match(recordings):
    (config, *_) = objects(recordings["prod"], "ImageConfig")
    config = copy.deepcopy(config)
    assert validate_custom_resource(IMAGE_CONFIG, config) == []
    config["spec"]["matchImages"] = []
    errors = validate_custom_resource(IMAGE_CONFIG, config)
    assert [e.message for e in errors if e.rule] == ["matchImages should have at least one element."]


# -- images, packages, pull secrets, trust -----------------------------------------------------------
@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_core_and_every_package_come_from_the_environment_registry(recordings, stack):
    recording = recordings[stack]
    host = REGISTRY_HOSTS[stack]
    configs = objects(recording, "ImageConfig")
    found = packages(recording)
    assert {p["kind"] for p in found} == {"Provider", "Function"}
    for package in found:
        reference = fetched(package["spec"]["package"], configs)
        ref = parse(reference)
        assert ref.domain == host or ref.domain.endswith("." + host), reference
        assert (
            reference
            == rows(recording)[f"crossplane-{package['kind'].lower()}s/{package['metadata']['name']}"][
                "final"
            ]
        )
        assert pull_secret_for(reference, configs) == "airlock-pull"  # matched on the rewritten reference
        assert package["spec"]["packagePullSecrets"] == [{"name": "airlock-pull"}]
        # rewrite mode (the default): the upstream name, as Crossplane matches dependencies
        assert package["spec"]["package"].startswith("xpkg.crossplane.io/crossplane-contrib/")
        if stack == "prod":
            assert ref.digest is not None and package["spec"]["package"].endswith(f"@{ref.digest}")
    values = chart(recording)["values"]
    assert values["imagePullSecrets"] == ["airlock-pull"]
    secrets = {
        o["metadata"]["namespace"]
        for o in objects(recording, "Secret")
        if o.get("type") == "kubernetes.io/dockerconfigjson"
    }
    assert "crossplane-system" in secrets


def test_staging_packages_trust_the_registry_ca(recordings):
    recording = recordings["staging"]
    (config_map,) = [
        o for o in objects(recording, "ConfigMap") if o["metadata"]["name"] == "airlock-registry-ca"
    ]
    assert config_map["metadata"]["namespace"] == "crossplane-system"
    # the CA pulumi-tls generates at deploy time, the one that signs the cache's certificate
    assert config_map["data"]["ca.crt"] == "[computed at deploy: airlock-registry-ca.certPem]\n"
    assert chart(recording)["values"]["registryCaBundleConfig"] == {
        "name": "airlock-registry-ca",
        "key": "ca.crt",
    }


def test_a_custom_port_registry_with_a_private_ca_works_in_the_plan():
    ca = make_ca("git.example.com CA").certificate_pem
    values, secrets = stack_values("staging")
    values["airlock:images"].setdefault("registries", {})["git.example.com:8443"] = {"caBundle": ca}
    values["airlock:images"].setdefault("mirrors", []).append(
        {"source": "git.example.com:8443", "to": "git.example.com:8443", "layout": "replace"}
    )
    values["airlock:crossplane"]["packages"].append(
        {
            "kind": "Configuration",
            "name": "platform-web",
            "package": "git.example.com:8443/platform/configuration-web:v1.2.0",
        }
    )
    recording = run_stack("staging", values, secrets)
    (configuration,) = objects(recording, "Configuration")
    assert configuration["spec"]["package"] == "git.example.com:8443/platform/configuration-web:v1.2.0"
    assert validate_custom_resource(CONFIGURATION, configuration) == []
    (config_map,) = [
        o for o in objects(recording, "ConfigMap") if o["metadata"]["name"] == "airlock-registry-ca"
    ]
    bundle = config_map["data"]["ca.crt"]
    assert ca.strip() in bundle and "airlock-registry-ca.certPem" in bundle  # both CAs, once each
    assert (
        fetched(configuration["spec"]["package"], objects(recording, "ImageConfig"))
        == configuration["spec"]["package"]
    )


def test_dev_keeps_packages_upstream_and_the_core_image_local(recordings):
    recording = recordings["dev"]
    (provider,) = objects(recording, "Provider")
    assert provider["spec"]["package"] == "xpkg.crossplane.io/crossplane-contrib/provider-kubernetes:v0.18.0"
    assert objects(recording, "ImageConfig") == []  # nothing to rewrite, no login
    assert chart(recording)["values"]["image"]["repository"].startswith("localhost:5001/")
    assert chart(recording)["values"]["registryCaBundleConfig"] == {"name": "", "key": ""}


def test_image_configs_and_the_ca_come_before_the_packages(recordings):
    resources = {r.name: r for r in recordings["staging"].resources if f"${TYPE}$" in r.urn}
    main = resources["airlock-crossplane-chart"]
    assert resources["airlock-crossplane-registry-ca"].urn in main.dependencies
    configs = [r for r in resources.values() if r.type.endswith(":ImageConfig")]
    assert configs and all(main.urn in config.dependencies for config in configs)  # CRDs first
    for package in (r for r in resources.values() if r.type.startswith("kubernetes:pkg.crossplane.io/v1:")):
        assert main.urn in package.dependencies
        assert {c.urn for c in configs} <= set(package.dependencies)


def test_the_registry_network_policy_must_admit_crossplane():
    values, secrets = stack_values("staging")
    values["airlock:registry"]["networkPolicy"]["allowNamespaces"] = ["apps"]
    with pytest.raises(PlanError) as caught:
        run_stack("staging", values, secrets)
    message = str(caught.value)
    assert "airlock:registry.networkPolicy.allowNamespaces" in message
    assert "add crossplane-system to airlock:registry.networkPolicy.allowNamespaces" in message
    assert caught.value.recording.resources == []


# -- on its own ------------------------------------------------------------------------------------
STANDALONE = """
import pulumi
from airlock.crossplane.component import Crossplane, CrossplaneArgs
from airlock.crossplane.images import image_requests
from airlock.crossplane.settings import CrossplaneSettings
from airlock.image_config import ImageConfig, ImageConfigArgs
from airlock.images.policy import ImagePolicy

settings = CrossplaneSettings.model_validate({"packages": [
    {"kind": "Provider", "name": "provider-kubernetes",
     "package": "xpkg.crossplane.io/crossplane-contrib/provider-kubernetes:v0.18.0"}]})
policy = ImagePolicy.model_validate(POLICY)
images = ImageConfig("images", ImageConfigArgs(policy=policy, requests=image_requests(settings)))
xp = Crossplane("xp", CrossplaneArgs(settings=settings, image_config=images, policy=policy))
pulumi.export("packages", xp.packages)
"""


def _standalone(tmp_path, policy: str) -> Recording:
    import textwrap

    from airlock.plan.engine import record_program

    (tmp_path / "Pulumi.yaml").write_text("name: xp\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(STANDALONE.replace("POLICY", policy)))
    return record_program(tmp_path, "dev")


def test_the_component_on_its_own(tmp_path):
    recording = _standalone(tmp_path, '{"registry": {"to": "mirror.example.com"}, "pin": "off"}')
    assert recording.outputs["packages"] == {
        "Provider/provider-kubernetes": "xpkg.crossplane.io/crossplane-contrib/provider-kubernetes:v0.18.0"
    }
    (config,) = objects(recording, "ImageConfig")
    assert config["spec"]["rewriteImage"] == {"prefix": "mirror.example.com/xpkg.crossplane.io/"}


def test_the_component_on_its_own_refuses_a_plain_http_registry_before_registering(tmp_path):
    policy = '{"registry": {"to": "mirror.example.com"}, "registries": {"mirror.example.com": {"insecure": True}}, "pin": "off"}'
    with pytest.raises(PlanError, match=r"crossplane#6159") as caught:
        _standalone(tmp_path, policy)
    assert not [r for r in caught.value.recording.resources if r.type == TYPE]


def _staging(change) -> Recording:
    values, secrets = stack_values("staging")
    change(values)
    return run_stack("staging", values, secrets)


def test_mirror_mode_writes_the_final_reference():
    recording = _staging(lambda v: v["airlock:crossplane"].update(packageSource="mirror"))
    configs = objects(recording, "ImageConfig")
    for package in packages(recording):
        reference = package["spec"]["package"]
        assert reference.startswith("xpkg-crossplane-io.registry.staging.example.com/")
        assert fetched(reference, configs) == reference  # no rewrite applies to a final reference


def test_a_kept_prefix_under_a_relocated_one_gets_an_identity_rewrite():
    def change(values):
        values["airlock:images"].setdefault("mirrors", []).append(
            {
                "source": "xpkg.crossplane.io/crossplane-contrib",
                "to": "xpkg.crossplane.io/crossplane-contrib",
                "layout": "replace",
            }
        )
        # the nodes' containerd cannot keep part of a mirrored registry upstream (test_nodes.py)
        values["airlock:nodes"]["exclude"] = ["xpkg.crossplane.io/crossplane-contrib"]
        values["airlock:crossplane"]["packages"].append(
            {
                "kind": "Function",
                "name": "function-other",
                "package": "xpkg.crossplane.io/other/function-x:v1.0.0",
            }
        )

    recording = _staging(change)
    configs = objects(recording, "ImageConfig")
    rows_by_name = rows(recording)
    for package in packages(recording):
        name = f"crossplane-{package['kind'].lower()}s/{package['metadata']['name']}"
        assert fetched(package["spec"]["package"], configs) == rows_by_name[name]["final"]
    kept = rows_by_name["crossplane-providers/provider-kubernetes"]["final"]
    assert kept.startswith("xpkg.crossplane.io/crossplane-contrib/")  # stays upstream
    assert rows_by_name["crossplane-functions/function-other"]["final"].startswith(
        "xpkg-crossplane-io.registry."
    )


def test_a_rule_for_one_whole_repository_is_expressed_for_its_tag():
    def change(values):
        values["airlock:images"].setdefault("mirrors", []).append(
            {
                "source": "ghcr.io/team/provider-x",
                "to": "xpkg-crossplane-io.registry.staging.example.com/team-x",
                "layout": "replace",
            }
        )
        values["airlock:nodes"]["exclude"] = ["ghcr.io/team/provider-x"]
        values["airlock:crossplane"]["packages"].append(
            {"kind": "Provider", "name": "provider-x", "package": "ghcr.io/team/provider-x:v1.0.0"}
        )

    recording = _staging(change)
    (provider,) = [p for p in packages(recording) if p["metadata"]["name"] == "provider-x"]
    assert fetched(provider["spec"]["package"], objects(recording, "ImageConfig")) == (
        "xpkg-crossplane-io.registry.staging.example.com/team-x:v1.0.0"
    )


def test_a_workload_image_cannot_take_a_packages_name():
    def change(values):
        values["airlock:workloadImages"]["crossplane-providers/provider-kubernetes"] = {
            "image": "nginx:1.27",
            "namespace": "apps",
        }

    with pytest.raises(PlanError) as caught:
        _staging(change)
    assert 'airlock:workloadImages["crossplane-providers/provider-kubernetes"].image' in str(caught.value)
    assert "a logical name stands for one image" in str(caught.value)


def test_a_new_ca_restarts_crossplane(recordings):
    annotations = chart(recordings["staging"])["values"]["customAnnotations"]
    assert (
        set(annotations) == {"airlock/registry-ca-sha256"}
        and len(annotations["airlock/registry-ca-sha256"]) == 64
    )
    assert "customAnnotations" not in chart(recordings["dev"])["values"]  # no CA, nothing to watch


def test_never_is_not_a_package_pull_policy():
    recording = run_stack("dev", *_with(lambda v: v["airlock:images"].update(pullPolicy="Never")))
    (provider,) = objects(recording, "Provider")
    assert provider["spec"]["packagePullPolicy"] == "IfNotPresent"


def _with(change):
    values, secrets = stack_values("dev")
    change(values)
    return values, secrets
