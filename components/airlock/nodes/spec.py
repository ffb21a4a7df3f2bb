"""The NodeRegistryConfig objects (pure): a ConfigMap holding the hosts.toml tree and a
DaemonSet that writes it into every node's containerd config_path.

The DaemonSet copies the files (each through a temporary name and a rename, CA files first),
records what it wrote in ``<certs_dir>/.airlock-managed``, and on the next pass removes only
files listed there that the ConfigMap no longer holds: a node's own hosts.toml files are never
touched. containerd re-reads hosts.toml on every pull, so nothing restarts. It tolerates every
taint, so tainted and new nodes get the files too.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..images.policy import ResolvedImage
from .settings import DaemonSetSettings

if TYPE_CHECKING:
    from pulumi_kubernetes.apps.v1 import DaemonSetSpecArgsDict
    from pulumi_kubernetes.core.v1 import KeyToPathArgsDict
    from pulumi_kubernetes.meta.v1 import ObjectMetaArgsDict

__all__ = [
    "FILE_LIST",
    "MANAGED_LIST",
    "SYNC_SCRIPT",
    "TYPE_TOKEN",
    "ConfigMapData",
    "config_map_data",
    "daemon_set",
    "object_keys",
]

TYPE_TOKEN = "airlock:index:NodeRegistryConfig"
FILE_LIST = "airlock-files"
MANAGED_LIST = ".airlock-managed"
DESIRED = "/airlock/desired"
HOST_DIR = "/airlock/host"
CONTENT_ANNOTATION = "airlock/node-registry-sha256"

# POSIX sh (busybox ash, dash): the tests run it with /bin/sh against a temporary directory.
SYNC_SCRIPT = r"""set -eu
src="${AIRLOCK_DESIRED:-/airlock/desired}"
dest="${AIRLOCK_HOST_DIR:-/airlock/host}"
state="$dest/.airlock-managed"
safe() { case "$1" in ""|/*|..|../*|*/..|*/../*) return 1 ;; esac; }
sync_once() {
  mkdir -p "$dest"
  next="$state.next"
  : > "$next"
  while IFS= read -r file; do
    safe "$file" || continue
    mkdir -p "$dest/$(dirname "$file")"
    if ! cmp -s "$src/$file" "$dest/$file"; then
      cp "$src/$file" "$dest/$file.airlock-tmp"
      chmod 0644 "$dest/$file.airlock-tmp"
      mv -f "$dest/$file.airlock-tmp" "$dest/$file"
      echo "airlock: wrote $file"
    fi
    echo "$file" >> "$next"
  done < "$src/airlock-files"
  if [ -f "$state" ]; then
    while IFS= read -r old; do
      safe "$old" || continue
      if ! grep -qxF "$old" "$next"; then
        rm -f "$dest/$old"
        rmdir "$dest/$(dirname "$old")" 2>/dev/null || true
        echo "airlock: removed $old"
      fi
    done < "$state"
  fi
  mv -f "$next" "$state"
}
trap 'exit 0' TERM INT
while true; do
  sync_once
  [ -z "${AIRLOCK_ONCE:-}" ] || exit 0
  sleep "${AIRLOCK_RESYNC:-60}" &
  wait $! || true
done
"""


@dataclass(frozen=True)
class ConfigMapData:
    data: dict[str, str]
    items: list[KeyToPathArgsDict]
    """Volume items: ConfigMap keys allow neither '/' nor ':', the tree's paths need both."""
    digest: str
    """sha256 of the tree: a pod-template annotation, so a changed tree rolls the pods."""
    paths: list[str]
    """The tree's files, in the order they are written."""


def _key(index: int, path: str) -> str:
    return f"{index:03d}.{re.sub(r'[^-._a-zA-Z0-9]', '_', path)}"[:253]


def config_map_data(files: Mapping[str, str]) -> ConfigMapData:
    """The tree as ConfigMap keys plus the item paths, and the list the script walks (in the
    tree's order: CA files before the hosts.toml that names them)."""
    data: dict[str, str] = {}
    items: list[KeyToPathArgsDict] = []
    for index, (path, content) in enumerate(files.items()):
        key = _key(index, path)
        data[key] = content
        items.append({"key": key, "path": path})
    data[FILE_LIST] = "".join(f"{path}\n" for path in files)
    items.append({"key": FILE_LIST, "path": FILE_LIST})
    digest = hashlib.sha256(json.dumps(list(files.items())).encode()).hexdigest()
    return ConfigMapData(data, items, digest, list(files))


def labels_of(settings: DaemonSetSettings, labels: Mapping[str, str]) -> dict[str, str]:
    return {**labels, "app.kubernetes.io/name": settings.name, "app.kubernetes.io/component": "node-registry"}


def metadata(settings: DaemonSetSettings, labels: Mapping[str, str]) -> ObjectMetaArgsDict:
    return {"name": settings.name, "namespace": settings.namespace, "labels": labels_of(settings, labels)}


def daemon_set(
    settings: DaemonSetSettings,
    image: ResolvedImage,
    pull_secrets: Sequence[str],
    items: Any,
    digest: Any,
    labels: Mapping[str, str],
) -> DaemonSetSpecArgsDict:
    """The DaemonSet's spec. ``items`` and ``digest`` may be Outputs (the registry's CA exists
    only at deploy)."""
    selector = {"app.kubernetes.io/name": settings.name, "app.kubernetes.io/component": "node-registry"}
    resources = settings.resources
    return {
        "selector": {"match_labels": selector},
        "update_strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": "25%"}},
        "template": {
            "metadata": {"labels": labels_of(settings, labels), "annotations": {CONTENT_ANNOTATION: digest}},
            "spec": {
                # every node, tainted or not; before the workloads that pull through the mirrors
                "tolerations": [{"operator": "Exists"}],
                "priority_class_name": "system-node-critical",
                "automount_service_account_token": False,
                "enable_service_links": False,
                "termination_grace_period_seconds": 5,
                "image_pull_secrets": [{"name": name} for name in pull_secrets],
                "containers": [
                    {
                        "name": "sync",
                        "image": str(image.final),
                        "image_pull_policy": image.pull_policy,
                        "command": ["/bin/sh", "-c", SYNC_SCRIPT],
                        "env": [
                            {"name": "AIRLOCK_DESIRED", "value": DESIRED},
                            {"name": "AIRLOCK_HOST_DIR", "value": HOST_DIR},
                            {"name": "AIRLOCK_RESYNC", "value": str(settings.resync_seconds)},
                        ],
                        "resources": {
                            "requests": {"cpu": resources.cpu_request, "memory": resources.memory_request},
                            "limits": {"memory": resources.memory_limit},
                        },
                        # privileged: root alone cannot write a host /etc labelled for the host
                        # under SELinux (RHEL-family nodes); the root filesystem stays read-only.
                        "security_context": {
                            "privileged": True,
                            "run_as_user": 0,
                            "read_only_root_filesystem": True,
                        },
                        "volume_mounts": [
                            {"name": "desired", "mount_path": DESIRED, "read_only": True},
                            {"name": "certs", "mount_path": HOST_DIR},
                        ],
                    }
                ],
                "volumes": [
                    {"name": "desired", "config_map": {"name": settings.name, "items": items}},
                    {"name": "certs", "host_path": {"path": settings.certs_dir, "type": "DirectoryOrCreate"}},
                ],
            },
        },
    }


def object_keys(settings: DaemonSetSettings) -> list[tuple[str, str, str, str]]:
    return [
        ("v1", "ConfigMap", settings.namespace, settings.name),
        ("apps/v1", "DaemonSet", settings.namespace, settings.name),
    ]
