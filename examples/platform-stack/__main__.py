"""A team stack that composes airlock's components: its own ImageConfig for its app images and a
vcluster tenant, pulling from the platform registry another airlock stack deployed.

The registry's address is plan-time config (the policy is decided before anything registers);
its login comes from the platform stack through a StackReference, as a secret Output.
"""

import pulumi
import pulumi_kubernetes as k8s
from helpers import app_requests

from airlock import (
    ImageConfig,
    ImageConfigArgs,
    ImagePolicy,
    RegistryLoginInput,
    TenantSettings,
    VClusterSettings,
    VirtualCluster,
    VirtualClusterArgs,
    vcluster_image_requests,
)

config = pulumi.Config()
platform = pulumi.StackReference(config.require("platformStack"))
registry = config.require("registry")
namespace = config.get("namespace") or "team-c-apps"

apps = k8s.core.v1.Namespace("team-c-apps", metadata={"name": namespace})
tenants = VClusterSettings(tenants=(TenantSettings(name="team-c"),))
tenant_namespace = k8s.core.v1.Namespace(
    "team-c-vcluster", metadata={"name": tenants.tenants[0].host_namespace}
)

images = ImageConfig(
    "team-c-images",
    ImageConfigArgs(
        policy=ImagePolicy.model_validate({"registry": {"to": registry}, "pin": "off"}),
        requests=[*app_requests(namespace), *vcluster_image_requests(tenants, {})],
        credentials={
            registry: RegistryLoginInput(
                username=platform.get_output("registry").apply(lambda value: value["username"]),
                password=platform.get_output("registryPassword"),
            )
        },
        namespace_resources={namespace: apps, tenants.tenants[0].host_namespace: tenant_namespace},
    ),
)
team_c = VirtualCluster(
    "team-c",
    VirtualClusterArgs(tenant=tenants.tenants[0], image_config=images, namespace_resource=tenant_namespace),
)

pulumi.export("apiImage", images.final("team-c/api"))
pulumi.export("pullSecrets", images.pull_secrets)
pulumi.export("connectCommand", team_c.connect_command)
pulumi.export("platformEnvironment", platform.get_output("environment"))
