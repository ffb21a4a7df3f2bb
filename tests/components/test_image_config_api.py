"""ImageConfig used on its own, the way another stack composes it: consumers read each image
and pull secret in their own format at plan time, and a bad policy registers nothing."""

from __future__ import annotations

import textwrap

import pytest

from airlock.plan.engine import PlanError, record_program

PROGRAM = """
import pulumi
from airlock.image_config import ImageConfig, ImageConfigArgs, RegistryLoginInput
from airlock.vcluster.spec import registry_repository_tag
from airlock.images.policy import ImagePolicy
from airlock.images.table import ImageRequest

policy = ImagePolicy.model_validate({POLICY})
images = ImageConfig(
    "images",
    ImageConfigArgs(
        policy=policy,
        requests=[
            ImageRequest("vcluster/etcd", "registry.k8s.io/etcd:3.6.8-0", "tenant-a"),
            ImageRequest("apps/web", "nginx:1.27", "apps"),
        ],
        credentials={"r.example.com": RegistryLoginInput("robot", pulumi.Output.secret("pw"))},
    ),
)
pulumi.export("final", images.final("apps/web"))
pulumi.export("vcluster", registry_repository_tag(images.resolved("vcluster/etcd", "tenant-a")))
pulumi.export("objects", images.pull_secret_objects("apps"))
pulumi.export("names", images.pull_secret_names("apps"))
pulumi.export("elsewhere", images.pull_secret_names("other"))
"""


def plan(tmp_path, policy: str):
    (tmp_path / "Pulumi.yaml").write_text("name: consumer\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(PROGRAM.replace("{POLICY}", policy)))
    return record_program(tmp_path, "dev")


def test_consumers_read_images_and_pull_secrets_in_their_own_format(tmp_path):
    recording = plan(tmp_path, '{"registry": {"to": "r.example.com"}, "pin": "off"}')
    assert recording.outputs["final"] == "r.example.com/docker.io/library/nginx:1.27"
    assert recording.outputs["vcluster"] == {
        "registry": "r.example.com",
        "repository": "registry.k8s.io/etcd",
        "tag": "3.6.8-0",
    }
    assert recording.outputs["objects"] == [{"name": "airlock-pull"}]
    assert recording.outputs["names"] == ["airlock-pull"]
    assert recording.outputs["elsewhere"] == []
    secrets = [r for r in recording.resources if r.type == "kubernetes:core/v1:Secret"]
    assert sorted(r.inputs["metadata"]["namespace"] for r in secrets) == ["apps", "tenant-a"]


def test_a_bad_policy_registers_nothing(tmp_path):
    with pytest.raises(PlanError) as caught:
        plan(tmp_path, '{"pin": "required"}')
    assert "pin is 'required' but there is no digest" in str(caught.value)
    assert caught.value.recording.resources == []


def test_a_user_name_with_a_colon_registers_nothing(tmp_path):
    """It used to fail inside the Secret's payload, after the component had registered."""
    (tmp_path / "Pulumi.yaml").write_text("name: consumer\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    program = PROGRAM.replace("{POLICY}", '{"registry": {"to": "r.example.com"}, "pin": "off"}')
    (tmp_path / "__main__.py").write_text(textwrap.dedent(program.replace('"robot"', '"robot:ci"')))
    with pytest.raises(PlanError) as caught:
        record_program(tmp_path, "dev")
    assert "credentials['r.example.com'].username: 'robot:ci': must not contain ':'" in str(caught.value)
    assert caught.value.recording.resources == []


def test_a_standalone_tenant_with_a_password_in_its_values_gets_secret_chart_values(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: consumer\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(
        textwrap.dedent(
            """
            from airlock import (ImageConfig, ImageConfigArgs, ImagePolicy, TenantSettings, VClusterSettings,
                                 VirtualCluster, VirtualClusterArgs, vcluster_image_requests)
            tenant = TenantSettings(name="a", values={"controlPlane": {"backingStore": {"database": {
                "external": {"enabled": True, "dataSource": "mysql://root:pw-123456@tcp(db:3306)/vc"}}}}})
            settings = VClusterSettings(tenants=(tenant,))
            images = ImageConfig("images", ImageConfigArgs(policy=ImagePolicy(pin="off"),
                                                           requests=vcluster_image_requests(settings, {})))
            VirtualCluster("a", VirtualClusterArgs(tenant=tenant, image_config=images))
            """
        )
    )
    from pulumi.runtime import rpc

    recording = record_program(tmp_path, "dev")
    chart = next(r for r in recording.resources if r.type == "kubernetes:helm.sh/v4:Chart")
    assert rpc.is_rpc_secret(chart.inputs["values"])
