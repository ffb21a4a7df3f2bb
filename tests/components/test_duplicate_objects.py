"""Two components that would create the same Kubernetes object are refused before the second one
registers anything, with both named (before: two ImageConfigs both declared apps/airlock-pull and
the conflict showed only at deploy time)."""

from __future__ import annotations

import copy
import textwrap

import pytest

from airlock.plan.engine import PlanError, record_program

from .conftest import plan_with_cli, stack_values

PROGRAM = """
import pulumi
from airlock import ImageConfig, ImageConfigArgs, ImagePolicy, ImageRequest, RegistryLoginInput

def images(name, pull_secret_name="airlock-pull"):
    return ImageConfig(
        name,
        ImageConfigArgs(
            policy=ImagePolicy.model_validate({"registry": {"to": "r.example.com"}, "pin": "off"}),
            requests=[ImageRequest("apps/web", "nginx:1.27", "apps")],
            credentials={"r.example.com": RegistryLoginInput("robot", pulumi.Output.secret("pw"))},
            pull_secret_name=pull_secret_name,
        ),
    )

images("team-a-images")
images("team-b-images", "{SECOND_NAME}")
"""


def plan(tmp_path, second_name: str):
    (tmp_path / "Pulumi.yaml").write_text("name: consumer\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(PROGRAM.replace("{SECOND_NAME}", second_name)))
    return record_program(tmp_path, "dev")


def test_two_image_configs_writing_one_secret_are_refused_naming_both(tmp_path):
    with pytest.raises(PlanError) as caught:
        plan(tmp_path, "airlock-pull")
    message = str(caught.value)
    assert (
        "Secret apps/airlock-pull (v1) is created by both airlock:index:ImageConfig team-a-images and "
        in message
    )
    assert "airlock:index:ImageConfig team-b-images" in message
    assert "ImageConfigArgs.pull_secret_name" in message
    registered = [r.name for r in caught.value.recording.resources]
    assert "team-b-images" not in registered and not any(n.startswith("team-b-") for n in registered)


def test_distinct_secret_names_coexist(tmp_path):
    recording = plan(tmp_path, "team-b-pull")
    names = sorted(
        r.inputs["metadata"]["name"] for r in recording.resources if r.type == "kubernetes:core/v1:Secret"
    )
    assert names == ["airlock-pull", "team-b-pull"]


def test_inside_a_platform_a_conflict_registers_nothing_at_all(monkeypatch):
    """The pull secret named like the registry's htpasswd Secret in its namespace."""
    values, secrets = stack_values("staging")
    values = copy.deepcopy(values)
    values["airlock:pullSecretName"] = "registry-auth"
    values["airlock:workloadImages"]["apps/agent"] = {
        "image": "ghcr.io/example/agent:1.0",
        "namespace": "airlock-system",
    }
    values["airlock:registryCredentials"] = {"ghcr.io": {"username": "bot", "password": "pw"}}
    run = plan_with_cli(monkeypatch, "staging", values, secrets | {"airlock:registryCredentials"})
    assert run.exit_code == 2, run.stderr
    assert "Secret airlock-system/registry-auth (v1) is created by both" in run.stderr
    assert "airlock:index:PrivateRegistry airlock-registry" in run.stderr
    assert "airlock:index:ImageConfig airlock-images" in run.stderr
    assert run.recording is not None and run.recording.resources == []


def test_the_same_object_on_two_clusters_is_not_a_conflict(tmp_path):
    """An ImageConfig on the host cluster and one on a tenant's cluster may both write apps/airlock-pull."""
    program = PROGRAM.replace(
        'images("team-b-images", "{SECOND_NAME}")',
        "import pulumi_kubernetes as k8s\n"
        'tenant = k8s.Provider("tenant-cluster", kubeconfig="{}")\n'
        'ImageConfig("tenant-images", ImageConfigArgs(\n'
        '    policy=ImagePolicy.model_validate({"registry": {"to": "r.example.com"}, "pin": "off"}),\n'
        '    requests=[ImageRequest("apps/web", "nginx:1.27", "apps")],\n'
        '    credentials={"r.example.com": RegistryLoginInput("robot", pulumi.Output.secret("pw"))},\n'
        "), opts=pulumi.ResourceOptions(provider=tenant))\n",
    )
    (tmp_path / "Pulumi.yaml").write_text("name: consumer\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(program))
    recording = record_program(tmp_path, "dev")
    secrets = [r for r in recording.resources if r.type == "kubernetes:core/v1:Secret"]
    assert len(secrets) == 2


def test_a_tenant_whose_service_would_replace_the_registrys_is_refused(monkeypatch):
    """vcluster names its Service after the release: tenant 'registry' in airlock-system."""
    values, secrets = stack_values("staging")
    values = copy.deepcopy(values)
    values["airlock:vcluster"]["tenants"].append({"name": "registry", "namespace": "airlock-system"})
    run = plan_with_cli(monkeypatch, "staging", values, secrets)
    assert run.exit_code == 2, run.stderr
    assert "Service airlock-system/registry (v1) is created by both" in run.stderr
    assert run.recording is not None and run.recording.resources == []


def test_two_resources_with_one_urn_stop_the_plan(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: twice\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi_kubernetes as k8s\n"
        "k8s.core.v1.Namespace('apps', metadata={'name': 'a'})\n"
        "k8s.core.v1.Namespace('apps', metadata={'name': 'b'})\n"
    )
    with pytest.raises(
        PlanError,
        match="two resources have the URN urn:pulumi:dev::twice::kubernetes:core/v1:Namespace::apps",
    ):
        record_program(tmp_path, "dev")


def test_image_config_refuses_a_table_with_inputs_it_would_ignore():
    from airlock import ImageConfigArgs, ImageRequest
    from airlock.image_config import _table
    from airlock.images.policy import ImagePolicy
    from airlock.images.table import build_table

    table = build_table([ImageRequest("apps/web", "nginx:1.27", "apps")], ImagePolicy(pin="off"), None)
    args = ImageConfigArgs(table=table, requests=[ImageRequest("apps/api", "nginx:1.27", "apps")])
    with pytest.raises(ValueError, match="give either table .* or policy/requests/lock"):
        _table(args)
    assert _table(ImageConfigArgs(table=table)) is table
