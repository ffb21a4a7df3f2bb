"""The NodeRegistryConfig objects (pure): a ConfigMap holding the hosts.toml tree (a Secret the
files that carry a registry login) and a DaemonSet that writes it into every node's containerd
config_path.

The DaemonSet copies the files (each through a temporary name and a rename, CA files first),
records what it wrote in ``<certs_dir>/.airlock-managed-<name>`` (one list per DaemonSet), and
on the next pass removes only files listed there that the tree no longer holds. A node's own
file at a path the tree writes is kept as ``<file>.airlock-orig`` and restored when the tree
stops writing that path. hosts.toml files are 0600 (one may carry a registry login, from the
Secret half of the tree), CA files 0644. containerd re-reads hosts.toml on every pull, so
nothing restarts. It tolerates every taint, so tainted and new nodes get the files too.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
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
    "TreeData",
    "daemon_set",
    "object_keys",
    "tree_data",
    "volume_sources",
]

TYPE_TOKEN = "airlock:index:NodeRegistryConfig"
FILE_LIST = "airlock-files"
MANAGED_LIST = ".airlock-managed-"
"""Prefix of the per-DaemonSet list of written files (``.airlock-managed-<name>``)."""
DESIRED = "/airlock/desired"
HOST_DIR = "/airlock/host"
CONTENT_ANNOTATION = "airlock/node-registry-sha256"

# POSIX sh (busybox ash, dash): the tests run it with /bin/sh against a temporary directory.
SYNC_SCRIPT = r"""set -eu
src="${AIRLOCK_DESIRED:-/airlock/desired}"
dest="${AIRLOCK_HOST_DIR:-/airlock/host}"
state="$dest/.airlock-managed-${AIRLOCK_NAME:-airlock}"
safe() { case "$1" in ""|/*|..|../*|*/..|*/../*|.airlock-managed*) return 1 ;; esac; }
sync_once() {
  mkdir -p "$dest"
  [ -e "$state" ] || : > "$state"
  next="$state.next"
  : > "$next"
  while IFS= read -r file; do
    safe "$file" || continue
    mkdir -p "$dest/$(dirname "$file")"
    if ! grep -qxF "$file" "$state" && [ -e "$dest/$file" ] && [ ! -e "$dest/$file.airlock-orig" ]; then
      mv "$dest/$file" "$dest/$file.airlock-orig"  # the node's own file, restored on removal
      echo "airlock: kept the node's $file as $file.airlock-orig"
    fi
    if ! cmp -s "$src/$file" "$dest/$file"; then
      cp "$src/$file" "$dest/$file.airlock-tmp"
      mode=0644
      case "$file" in *.toml) mode=0600 ;; esac
      chmod "$mode" "$dest/$file.airlock-tmp"
      mv -f "$dest/$file.airlock-tmp" "$dest/$file"
      echo "airlock: wrote $file"
    fi
    echo "$file" >> "$next"
  done < "$src/airlock-files"
  while IFS= read -r old; do
    safe "$old" || continue
    if ! grep -qxF "$old" "$next"; then
      if [ -e "$dest/$old.airlock-orig" ]; then
        mv -f "$dest/$old.airlock-orig" "$dest/$old"
        echo "airlock: restored the node's $old"
      else
        rm -f "$dest/$old"
        rmdir "$dest/$(dirname "$old")" 2>/dev/null || true
        echo "airlock: removed $old"
      fi
    fi
  done < "$state"
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
class TreeData:
    config_map: dict[str, str]
    """Public files (CA certificates, hosts.toml without a login) and the file list."""
    config_items: list[KeyToPathArgsDict]
    """Volume items: ConfigMap keys allow neither '/' nor ':', the tree's paths need both."""
    secret: dict[str, str]
    """hosts.toml files with an Authorization header (empty when no mirror needs a login)."""
    secret_items: list[KeyToPathArgsDict]
    digest: str
    """sha256 of the public part of the tree: a pod-template annotation, so a changed tree rolls
    the pods (a changed login reaches the nodes at the next resync, without a hash of it)."""
    paths: list[str]
    """The tree's files, in the order they are written."""


def _key(path: str) -> str:
    """A ConfigMap/Secret key for a path: readable, unique (a hash of the path: ``a:1`` and
    ``a_1`` differ), and the same whatever else the tree holds, so a new file is one new key."""
    digest = hashlib.sha256(path.encode()).hexdigest()[:8]
    return f"{re.sub(r'[^-._a-zA-Z0-9]', '_', path)[:240]}.{digest}"


def tree_data(files: Mapping[str, str], private: Iterable[str] = ()) -> TreeData:
    """The tree split into a ConfigMap and a Secret (``private`` paths), the volume items that
    put each file at its path, and the list the script walks (in the tree's order: CA files
    before the hosts.toml that names them)."""
    private = set(private)
    config_map: dict[str, str] = {}
    secret: dict[str, str] = {}
    config_items: list[KeyToPathArgsDict] = []
    secret_items: list[KeyToPathArgsDict] = []
    for path, content in files.items():
        key = _key(path)
        (secret if path in private else config_map)[key] = content
        (secret_items if path in private else config_items).append({"key": key, "path": path})
    config_map[FILE_LIST] = "".join(f"{path}\n" for path in files)
    config_items.append({"key": FILE_LIST, "path": FILE_LIST})
    public = [(path, content) for path, content in files.items() if path not in private]
    digest = hashlib.sha256(json.dumps([public, sorted(private)]).encode()).hexdigest()
    return TreeData(config_map, config_items, secret, secret_items, digest, list(files))


def labels_of(settings: DaemonSetSettings, labels: Mapping[str, str]) -> dict[str, str]:
    return {**labels, "app.kubernetes.io/name": settings.name, "app.kubernetes.io/component": "node-registry"}


def metadata(settings: DaemonSetSettings, labels: Mapping[str, str]) -> ObjectMetaArgsDict:
    return {"name": settings.name, "namespace": settings.namespace, "labels": labels_of(settings, labels)}


def daemon_set(
    settings: DaemonSetSettings,
    image: ResolvedImage,
    pull_secrets: Sequence[str],
    sources: Any,
    digest: Any,
    labels: Mapping[str, str],
) -> DaemonSetSpecArgsDict:
    """The DaemonSet's spec. ``sources`` (the projected volume's ConfigMap and Secret items) and
    ``digest`` may be Outputs (the registry's CA exists only at deploy)."""
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
                "priority_class_name": settings.priority_class_name,
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
                            {"name": "AIRLOCK_NAME", "value": settings.name},
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
                    {"name": "desired", "projected": {"sources": sources}},
                    {"name": "certs", "host_path": {"path": settings.certs_dir, "type": "DirectoryOrCreate"}},
                ],
            },
        },
    }


def volume_sources(settings: DaemonSetSettings, tree: TreeData) -> list[dict[str, Any]]:
    sources: list[dict[str, Any]] = [{"config_map": {"name": settings.name, "items": tree.config_items}}]
    if tree.secret_items:
        sources.append({"secret": {"name": settings.name, "items": tree.secret_items}})
    return sources


def object_keys(settings: DaemonSetSettings, with_secret: bool = False) -> list[tuple[str, str, str, str]]:
    keys = [
        ("v1", "ConfigMap", settings.namespace, settings.name),
        ("apps/v1", "DaemonSet", settings.namespace, settings.name),
    ]
    return keys + ([("v1", "Secret", settings.namespace, settings.name)] if with_secret else [])
