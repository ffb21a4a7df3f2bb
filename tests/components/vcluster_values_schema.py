"""The part of vcluster v0.36.1's strict values schema that airlock's generated values use.

Encoded by hand from the pinned chart's ``chart/values.schema.json`` (loft-sh/vcluster tag
v0.36.1; every object there has ``additionalProperties: false``). The upstream file is not
copied into this repository; this is our own statement of what we rely on, kept as strict as
upstream so that an unknown or misplaced key fails here as it would fail ``helm install``.
"""

from __future__ import annotations

from typing import Any


def obj(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": properties}


STRING = {"type": "string"}
BOOLEAN = {"type": "boolean"}
BOOL_OR_AUTO = {"oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["auto"]}]}
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
IMAGE = obj(registry=STRING, repository=STRING, tag=STRING)
PULL_SECRETS = {"type": "array", "items": obj(name=STRING)}
SELECTOR = obj(matchLabels=STRING_MAP, matchExpressions={"type": "array"})
RESOURCES = obj(limits={"type": "object"}, requests={"type": "object"})

FROM_HOST = obj(
    **{
        key: obj(enabled=BOOLEAN, selector=SELECTOR)
        for key in ("ingressClasses", "gatewayClasses", "priorityClasses", "runtimeClasses")
    },
    storageClasses=obj(enabled=BOOL_OR_AUTO, selector=SELECTOR),
    **{key: obj(enabled=BOOL_OR_AUTO) for key in ("csiDrivers", "csiNodes", "csiStorageCapacities")},
    **{key: obj(enabled=BOOLEAN) for key in ("events", "volumeSnapshotClasses")},
    deviceClasses=obj(enabled=BOOLEAN, selector=SELECTOR),
    **{key: obj(enabled=BOOLEAN, mappings=obj(byName=STRING_MAP)) for key in ("configMaps", "secrets")},
)
TO_HOST_SIMPLE = (
    "ingresses",
    "networkPolicies",
    "persistentVolumes",
    "persistentVolumeClaims",
    "podDisruptionBudgets",
    "priorityClasses",
    "serviceAccounts",
    "storageClasses",
    "volumeSnapshots",
    "volumeSnapshotContents",
    "configMaps",
    "secrets",
    "services",
    "endpoints",
)
TO_HOST = obj(
    pods=obj(translateImage=STRING_MAP, rewriteHosts=obj(enabled=BOOLEAN, initContainer=obj(image=IMAGE))),
    **{key: obj(enabled=BOOLEAN) for key in TO_HOST_SIMPLE},
)
SERVICE_ACCOUNT = obj(imagePullSecrets=PULL_SECRETS, enabled=BOOLEAN, name=STRING)

VALUES_SCHEMA = obj(
    exportKubeConfig=obj(context=STRING, server=STRING, insecure=BOOLEAN),
    controlPlane=obj(
        advanced=obj(
            defaultImageRegistry=STRING,
            serviceAccount=SERVICE_ACCOUNT,
            workloadServiceAccount=SERVICE_ACCOUNT,
        ),
        coredns=obj(deployment=obj(image=STRING)),
        statefulSet=obj(image=IMAGE, imagePullPolicy=STRING, resources=RESOURCES),
        distro=obj(k8s=obj(image=IMAGE, imagePullPolicy=STRING)),
        backingStore=obj(
            etcd=obj(
                deploy=obj(
                    enabled=BOOLEAN, statefulSet=obj(enabled=BOOLEAN, image=IMAGE, imagePullPolicy=STRING)
                )
            )
        ),
    ),
    sync=obj(fromHost=FROM_HOST, toHost=TO_HOST),
)
