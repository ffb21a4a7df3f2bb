"""airlock: validate the stack's configuration, then compose the Platform and export its table."""

from pathlib import Path

import pulumi

from components.platform import Platform, PlatformArgs
from components.stack import credential_inputs, load

loaded = load(Path(__file__).resolve().parent)
platform = Platform(
    "airlock",
    PlatformArgs(
        config=loaded.config,
        lock=loaded.lock,
        credentials=credential_inputs(loaded.config),
        not_mirrored=loaded.not_mirrored,
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
