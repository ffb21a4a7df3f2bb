"""The parts of Envoy Gateway v1.9.0's chart values and CRDs that airlock's objects use.

Encoded by hand, our own statement of what we rely on; no upstream file is copied here.

- ``GATEWAY_HELM_VALUES``: ``charts/gateway-helm/values.tmpl.yaml`` at v1.9.0 (keys and types),
  the ``crds`` subchart's ``charts/gateway-helm/charts/crds/values.yaml`` for
  ``crds.gatewayAPI.safeUpgradePolicy``, and ``api/v1alpha1/envoygateway_types.go`` for what
  ``config.envoyGateway`` accepts (the chart renders it into the EnvoyGateway config the
  controller decodes). The chart has no values.schema.json; every object here is closed, so a
  key airlock emits that the chart does not read fails.
- ``GATEWAY_CRDS_VALUES``: ``charts/gateway-crds-helm/values.tmpl.yaml``.
- ``ENVOY_PROXY``, ``GATEWAY_CLASS``, ``GATEWAY``: ``openAPIV3Schema`` of
  ``charts/gateway-helm/charts/crds/crds/generated/gateway.envoyproxy.io_envoyproxies.yaml``
  (v1alpha1) and ``crds/gatewayapi-crds.yaml`` (Gateway API v1.6.1, version v1), limited to the
  fields airlock writes, with every ``x-kubernetes-validations`` CEL rule on the objects along
  those paths (the rule expressions are what the test evaluates; the EnvoyProxy has 13 there
  upstream, the Gateway 7, the GatewayClass 1, all transcribed) and their ``default``s.
"""

from __future__ import annotations

from typing import Any


def obj(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": properties}


STRING = {"type": "string"}
BOOLEAN = {"type": "boolean"}
PULL_POLICY = {"type": "string", "enum": ["", "Always", "IfNotPresent", "Never"]}
PULL_SECRETS = {"type": "array", "items": obj(name=STRING)}
IMAGE_VALUES = obj(image=STRING, pullPolicy=PULL_POLICY, pullSecrets=PULL_SECRETS)

GATEWAY_HELM_VALUES = obj(
    **{
        "global": obj(
            imageRegistry=STRING,
            imagePullSecrets=PULL_SECRETS,
            images=obj(envoyGateway=IMAGE_VALUES, ratelimit=IMAGE_VALUES, envoyProxy=IMAGE_VALUES),
        )
    },
    crds=obj(enabled=BOOLEAN, gatewayAPI=obj(safeUpgradePolicy=obj(enabled=BOOLEAN))),
    deployment=obj(
        envoyGateway=obj(
            image=obj(repository=STRING, tag=STRING),
            imagePullPolicy=PULL_POLICY,
            imagePullSecrets=PULL_SECRETS,
        )
    ),
    config=obj(
        envoyGateway=obj(
            provider=obj(
                type={"enum": ["Kubernetes"]},
                kubernetes=obj(deploy=obj(type={"enum": ["ControllerNamespace", "GatewayNamespace"]})),
            ),
            rateLimit=obj(backend=obj(type={"enum": ["Redis"]}, redis=obj(url=STRING))),
        )
    ),
    topologyInjector=obj(enabled=BOOLEAN),
    createNamespace=BOOLEAN,
)

GATEWAY_CRDS_VALUES = obj(
    crds=obj(
        gatewayAPI=obj(enabled=BOOLEAN, channel={"enum": ["standard", "experimental"]}),
        envoyGateway=obj(enabled=BOOLEAN),
    )
)

# -- CRDs (openAPIV3Schema form) -------------------------------------------------------------------


def crd_object(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


_IMAGE_RULES = {
    "type": "object",
    "properties": {
        "image": {
            "type": "string",
            "x-kubernetes-validations": [
                {
                    "message": "Image must include a tag and allowed characters only (e.g., 'repo:tag').",
                    "rule": "self.matches('^[a-zA-Z0-9._-]+(:[0-9]+)?(/[a-zA-Z0-9._/-]+)?(:[a-zA-Z0-9._-]+)?(@sha256:[a-z0-9]+)?$')",
                }
            ],
        },
        "imageRepository": {
            "type": "string",
            "x-kubernetes-validations": [
                {
                    "message": "ImageRepository must contain only allowed characters and must not include a tag.",
                    "rule": "self.matches('^[a-zA-Z0-9._-]+(:[0-9]+)?[a-zA-Z0-9._/-]+$')",
                }
            ],
        },
    },
    "x-kubernetes-validations": [
        {
            "message": "Either image or imageRepository can be set.",
            "rule": "!has(self.image) || !has(self.imageRepository)",
        }
    ],
}
_POD = crd_object(
    imagePullSecrets={
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"name": {"type": "string", "default": ""}},
            "x-kubernetes-map-type": "atomic",
        },
    }
)
_PATCH = {
    "type": "object",
    "required": ["value"],
    "properties": {"type": {"type": "string"}, "value": {"x-kubernetes-preserve-unknown-fields": True}},
}
_WORKLOAD = {
    "container": _IMAGE_RULES,
    "pod": _POD,
    "patch": _PATCH,
}

ENVOY_PROXY = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "apiVersion": STRING,
        "kind": STRING,
        "metadata": {"type": "object"},
        "spec": {
            "type": "object",
            "x-kubernetes-validations": [
                {
                    "message": "mergeGateways and mergeBackends cannot both be enabled",
                    "rule": "!(has(self.mergeGateways) && self.mergeGateways && has(self.mergeBackends))",
                }
            ],
            "properties": {
                "mergeGateways": BOOLEAN,
                "mergeBackends": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "mergeType": {"type": "string", "enum": ["Replace", "StrategicMerge", "JSONMerge"]},
                "provider": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": {"type": "string", "enum": ["Kubernetes", "Host"]},
                        "kubernetes": {
                            "type": "object",
                            "properties": {
                                "envoyDeployment": crd_object(
                                    **_WORKLOAD, replicas={"type": "integer", "format": "int32"}
                                ),
                                "envoyDaemonSet": crd_object(**_WORKLOAD),
                                "envoyService": {
                                    **crd_object(
                                        type={
                                            "type": "string",
                                            "enum": ["ClusterIP", "LoadBalancer", "NodePort"],
                                            "default": "LoadBalancer",
                                        },
                                        loadBalancerIP={
                                            "type": "string",
                                            "x-kubernetes-validations": [
                                                {
                                                    "message": "loadBalancerIP must be a valid IPv4 address",
                                                    "rule": r'self.matches(r"^((25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)$")',
                                                }
                                            ],
                                        },
                                        loadBalancerSourceRanges={"type": "array", "items": STRING},
                                        allocateLoadBalancerNodePorts=BOOLEAN,
                                    ),
                                    "x-kubernetes-validations": [
                                        {
                                            "message": "allocateLoadBalancerNodePorts can only be set for LoadBalancer type",
                                            "rule": "!has(self.allocateLoadBalancerNodePorts) || self.type == 'LoadBalancer'",
                                        },
                                        {
                                            "message": "loadBalancerSourceRanges can only be set for LoadBalancer type",
                                            "rule": "!has(self.loadBalancerSourceRanges) || self.type == 'LoadBalancer'",
                                        },
                                        {
                                            "message": "loadBalancerIP can only be set for LoadBalancer type",
                                            "rule": "!has(self.loadBalancerIP) || self.type == 'LoadBalancer'",
                                        },
                                    ],
                                },
                                "envoyHpa": {
                                    "type": "object",
                                    "required": ["maxReplicas"],
                                    "properties": {
                                        "minReplicas": {
                                            "type": "integer",
                                            "format": "int32",
                                            "x-kubernetes-validations": [
                                                {
                                                    "message": "minReplicas must be greater than 0",
                                                    "rule": "self > 0",
                                                }
                                            ],
                                        },
                                        "maxReplicas": {
                                            "type": "integer",
                                            "format": "int32",
                                            "x-kubernetes-validations": [
                                                {
                                                    "message": "maxReplicas must be greater than 0",
                                                    "rule": "self > 0",
                                                }
                                            ],
                                        },
                                    },
                                    "x-kubernetes-validations": [
                                        {
                                            "message": "maxReplicas cannot be less than minReplicas",
                                            "rule": "!has(self.minReplicas) || self.maxReplicas >= self.minReplicas",
                                        }
                                    ],
                                },
                            },
                            "x-kubernetes-validations": [
                                {
                                    "message": "only one of envoyDeployment or envoyDaemonSet can be specified",
                                    "rule": "((has(self.envoyDeployment) && !has(self.envoyDaemonSet)) || "
                                    "(!has(self.envoyDeployment) && has(self.envoyDaemonSet))) || "
                                    "(!has(self.envoyDeployment) && !has(self.envoyDaemonSet))",
                                },
                                {
                                    "message": "cannot use envoyHpa if envoyDaemonSet is used",
                                    "rule": "((has(self.envoyHpa) && !has(self.envoyDaemonSet)) || "
                                    "(!has(self.envoyHpa) && has(self.envoyDaemonSet))) || "
                                    "(!has(self.envoyHpa) && !has(self.envoyDaemonSet))",
                                },
                            ],
                        },
                    },
                },
            },
        },
    },
}

_GROUP = {
    "type": "string",
    "maxLength": 253,
    "pattern": r"^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
}
_KIND = {
    "type": "string",
    "maxLength": 63,
    "minLength": 1,
    "pattern": r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$",
}
_NAME = {"type": "string", "maxLength": 253, "minLength": 1}
_NAMESPACE = {
    "type": "string",
    "maxLength": 63,
    "minLength": 1,
    "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
}

GATEWAY_CLASS = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "apiVersion": STRING,
        "kind": STRING,
        "metadata": {"type": "object"},
        "spec": {
            "type": "object",
            "required": ["controllerName"],
            "properties": {
                "controllerName": {
                    "type": "string",
                    "maxLength": 253,
                    "minLength": 1,
                    "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9\/\-._~%!$&'()*+,;=:]+$",
                    "x-kubernetes-validations": [
                        {"message": "Value is immutable", "rule": "self == oldSelf"}
                    ],
                },
                "description": {"type": "string", "maxLength": 64},
                "parametersRef": {
                    "type": "object",
                    "required": ["group", "kind", "name"],
                    "properties": {"group": _GROUP, "kind": _KIND, "name": _NAME, "namespace": _NAMESPACE},
                },
            },
        },
    },
}

_HOSTNAME = {
    "type": "string",
    "maxLength": 253,
    "minLength": 1,
    "pattern": r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
}
_LISTENER = {
    "type": "object",
    "required": ["name", "port", "protocol"],
    "properties": {
        "name": {
            "type": "string",
            "maxLength": 253,
            "minLength": 1,
            "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
        },
        "hostname": _HOSTNAME,
        "port": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 65535},
        "protocol": {
            "type": "string",
            "maxLength": 255,
            "minLength": 1,
            "pattern": r"^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]+$",
        },
        "tls": {
            "type": "object",
            "properties": {
                "mode": {"type": "string", "enum": ["Terminate", "Passthrough"], "default": "Terminate"},
                "certificateRefs": {
                    "type": "array",
                    "maxItems": 64,
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {
                            "group": {**_GROUP, "default": ""},
                            "kind": {**_KIND, "default": "Secret"},
                            "name": _NAME,
                            "namespace": _NAMESPACE,
                        },
                    },
                },
                "options": {"type": "object", "maxProperties": 16, "additionalProperties": STRING},
            },
            "x-kubernetes-validations": [
                {
                    "message": "certificateRefs or options must be specified when mode is Terminate",
                    "rule": "self.mode == 'Terminate' ? size(self.certificateRefs) > 0 || size(self.options) > 0 : true",
                }
            ],
        },
        "allowedRoutes": {
            "type": "object",
            "default": {"namespaces": {"from": "Same"}},
            "properties": {
                "namespaces": {
                    "type": "object",
                    "default": {"from": "Same"},
                    "properties": {
                        "from": {"type": "string", "enum": ["All", "Selector", "Same"], "default": "Same"},
                        "selector": crd_object(
                            matchLabels={"type": "object", "additionalProperties": STRING},
                            matchExpressions={"type": "array"},
                        ),
                    },
                }
            },
        },
    },
}

GATEWAY = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "apiVersion": STRING,
        "kind": STRING,
        "metadata": {"type": "object"},
        "spec": {
            "type": "object",
            "required": ["gatewayClassName", "listeners"],
            "properties": {
                "gatewayClassName": {"type": "string", "maxLength": 253, "minLength": 1},
                "infrastructure": crd_object(
                    parametersRef={
                        "type": "object",
                        "required": ["group", "kind", "name"],
                        "properties": {"group": _GROUP, "kind": _KIND, "name": _NAME},
                    }
                ),
                "listeners": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 64,
                    "items": _LISTENER,
                    "x-kubernetes-validations": [
                        {
                            "message": "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
                            "rule": "self.all(l, l.protocol in ['HTTP', 'TCP', 'UDP'] ? !has(l.tls) : true)",
                        },
                        {
                            "message": "tls mode must be Terminate for protocol HTTPS",
                            "rule": "self.all(l, (l.protocol == 'HTTPS' && has(l.tls)) ? (l.tls.mode == '' || l.tls.mode == 'Terminate') : true)",
                        },
                        {
                            "message": "tls mode must be set for protocol TLS",
                            "rule": "self.all(l, (l.protocol == 'TLS' ? has(l.tls) && has(l.tls.mode) && l.tls.mode != '' : true))",
                        },
                        {
                            "message": "hostname must not be specified for protocols ['TCP', 'UDP']",
                            "rule": "self.all(l, l.protocol in ['TCP', 'UDP']  ? (!has(l.hostname) || l.hostname == '') : true)",
                        },
                        {
                            "message": "Listener name must be unique within the Gateway",
                            "rule": "self.all(l1, self.exists_one(l2, l1.name == l2.name))",
                        },
                        {
                            "message": "Combination of port, protocol and hostname must be unique for each listener",
                            "rule": "self.all(l1, self.exists_one(l2, l1.port == l2.port && l1.protocol == l2.protocol && (has(l1.hostname) && has(l2.hostname) ? l1.hostname == l2.hostname : !has(l1.hostname) && !has(l2.hostname))))",
                        },
                    ],
                },
            },
        },
    },
}

CUSTOM_RESOURCES: dict[tuple[str, str], dict[str, Any]] = {
    ("gateway.envoyproxy.io/v1alpha1", "EnvoyProxy"): ENVOY_PROXY,
    ("gateway.networking.k8s.io/v1", "GatewayClass"): GATEWAY_CLASS,
    ("gateway.networking.k8s.io/v1", "Gateway"): GATEWAY,
}
"""(apiVersion, kind) -> openAPIV3Schema, for every custom resource a stack declares."""
