"""Every stack plans, matches its reviewed golden plan, validates against Kubernetes schemas,
and never shows a secret.

Guards: an unreviewed change to what a stack deploys (golden diff), manifests a real API
server would reject (schemas of the oldest and newest supported Kubernetes minors), and secret
values leaking into plan output that is posted on pull requests.
"""

from __future__ import annotations

import io
import json
import re

import kubernetes_validate
import pytest
from rich.console import Console

from airlock.plan.document import build_document, dumps
from airlock.plan.manifests import kubernetes_objects
from airlock.plan.render import render_plan
from tests.support.crd import validate_custom_resource

from .conftest import PROJECT_DIR, STACKS, run_stack, stack_values
from .crossplane_schemas import CUSTOM_RESOURCES as CROSSPLANE_RESOURCES
from .gateway_schemas import CUSTOM_RESOURCES as GATEWAY_RESOURCES

CUSTOM_RESOURCES = {**GATEWAY_RESOURCES, **CROSSPLANE_RESOURCES}

# Oldest and newest Kubernetes minors airlock supports (README: "Supported Kubernetes").
KUBERNETES_VERSIONS = ("1.30", "1.31", "1.32", "1.33", "1.34")


@pytest.mark.parametrize("stack", STACKS)
def test_stack_matches_its_golden_plan(recordings, stack):
    golden = (PROJECT_DIR / "tests" / "golden" / f"{stack}.json").read_text()
    assert dumps(build_document(recordings[stack])) == golden, (
        f"run 'make golden' and review the diff for {stack}"
    )


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_kubernetes_object_validates(recordings, stack, version):
    objects = kubernetes_objects(recordings[stack])
    assert objects, "every stack declares Kubernetes objects"
    custom = 0
    for manifest in objects:
        schema = CUSTOM_RESOURCES.get((manifest["apiVersion"], manifest["kind"]))
        if schema is not None:  # a CRD's object: its schema and CEL rules (test_gateway.py)
            assert validate_custom_resource(schema, manifest) == [], manifest
            custom += 1
        else:
            kubernetes_validate.validate(manifest, version, strict=True)
    assert custom >= 4  # EnvoyProxy, GatewayClass, Gateway, a package (+ ImageConfigs)


@pytest.mark.parametrize("stack", STACKS)
def test_plan_document_shape(recordings, stack):
    document = build_document(recordings[stack])
    assert set(document) == {"project", "stack", "resources", "images", "outputs", "warnings"}
    assert document["project"] == "airlock" and document["stack"] == stack
    urns = [resource["urn"] for resource in document["resources"]]
    assert urns == sorted(urns)
    for resource in document["resources"]:
        assert set(resource) == {"urn", "type", "name", "parent", "dependencies", "inputs"}
        assert resource["urn"].startswith(f"urn:pulumi:{stack}::airlock::")
    for image in document["images"]:
        assert (
            image["final"] and image["source"] and image["pullPolicy"] in ("Always", "IfNotPresent", "Never")
        )


def test_known_secret_never_appears_in_any_plan_output():
    values, secrets = stack_values("staging")
    known = "Sup3r-Secret-Value-41"
    values["airlock:registryCredentials"] = {"quay.io": {"username": "robot", "password": known}}
    values["airlock:workloadImages"]["apps/quay"] = {"image": "quay.io/team/tool:1.0", "namespace": "apps"}
    # pulled straight from quay.io, with the login given in config
    values["airlock:images"]["overrides"] = {"apps/quay": {"image": "quay.io/team/tool:1.0"}}
    secrets.add("airlock:registryCredentials")
    recording = run_stack("staging", values, secrets)
    document = build_document(recording)
    text = dumps(document)
    assert known not in text
    buffer = io.StringIO()
    render_plan(document, Console(file=buffer, width=300))
    assert known not in buffer.getvalue()
    secret_objects = [
        r
        for r in document["resources"]
        if r["type"] == "kubernetes:core/v1:Secret" and "read" not in r["inputs"]
    ]
    # a fingerprint of the offline tokens a Secret holds, or plain [secret] when it holds only a
    # real value (never hashed: it could be guessed)
    fingerprint = re.compile(r"\[secret( [0-9a-f]{16})?\]")
    assert secret_objects and all(fingerprint.fullmatch(r["inputs"]["stringData"]) for r in secret_objects)
    assert fingerprint.fullmatch(document["outputs"]["registryPassword"])
    assert fingerprint.fullmatch(document["outputs"]["registryPullSecretPayload"])
    # the value really went into the payload: only the plan output masks it
    import base64

    payloads = [
        m["stringData"][".dockerconfigjson"]
        for m in kubernetes_objects(recording)
        if m["kind"] == "Secret" and m["type"] == "kubernetes.io/dockerconfigjson"
    ]
    decoded = [
        base64.b64decode(entry["auth"]).decode()
        for payload in payloads
        for entry in json.loads(payload)["auths"].values()
    ]
    assert decoded and any(text == f"robot:{known}" for text in decoded)


def test_integers_stay_integers_and_secret_exports_are_masked(recordings):
    document = build_document(recordings["prod"])
    assert document["outputs"]["environment"] == "prod"
    assert "1.0" not in dumps(document).replace("1.0.", "")


def test_plan_is_deterministic():
    first = dumps(build_document(run_stack("prod")))
    second = dumps(build_document(run_stack("prod")))
    assert first == second


def test_prod_pins_every_image_and_dev_allows_tags(recordings):
    prod = build_document(recordings["prod"])["images"]
    assert prod and all("@sha256:" in image["final"] for image in prod)
    assert all(image["final"].startswith("registry.prod.example.com/") for image in prod)
    dev = {image["name"]: image for image in build_document(recordings["dev"])["images"]}
    workloads = [image for name, image in dev.items() if name.startswith("apps/")]
    assert workloads and all(image["final"].startswith("localhost:5001/docker.io/") for image in workloads)
    assert all("@" not in image["final"] for image in dev.values())
    # the registry's own image cannot come from the registry it runs
    assert dev["registry/registry"]["final"] == "docker.io/library/registry:3.0.0"


def test_staging_images_come_through_the_caches(recordings):
    staging = {image["name"]: image for image in build_document(recordings["staging"])["images"]}
    assert staging["apps/web"]["final"] == "docker-io.registry.staging.example.com/library/nginx:1.27"
    assert staging["apps/web"]["pullSecrets"] == ["airlock-pull"]
