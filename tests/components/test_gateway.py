"""Envoy Gateway in every stack: chart values the pinned chart reads, EnvoyProxy/GatewayClass/
Gateway objects its CRDs admit (structural schema and CEL rules, evaluated with cel-python),
every image through the policy (proxy pods included), pull secrets wherever gateway pods run,
the Helm hooks helm.v4.Chart drops (certgen) created by airlock, and a gateway inside a
vcluster tenant on the tenant's provider.

Guards the Envoy Gateway failures users report: proxies pulling docker.io/envoyproxy/envoy with
no secret because global.images.envoyProxy.image was left empty (gateway#8323), a digest
mangled by the repository/tag split, imageRepository silently replacing a pinned tag,
image and imageRepository both set, an EnvoyProxy without mergeType dropping the pull
secrets, pull secrets missing in Gateway namespaces, a controller that never starts because
the certgen hook did not run.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest

from airlock.images.reference import parse
from airlock.plan.engine import Recording
from airlock.plan.manifests import kubernetes_objects, unwrap_secrets
from tests.support.crd import rules_of, validate_custom_resource

from .conftest import STACKS, run_stack, stack_values
from .gateway_schemas import (
    CUSTOM_RESOURCES,
    ENVOY_PROXY,
    GATEWAY,
    GATEWAY_CLASS,
    GATEWAY_CRDS_VALUES,
    GATEWAY_HELM_VALUES,
)

REGISTRY_HOSTS = {"staging": "registry.staging.example.com", "prod": "registry.prod.example.com"}
GATEWAY_TYPE = "airlock:index:Gateway"


def gateway_resources(recording: Recording) -> list[Any]:
    return [r for r in recording.resources if f"${GATEWAY_TYPE}$" in r.urn]


def chart(recording: Recording, suffix: str) -> dict[str, Any]:
    (found,) = [
        unwrap_secrets(r.inputs)
        for r in gateway_resources(recording)
        if r.type == "kubernetes:helm.sh/v4:Chart" and r.name.endswith(suffix)
    ]
    return found


def objects(recording: Recording, kind: str) -> list[dict[str, Any]]:
    return [o for o in kubernetes_objects(recording) if o["kind"] == kind]


def eg_image(value: str, image_registry: str = "") -> str:
    """The chart's join of ``global.images.*.image`` (v1.9.0 templates/_helpers.tpl, eg.image):
    split at the first '/', then the rest at the first ':', and join with '/' and ':'."""
    registry, _, rest = value.partition("/")
    repository, _, tag = rest.partition(":")
    return f"{image_registry or registry}/{repository}:{tag}"


def table_rows(recording: Recording) -> list[dict[str, Any]]:
    (config,) = recording.of_type("airlock:index:ImageConfig")
    return [row for row in config.outputs["images"] if row["consumer"] == "envoy-gateway"]


# -- values ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", STACKS)
def test_chart_values_are_keys_the_pinned_chart_reads(recordings, stack):
    main = chart(recordings[stack], "-chart")
    assert main["chart"] == "oci://docker.io/envoyproxy/gateway-helm" and main["version"] == "v1.9.0"
    assert main["name"] == "eg" and main["namespace"] == "envoy-gateway-system"
    errors = list(jsonschema.Draft202012Validator(GATEWAY_HELM_VALUES).iter_errors(main["values"]))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    crds = chart(recordings[stack], "-crds")
    assert crds["chart"] == "oci://docker.io/envoyproxy/gateway-crds-helm" and crds["version"] == "v1.9.0"
    assert not list(jsonschema.Draft202012Validator(GATEWAY_CRDS_VALUES).iter_errors(crds["values"]))
    assert main["values"]["crds"]["enabled"] is False  # the separate chart installs them


def test_the_values_schema_refuses_a_key_the_chart_does_not_read(recordings):
    values = copy.deepcopy(chart(recordings["dev"], "-chart")["values"])
    values["global"]["images"]["envoyProxy"]["imagePullPolicy"] = "Always"  # not the chart's name
    assert list(jsonschema.Draft202012Validator(GATEWAY_HELM_VALUES).iter_errors(values))


@pytest.mark.parametrize("stack", STACKS)
def test_every_image_value_passes_the_charts_split_and_join_unchanged(recordings, stack):
    values = chart(recordings[stack], "-chart")["values"]
    assert values["global"]["imageRegistry"] == ""
    assert values["deployment"]["envoyGateway"]["image"] == {"repository": "", "tag": ""}
    images = values["global"]["images"]
    assert images["envoyProxy"]["image"], "never empty: proxies would pull docker.io with no secret"
    assert images["envoyProxy"]["pullPolicy"] == ""  # the controller drops it; the patch carries it
    for entry in images.values():
        assert eg_image(entry["image"]) == entry["image"]
        assert str(parse(entry["image"])) == entry["image"]  # a valid, canonical reference


# -- custom resources: schema and CEL ---------------------------------------------------------------
@pytest.mark.parametrize("stack", STACKS)
def test_envoy_proxy_gateway_class_and_gateway_pass_their_crds(recordings, stack):
    seen = set()
    for manifest in kubernetes_objects(recordings[stack]):
        schema = CUSTOM_RESOURCES.get((manifest["apiVersion"], manifest["kind"]))
        if schema is not None:
            assert validate_custom_resource(schema, manifest) == []
            seen.add(manifest["kind"])
    assert seen == {"EnvoyProxy", "GatewayClass", "Gateway"}


def _proxy(recordings) -> dict[str, Any]:
    return objects(recordings["prod"], "EnvoyProxy")[0]


def _gateway(recordings) -> dict[str, Any]:
    return objects(recordings["staging"], "Gateway")[0]


def _container(proxy: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = proxy["spec"]["provider"]["kubernetes"]["envoyDeployment"]["container"]
    return container


def _listeners(gateway: dict[str, Any]) -> list[dict[str, Any]]:
    listeners: list[dict[str, Any]] = gateway["spec"]["listeners"]
    return listeners


def both_image_fields(proxy):
    _container(proxy)["imageRepository"] = "registry.prod.example.com/envoy"


def sha512_image(proxy):
    _container(proxy)["image"] = "registry.prod.example.com/envoy:v1@sha512:" + "ab" * 64


def repository_with_tag(proxy):
    _container(proxy).pop("image")
    _container(proxy)["imageRepository"] = "registry.prod.example.com/envoy:v1"


def deployment_and_daemonset(proxy):
    kubernetes = proxy["spec"]["provider"]["kubernetes"]
    kubernetes["envoyDaemonSet"] = copy.deepcopy(kubernetes["envoyDeployment"])
    kubernetes["envoyDaemonSet"].pop("replicas", None)


def _kubernetes(proxy) -> dict[str, Any]:
    kubernetes: dict[str, Any] = proxy["spec"]["provider"]["kubernetes"]
    return kubernetes


def merge_gateways_and_backends(proxy):
    proxy["spec"].update(mergeGateways=True, mergeBackends={})


def hpa_with_daemonset(proxy):
    deployment_and_daemonset(proxy)
    _kubernetes(proxy).pop("envoyDeployment")
    _kubernetes(proxy)["envoyHpa"] = {"maxReplicas": 3}


def hpa_max_below_min(proxy):
    _kubernetes(proxy)["envoyHpa"] = {"minReplicas": 4, "maxReplicas": 3}


def hpa_min_zero(proxy):
    _kubernetes(proxy)["envoyHpa"] = {"minReplicas": 0, "maxReplicas": 3}


def hpa_max_zero(proxy):
    _kubernetes(proxy)["envoyHpa"] = {"maxReplicas": 0}


def node_port_with_load_balancer_ip(proxy):
    _kubernetes(proxy)["envoyService"] = {"type": "NodePort", "loadBalancerIP": "10.0.0.10"}


def node_port_with_source_ranges(proxy):
    _kubernetes(proxy)["envoyService"] = {"type": "NodePort", "loadBalancerSourceRanges": ["10.0.0.0/8"]}


def cluster_ip_allocating_node_ports(proxy):
    _kubernetes(proxy)["envoyService"] = {"type": "ClusterIP", "allocateLoadBalancerNodePorts": False}


def load_balancer_ip_not_ipv4(proxy):
    _kubernetes(proxy)["envoyService"] = {"loadBalancerIP": "10.0.0.300"}  # type defaults to LoadBalancer


def tls_on_http(gateway):
    http = next(listener for listener in _listeners(gateway) if listener["protocol"] == "HTTP")
    http["tls"] = {"mode": "Terminate", "certificateRefs": [{"name": "x"}]}


def passthrough_https(gateway):
    https = next(listener for listener in _listeners(gateway) if listener["protocol"] == "HTTPS")
    https["tls"]["mode"] = "Passthrough"


def tls_without_mode(gateway):
    _listeners(gateway).append({"name": "tls", "protocol": "TLS", "port": 8443})


def hostname_on_tcp(gateway):
    _listeners(gateway).append({"name": "tcp", "protocol": "TCP", "port": 9000, "hostname": "a.example.com"})


def repeated_name(gateway):
    _listeners(gateway).append({**_listeners(gateway)[0], "port": 8080})


def repeated_port(gateway):
    _listeners(gateway).append({**_listeners(gateway)[0], "name": "again"})


def no_certificates(gateway):
    https = next(listener for listener in _listeners(gateway) if listener["protocol"] == "HTTPS")
    https["tls"]["certificateRefs"] = []


BAD_OBJECTS = [
    (_proxy, both_image_fields, "Either image or imageRepository can be set."),
    (_proxy, sha512_image, "Image must include a tag and allowed characters only (e.g., 'repo:tag')."),
    (
        _proxy,
        repository_with_tag,
        "ImageRepository must contain only allowed characters and must not include a tag.",
    ),
    (_proxy, deployment_and_daemonset, "only one of envoyDeployment or envoyDaemonSet can be specified"),
    (_proxy, merge_gateways_and_backends, "mergeGateways and mergeBackends cannot both be enabled"),
    (_proxy, hpa_with_daemonset, "cannot use envoyHpa if envoyDaemonSet is used"),
    (_proxy, hpa_max_below_min, "maxReplicas cannot be less than minReplicas"),
    (_proxy, hpa_min_zero, "minReplicas must be greater than 0"),
    (_proxy, hpa_max_zero, "maxReplicas must be greater than 0"),
    (_proxy, node_port_with_load_balancer_ip, "loadBalancerIP can only be set for LoadBalancer type"),
    (_proxy, node_port_with_source_ranges, "loadBalancerSourceRanges can only be set for LoadBalancer type"),
    (
        _proxy,
        cluster_ip_allocating_node_ports,
        "allocateLoadBalancerNodePorts can only be set for LoadBalancer type",
    ),
    (_proxy, load_balancer_ip_not_ipv4, "loadBalancerIP must be a valid IPv4 address"),
    (_gateway, tls_on_http, "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']"),
    (_gateway, passthrough_https, "tls mode must be Terminate for protocol HTTPS"),
    (_gateway, tls_without_mode, "tls mode must be set for protocol TLS"),
    (_gateway, hostname_on_tcp, "hostname must not be specified for protocols ['TCP', 'UDP']"),
    (_gateway, repeated_name, "Listener name must be unique within the Gateway"),
    (_gateway, repeated_port, "Combination of port, protocol and hostname must be unique for each listener"),
    (_gateway, no_certificates, "certificateRefs or options must be specified when mode is Terminate"),
]


@pytest.mark.parametrize(
    ("base", "damage", "message"), BAD_OBJECTS, ids=[case[1].__name__ for case in BAD_OBJECTS]
)
def test_each_cel_rule_rejects_a_bad_object(recordings, base, damage, message):
    manifest = copy.deepcopy(base(recordings))
    schema = CUSTOM_RESOURCES[(manifest["apiVersion"], manifest["kind"])]
    assert validate_custom_resource(schema, manifest) == []
    damage(manifest)
    errors = validate_custom_resource(schema, manifest)
    assert [error.message for error in errors if error.rule] == [message], errors


def test_every_transcribed_cel_rule_is_exercised():
    """Every rule the schemas carry (but the transition rule on an immutable field) has a bad
    object above that it rejects; and the schemas carry every rule upstream has on the objects
    along airlock's paths (counted in the v1.9.0 CRDs: 13 distinct on the EnvoyProxy, 7 on the
    Gateway, 1 on the GatewayClass)."""
    counts = {
        name: len({m for _, _, m in rules_of(schema)})
        for name, schema in (
            ("EnvoyProxy", ENVOY_PROXY),
            ("Gateway", GATEWAY),
            ("GatewayClass", GATEWAY_CLASS),
        )
    }
    assert counts == {"EnvoyProxy": 13, "Gateway": 7, "GatewayClass": 1}
    rules = {
        message
        for schema in (ENVOY_PROXY, GATEWAY, GATEWAY_CLASS)
        for _, rule, message in rules_of(schema)
        if "oldSelf" not in rule
    }
    assert rules == {message for _, _, message in BAD_OBJECTS}


# -- images and pull secrets --------------------------------------------------------------------
def _gateway_images(recording: Recording) -> list[str]:
    values = chart(recording, "-chart")["values"]
    found = [entry["image"] for entry in values["global"]["images"].values()]
    found += [_container(proxy)["image"] for proxy in objects(recording, "EnvoyProxy")]
    found += [
        c["image"] for job in objects(recording, "Job") for c in job["spec"]["template"]["spec"]["containers"]
    ]
    return found


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_every_gateway_image_comes_from_the_environment_registry(recordings, stack):
    host = REGISTRY_HOSTS[stack]
    images = _gateway_images(recordings[stack])
    assert len(images) >= 4  # controller, proxy (values and EnvoyProxy), certgen (+ ratelimit)
    for image in images:
        ref = parse(image)
        assert ref.domain == host or ref.domain.endswith("." + host), image
        if stack == "prod":
            assert ref.digest is not None, image
    values = chart(recordings[stack], "-chart")["values"]
    # the shutdown-manager sidecar follows the controller image (the chart sets it from eg.image)
    certgen = objects(recordings[stack], "Job")[0]["spec"]["template"]["spec"]["containers"][0]["image"]
    assert certgen == values["global"]["images"]["envoyGateway"]["image"]


def test_staging_rate_limit_image_and_patchless_proxy(recordings):
    values = chart(recordings["staging"], "-chart")["values"]
    assert values["global"]["images"]["ratelimit"]["image"].startswith(
        "docker-io.registry.staging.example.com/"
    )
    assert values["config"]["envoyGateway"]["rateLimit"]["backend"]["redis"]["url"].endswith(":6379")
    proxy = objects(recordings["staging"], "EnvoyProxy")[0]
    assert "patch" not in proxy["spec"]["provider"]["kubernetes"]["envoyDeployment"]  # IfNotPresent


# Where Envoy Gateway runs pods (upstream-facts A.5): the controller, certgen and rate limit in
# the controller namespace; proxies there, or with GatewayNamespace in each Gateway's namespace.
POD_NAMESPACES = {"staging": {"envoy-gateway-system", "apps"}, "prod": {"envoy-gateway-system"}}


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_every_namespace_running_gateway_pods_has_the_pull_secret(recordings, stack):
    recording = recordings[stack]
    secrets = {
        o["metadata"]["namespace"]
        for o in objects(recording, "Secret")
        if o.get("type") == "kubernetes.io/dockerconfigjson"
    }
    rows = table_rows(recording)
    assert {row["namespace"] for row in rows} == POD_NAMESPACES[stack]
    assert POD_NAMESPACES[stack] <= secrets
    assert all(row["pullSecrets"] == ["airlock-pull"] for row in rows)
    proxy_rows = {row["namespace"] for row in rows if row["name"] == "envoy-gateway/proxy"}
    for proxy in objects(recording, "EnvoyProxy"):
        pod = proxy["spec"]["provider"]["kubernetes"]["envoyDeployment"]["pod"]
        assert pod["imagePullSecrets"] == [{"name": "airlock-pull"}]
    if stack == "staging":  # GatewayNamespace: proxies (and their shutdown-manager) run in apps
        assert proxy_rows == {"apps"}
        assert {row["namespace"] for row in rows if row["name"] == "envoy-gateway/controller"} == {
            "apps",
            "envoy-gateway-system",
        }
    else:
        assert proxy_rows == {"envoy-gateway-system"}


# -- settings reach the objects ------------------------------------------------------------------
def _run(stack: str, change) -> Recording:
    values, secrets = stack_values(stack)
    change(values)
    return run_stack(stack, values, secrets)


def test_pull_policy_other_than_if_not_present_goes_through_the_patch():
    recording = _run("dev", lambda v: v["airlock:images"].update(pullPolicy="Always"))
    (proxy,) = objects(recording, "EnvoyProxy")
    patch = proxy["spec"]["provider"]["kubernetes"]["envoyDeployment"]["patch"]
    assert patch == {
        "type": "StrategicMerge",
        "value": {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "envoy", "imagePullPolicy": "Always"},
                            {"name": "shutdown-manager", "imagePullPolicy": "Always"},
                        ]
                    }
                }
            }
        },
    }
    values = chart(recording, "-chart")["values"]
    assert values["global"]["images"]["envoyGateway"]["pullPolicy"] == "Always"
    assert values["global"]["images"]["envoyProxy"]["pullPolicy"] == ""
    assert validate_custom_resource(ENVOY_PROXY, proxy) == []


def test_image_repository_only_on_request_and_exact():
    def change(values):
        values["airlock:gateway"]["classes"][0]["proxy"]["imageField"] = "imageRepository"

    (proxy,) = objects(_run("dev", change), "EnvoyProxy")
    assert _container(proxy) == {"imageRepository": "localhost:5001/docker.io/envoyproxy/envoy"}
    assert validate_custom_resource(ENVOY_PROXY, proxy) == []


def test_replace_merge_type_still_carries_image_and_pull_secrets():
    def change(values):
        values["airlock:gateway"]["classes"][0]["proxy"] = {"mergeType": "Replace", "workload": "DaemonSet"}

    (proxy,) = objects(_run("prod", change), "EnvoyProxy")
    assert proxy["spec"]["mergeType"] == "Replace"
    daemon_set = proxy["spec"]["provider"]["kubernetes"]["envoyDaemonSet"]
    assert "@sha256:" in daemon_set["container"]["image"]
    assert daemon_set["pod"]["imagePullSecrets"] == [{"name": "airlock-pull"}]
    assert validate_custom_resource(ENVOY_PROXY, proxy) == []


def test_per_gateway_envoy_proxy_is_referenced_from_the_gateway_namespace():
    def change(values):
        values["airlock:gateway"]["gateways"][0]["proxy"] = {"replicas": 3, "serviceType": "ClusterIP"}

    recording = _run("prod", change)
    proxies = {p["metadata"]["namespace"]: p for p in objects(recording, "EnvoyProxy")}
    assert set(proxies) == {"envoy-gateway-system", "apps"}
    (gateway,) = objects(recording, "Gateway")
    assert gateway["spec"]["infrastructure"]["parametersRef"] == {
        "group": "gateway.envoyproxy.io",
        "kind": "EnvoyProxy",
        "name": proxies["apps"]["metadata"]["name"],
    }
    assert proxies["apps"]["spec"]["provider"]["kubernetes"]["envoyService"] == {"type": "ClusterIP"}


def test_gateway_class_references_its_envoy_proxy_with_an_explicit_namespace(recordings):
    (gateway_class,) = objects(recordings["prod"], "GatewayClass")
    (proxy,) = objects(recordings["prod"], "EnvoyProxy")
    assert gateway_class["spec"]["controllerName"] == "gateway.envoyproxy.io/gatewayclass-controller"
    assert gateway_class["spec"]["parametersRef"] == {
        "group": "gateway.envoyproxy.io",
        "kind": "EnvoyProxy",
        "name": proxy["metadata"]["name"],
        "namespace": proxy["metadata"]["namespace"],
    }


@pytest.mark.parametrize(
    ("install", "crds_chart", "enabled"), [("chart", False, True), ("none", False, False)]
)
def test_crd_sources(install, crds_chart, enabled):
    recording = _run("dev", lambda v: v["airlock:gateway"].update(crds={"install": install}))
    charts = [r.name for r in gateway_resources(recording) if r.type == "kubernetes:helm.sh/v4:Chart"]
    assert any(name.endswith("-crds") for name in charts) is crds_chart
    values = chart(recording, "-chart")["values"]
    assert values["crds"]["enabled"] is enabled
    if install == "chart":  # its lookup-guarded policy would flip-flop under Pulumi
        assert values["crds"]["gatewayAPI"]["safeUpgradePolicy"]["enabled"] is False


def test_certgen_runs_before_the_chart_and_the_chart_waits_for_it(recordings):
    resources = {(r.type, r.name): r for r in gateway_resources(recordings["prod"])}
    job = resources[("kubernetes:batch/v1:Job", "airlock-gateway-certgen")]
    main = resources[("kubernetes:helm.sh/v4:Chart", "airlock-gateway-chart")]
    assert job.urn in main.dependencies
    spec = job.inputs["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == "eg-gateway-helm-certgen"
    assert spec["containers"][0]["args"] == ["--disable-topology-injector"]
    assert "ttlSecondsAfterFinished" not in job.inputs["spec"]
    for kind in ("ServiceAccount", "Role", "RoleBinding"):
        dependency = next(r for (t, _), r in resources.items() if t.endswith(f":{kind}"))
        assert dependency.urn in job.dependencies


def test_topology_injector_gets_its_webhook_and_cluster_role():
    recording = _run("dev", lambda v: v["airlock:gateway"].update(topologyInjector=True))
    kinds = {
        o["kind"]: o
        for o in kubernetes_objects(recording)
        if "certgen" in o["metadata"]["name"] or "topology" in o["metadata"]["name"]
    }
    assert {"ClusterRole", "ClusterRoleBinding", "MutatingWebhookConfiguration", "Job"} <= set(kinds)
    job = kinds["Job"]["spec"]["template"]["spec"]["containers"][0]
    assert "args" not in job
    webhook = kinds["MutatingWebhookConfiguration"]
    assert webhook["metadata"]["name"] == "envoy-gateway-topology-injector.envoy-gateway-system"
    assert kinds["ClusterRole"]["rules"][1]["resourceNames"] == [webhook["metadata"]["name"]]
    assert chart(recording, "-chart")["values"]["topologyInjector"] == {"enabled": True}


# -- inside a vcluster tenant -------------------------------------------------------------------
def test_a_gateway_inside_a_tenant_uses_its_provider_and_its_pull_secret():
    recording = _run("staging", lambda v: v["airlock:gateway"].update(tenant="team-a"))
    (provider,) = [
        r for r in recording.resources if r.type == "pulumi:providers:kubernetes" and "team-a" in r.name
    ]
    inside = [r for r in gateway_resources(recording) if r.type != GATEWAY_TYPE]
    assert {r.type.rsplit(":", 1)[1] for r in inside} >= {
        "Namespace",
        "Chart",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "Job",
        "EnvoyProxy",
        "GatewayClass",
        "Gateway",
    }
    assert all(r.provider == provider.urn for r in inside), [
        r.name for r in inside if r.provider != provider.urn
    ]
    # every image is pulled in the tenant's host namespace, whose Secret holds the registry login
    rows = table_rows(recording)
    assert {row["namespace"] for row in rows} == {"vcluster-team-a"}
    host_secret = next(
        o
        for o in objects(recording, "Secret")
        if o["metadata"]["namespace"] == "vcluster-team-a"
        and o.get("type") == "kubernetes.io/dockerconfigjson"
    )
    # inside the tenant: the namespaces and a copy of that Secret where gateway pods run
    copies = {
        r.inputs["metadata"]["namespace"]: r
        for r in recording.resources
        if r.type == "kubernetes:core/v1:Secret" and "-pull-team-a." in r.name
    }
    assert set(copies) == {"envoy-gateway-system", "apps"}
    for copy_ in copies.values():
        assert copy_.provider == provider.urn
        assert unwrap_secrets(copy_.inputs)["stringData"] == host_secret["stringData"]
    namespaces = {
        r.inputs["metadata"]["name"]
        for r in gateway_resources(recording)
        if r.type == "kubernetes:core/v1:Namespace"
    }
    assert namespaces == {"envoy-gateway-system", "apps"}
    # the host cluster gets no controller namespace of its own
    assert not [
        r
        for r in recording.resources
        if r.type == "kubernetes:core/v1:Namespace"
        and r.name.endswith("-envoy-gateway-system")
        and r.provider is None
    ]


# -- used on its own --------------------------------------------------------------------------------
STANDALONE = """
import pulumi
from airlock.gateway.component import Gateway, GatewayArgs
from airlock.gateway.images import image_requests
from airlock.gateway.settings import GatewaySettings
from airlock.image_config import ImageConfig, ImageConfigArgs, RegistryLoginInput
from airlock.images.policy import ImagePolicy

settings = GatewaySettings.model_validate({SETTINGS})
images = ImageConfig(
    "images",
    ImageConfigArgs(
        policy=ImagePolicy.model_validate({"registry": {"to": "r.example.com"}, "pin": "off"}),
        requests=image_requests(settings),
        credentials={"r.example.com": RegistryLoginInput("robot", pulumi.Output.secret("pw"))},
    ),
)
edge = Gateway("edge", GatewayArgs(settings=settings, image_config=images))
pulumi.export("proxy", edge.proxy_image)
"""


def _standalone(tmp_path, settings: str, program: str = STANDALONE) -> Recording:
    import textwrap

    from airlock.plan.engine import record_program

    (tmp_path / "Pulumi.yaml").write_text("name: edge\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(program.replace("{SETTINGS}", settings)))
    return record_program(tmp_path, "dev")


def test_the_component_on_its_own_with_its_image_config(tmp_path):
    recording = _standalone(tmp_path, '{"classes": [{"name": "eg"}]}')
    assert recording.outputs["proxy"] == "r.example.com/docker.io/envoyproxy/envoy:distroless-v1.39.0"
    (proxy,) = objects(recording, "EnvoyProxy")
    assert proxy["spec"]["provider"]["kubernetes"]["envoyDeployment"]["pod"]["imagePullSecrets"] == [
        {"name": "airlock-pull"}
    ]
    secrets = [o["metadata"]["namespace"] for o in objects(recording, "Secret")]
    assert secrets == ["envoy-gateway-system"]


def test_the_component_on_its_own_refuses_an_inexact_image_repository_before_registering(tmp_path):
    from airlock.plan.engine import PlanError

    settings = '{"classes": [{"name": "eg", "proxy": {"imageField": "imageRepository"}}]}'
    program = STANDALONE.replace(
        '"pin": "off"}', '"pin": "off", "overrides": {"envoy-gateway/proxy": {"tag": "v1.38.0"}}}'
    )
    with pytest.raises(
        PlanError, match=r"classes\[0\].proxy.imageField: imageRepository carries no tag"
    ) as caught:
        _standalone(tmp_path, settings, program)
    assert not [r for r in caught.value.recording.resources if r.type == GATEWAY_TYPE]


@pytest.mark.parametrize(("insecure", "plain_http"), [(False, None), (True, True)])
def test_both_charts_can_come_from_an_oci_mirror(insecure, plain_http):
    mirror = {"repository": "oci://127.0.0.1:5000/charts", "version": "1.9.0", "insecure": insecure}
    recording = _run("dev", lambda v: v["airlock:gateway"].update(chart=mirror))
    for suffix, name in (("-chart", "gateway-helm"), ("-crds", "gateway-crds-helm")):
        inputs = chart(recording, suffix)
        assert inputs["chart"] == f"oci://127.0.0.1:5000/charts/{name}" and inputs["version"] == "1.9.0"
        assert inputs.get("plainHttp") == plain_http
        assert "repositoryOpts" not in inputs


def test_envoy_proxy_then_class_then_gateway(recordings):
    resources = {r.name: r for r in gateway_resources(recordings["prod"])}
    proxy = resources["airlock-gateway-proxy-class-eg"]
    gateway_class = resources["airlock-gateway-class-eg"]
    (gateway,) = [r for r in resources.values() if r.type.endswith(":Gateway")]
    assert proxy.urn in gateway_class.dependencies
    assert gateway_class.urn in gateway.dependencies


def test_gateways_whose_names_would_run_together_stay_apart():
    def change(values):
        values["airlock:namespaces"].update({"team-a": {}, "team": {}})
        first = values["airlock:gateway"]["gateways"][0]
        values["airlock:gateway"]["gateways"] = [
            {**first, "namespace": "team-a", "name": "web"},
            {**first, "namespace": "team", "name": "a-web"},
        ]

    gateways = objects(_run("dev", change), "Gateway")
    assert sorted((g["metadata"]["namespace"], g["metadata"]["name"]) for g in gateways) == [
        ("team", "a-web"),
        ("team-a", "web"),
    ]
