"""The ImageSync objects (pure): a ConfigMap of the shards' sync configurations and scripts (and
the registries' CA files), a dockerconfigjson Secret with the logins, and a CronJob whose
Indexed Job runs one shard per pod.

The pod runs skopeo as a non-root user on a read-only root filesystem (skopeo writes only its
blob-info cache under ``$HOME`` and temporary files under ``$TMPDIR``: two emptyDirs), with no
service account token and every capability dropped. ``JOB_COMPLETION_INDEX`` (set by the Job
controller for Indexed Jobs) selects the shard's script. A Job on demand:
``kubectl create job --from=cronjob/<name> <name>-now -n <namespace>``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import yaml

from ..images.policy import ResolvedImage
from ..oci.sync import Shard, Trust
from .settings import ImageSyncSettings

if TYPE_CHECKING:
    from pulumi_kubernetes.batch.v1 import CronJobSpecArgsDict
    from pulumi_kubernetes.meta.v1 import ObjectMetaArgsDict

__all__ = [
    "AUTHFILE",
    "AUTH_DIR",
    "AUTH_KEY",
    "CERT_ROOT",
    "COMPONENT_LABEL",
    "CONFIG_DIR",
    "TYPE_TOKEN",
    "ca_keys",
    "config_data",
    "cron_job_spec",
    "metadata",
    "object_keys",
]

TYPE_TOKEN = "airlock:index:ImageSync"
CONFIG_DIR = "/etc/airlock/sync"
CERT_ROOT = "/etc/airlock/certs"
AUTH_DIR = "/var/run/airlock/auth"
AUTH_KEY = "auth.json"
AUTHFILE = f"{AUTH_DIR}/{AUTH_KEY}"
"""skopeo's auth file: pull logins for the sources, the push login for the destination. An
Opaque Secret, not a dockerconfigjson one: it holds a push credential and must never be
mistaken for (or used as) a pod's pull secret."""
COMPONENT_LABEL = {"airlock/component": "image-sync"}
"""On every sync pod: a NetworkPolicy admitting the registry's writers selects it."""
CONFIG_ANNOTATION = "airlock/image-sync-sha256"


def ca_keys(trust: Mapping[str, Trust]) -> dict[str, str]:
    """ConfigMap key -> registry host of each CA file (mounted as ``<host>/ca.crt``)."""
    hosts = sorted(host for host, found in trust.items() if found.ca and not found.insecure)
    return {f"ca-{index}.crt": host for index, host in enumerate(hosts)}


def config_data(shards: Sequence[Shard], trust: Mapping[str, Trust]) -> dict[str, str]:
    """The ConfigMap's sync configurations and one script per shard (CA files come apart)."""
    data: dict[str, str] = {}
    for shard in shards:
        for name, document in shard.files().items():
            data[name] = yaml.safe_dump(document, sort_keys=True)
        data[f"shard-{shard.index}.sh"] = shard.script(
            config_dir=CONFIG_DIR, cert_root=CERT_ROOT, authfile=AUTHFILE, trust=trust
        )
    return data


def cron_job_spec(
    settings: ImageSyncSettings,
    *,
    image: ResolvedImage,
    pull_secrets: list[dict[str, str]],
    shards: int,
    data: Mapping[str, str],
    cas: Mapping[str, str],
    labels: Mapping[str, str],
) -> CronJobSpecArgsDict:
    """The CronJob's spec (``batch/v1``); ``cas``: ConfigMap key -> host of each CA file."""
    resources = settings.resources
    pod_labels = {**labels, **COMPONENT_LABEL}
    digest = hashlib.sha256(json.dumps(dict(data), sort_keys=True).encode()).hexdigest()
    volumes: list[dict[str, Any]] = [
        {
            "name": "config",
            "configMap": {
                "name": settings.name,
                "items": [{"key": key, "path": key} for key in sorted(data)],
            },
        },
        {"name": "auth", "secret": {"secretName": f"{settings.name}-auth"}},
        {"name": "home", "emptyDir": {}},
        {"name": "tmp", "emptyDir": {}},
    ]
    mounts: list[dict[str, Any]] = [
        {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
        {"name": "auth", "mountPath": AUTH_DIR, "readOnly": True},
        {"name": "home", "mountPath": "/home/sync"},
        {"name": "tmp", "mountPath": "/var/tmp"},
    ]
    if cas:
        volumes.append(
            {
                "name": "certs",
                "configMap": {
                    "name": settings.name,
                    "items": [{"key": key, "path": f"{host}/ca.crt"} for key, host in sorted(cas.items())],
                },
            }
        )
        mounts.append({"name": "certs", "mountPath": CERT_ROOT, "readOnly": True})
    container = {
        "name": "skopeo",
        "image": str(image.final),
        "imagePullPolicy": image.pull_policy,
        "command": ["/bin/sh", "-c", f'exec /bin/sh "{CONFIG_DIR}/shard-${{JOB_COMPLETION_INDEX}}.sh"'],
        "env": [{"name": "HOME", "value": "/home/sync"}, {"name": "TMPDIR", "value": "/var/tmp"}],
        "resources": {
            "requests": {"cpu": resources.cpu_request, "memory": resources.memory_request},
            "limits": {"memory": resources.memory_limit},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": mounts,
    }
    pod: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 1000,
            "runAsGroup": 1000,
            "fsGroup": 1000,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": volumes,
    }
    if pull_secrets:
        pod["imagePullSecrets"] = pull_secrets
    spec: dict[str, Any] = {
        "schedule": settings.schedule,
        "timeZone": "Etc/UTC",
        "concurrencyPolicy": "Forbid",
        "suspend": settings.suspend,
        "startingDeadlineSeconds": 3600,
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 3,
        "jobTemplate": {
            "metadata": {"labels": pod_labels},
            "spec": {
                "completionMode": "Indexed",
                "completions": shards,
                "parallelism": shards,
                # per index: one shard's failures never fail the other shards (beta and on by
                # default since Kubernetes 1.29, GA in 1.33)
                "backoffLimitPerIndex": settings.backoff_limit,
                "activeDeadlineSeconds": settings.active_deadline_seconds,
                "ttlSecondsAfterFinished": settings.ttl_seconds_after_finished,
                "template": {
                    "metadata": {"labels": pod_labels, "annotations": {CONFIG_ANNOTATION: digest}},
                    "spec": pod,
                },
            },
        },
    }
    return cast("CronJobSpecArgsDict", spec)


def metadata(name: str, namespace: str, labels: Mapping[str, str]) -> ObjectMetaArgsDict:
    return {"name": name, "namespace": namespace, "labels": dict(labels)}


def object_keys(settings: ImageSyncSettings) -> list[tuple[str, str, str, str]]:
    namespace, name = settings.namespace, settings.name
    return [
        ("v1", "ConfigMap", namespace, name),
        ("v1", "Secret", namespace, f"{name}-auth"),
        ("batch/v1", "CronJob", namespace, name),
    ]
