"""airlock: validate the stack's configuration, then compose the Platform and export its table."""

import gc
from pathlib import Path

import pulumi

from components.platform import Platform, PlatformArgs
from components.stack import credential_inputs, load

# A run is a short batch job that builds many thousands of objects (resources, Outputs, asyncio
# tasks). At Python's default young-generation threshold (700) the cyclic collector rescans them
# over and over: the cost per vcluster tenant grew from 16 ms at 10 tenants to 22 ms at 100.
# At 10,000 it stays linear (README, Performance); the extra memory is a few thousand objects.
gc.set_threshold(10_000, 10, 10)

loaded = load(Path(__file__).resolve().parent)
platform = Platform(
    "airlock",
    PlatformArgs(
        config=loaded.config,
        lock=loaded.lock,
        credentials=credential_inputs(loaded.config),
        not_mirrored=loaded.not_mirrored,
        secret_keys=loaded.secret_keys,
    ),
)

pulumi.export("environment", loaded.config.environment)
pulumi.export("images", platform.images)
pulumi.export("pullSecrets", platform.pull_secrets)
pulumi.export("namespaces", platform.namespaces)
pulumi.export("unmirroredImages", platform.image_config.unmirrored)
if platform.registry is not None:
    pulumi.export("registry", platform.registry_summary())
    if platform.registry.password is not None:
        pulumi.export("registryPassword", platform.registry.password)  # secret
        pulumi.export("registryPullSecretPayload", platform.registry.pull_secret_payload)  # secret
if platform.tenants:
    pulumi.export("tenants", platform.tenant_summary())
    pulumi.export(  # secret: one kubeconfig per tenant
        "tenantKubeconfigs",
        pulumi.Output.secret({tenant: cluster.kubeconfig for tenant, cluster in platform.tenants.items()}),
    )
