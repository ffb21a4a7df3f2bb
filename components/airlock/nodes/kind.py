"""A kind cluster for the dev stack (pure): the cluster config and the KEP-1755 ConfigMap, from
the same settings, in place of kind's local-registry shell recipe.

Read against kind v0.32.0: ``site/static/examples/kind-with-registry.sh`` and
``site/content/docs/user/local-registry.md`` (the recipe: a ``config_path`` patch, one
``hosts.toml`` per node, the registry container joined to the ``kind`` network, the ConfigMap),
``pkg/apis/config/v1alpha4/types.go`` (``containerdConfigPatches``, ``nodes[].extraMounts``,
``nodes[].image``) and ``images/base/files/etc/containerd/config.toml`` (``version = 2``, no
``config_path``; the image ships containerd 2.3.1, which migrates the version-2 CRI key).
KEP-1755 (kubernetes/enhancements ``keps/sig-cluster-lifecycle/generic/1755-communicating-a-
local-registry``): ``kube-public/local-registry-hosting``, key ``localRegistryHosting.v1``.

Instead of writing a hosts.toml into each running node (the recipe's ``docker exec`` loop),
the generated tree is mounted read-only at containerd's config_path on every node.
"""

from __future__ import annotations

from typing import Any

from ..yaml_io import dump_document
from .settings import CERTS_DIR, KindSettings

__all__ = [
    "KIND_NETWORK",
    "LOCAL_REGISTRY_HELP",
    "kind_config",
    "local_registry_configmap",
    "local_registry_hosting",
]

KIND_NETWORK = "kind"
"""The Docker network kind puts every cluster's nodes on (KIND_EXPERIMENTAL_DOCKER_NETWORK
changes it; airlock does not support that)."""
LOCAL_REGISTRY_HELP = "https://kind.sigs.k8s.io/docs/user/local-registry/"
CONFIG_PATCH = (
    # The version-2 CRI key, as kind's recipe writes it: kind's config.toml is version 2 and
    # containerd 2.x migrates the key (plugins/cri/images/plugin.go configMigration).
    f'[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "{CERTS_DIR}"\n'
)


def local_registry_hosting(host: str, cluster_address: str) -> str:
    """KEP-1755 ``localRegistryHosting.v1``: pods' image fields use ``host`` (the nodes'
    hosts.toml maps it to the registry container), pods that talk to the registry themselves
    use ``cluster_address`` (the container on the kind network)."""
    return dump_document(
        {
            "host": host,
            "hostFromContainerRuntime": host,
            "hostFromClusterNetwork": cluster_address,
            "help": LOCAL_REGISTRY_HELP,
        }
    )


def local_registry_configmap(host: str, cluster_address: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "local-registry-hosting", "namespace": "kube-public"},
        "data": {"localRegistryHosting.v1": local_registry_hosting(host, cluster_address)},
    }


def kind_config(settings: KindSettings, certs_host_path: str) -> dict[str, Any]:
    """``kind.x-k8s.io/v1alpha4`` Cluster: every node gets the generated tree at config_path."""

    def node(role: str) -> dict[str, Any]:  # a fresh mapping per node: no YAML aliases
        mount = {"hostPath": certs_host_path, "containerPath": CERTS_DIR, "readOnly": True}
        return {"role": role, "image": settings.node_image, "extraMounts": [mount]}

    nodes = [node("control-plane")] + [node("worker") for _ in range(settings.workers)]
    return {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "name": settings.cluster_name,
        "containerdConfigPatches": [CONFIG_PATCH],
        "nodes": nodes,
    }
