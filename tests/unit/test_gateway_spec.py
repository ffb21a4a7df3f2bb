"""The gateway room's pure parts: where images are requested, what the escape hatches may not
change, the chart's naming, the CRD sets, and the proxy field checks."""

from __future__ import annotations

import pytest

from airlock.gateway.images import CONTROLLER, PROXY, RATELIMIT, image_requests
from airlock.gateway.settings import GatewaySettings
from airlock.gateway.spec import (
    GatewayImages,
    chart_values,
    crd_names,
    envoy_proxy,
    fullname,
    proxy_image_problems,
    proxy_spec_problems,
)
from airlock.images.policy import ImagePolicy, resolve

POLICY = ImagePolicy.model_validate({"registry": {"to": "r.example.com"}, "pin": "off"})
BASE = {"classes": [{"name": "eg"}]}


def settings(**extra: object) -> GatewaySettings:
    return GatewaySettings.model_validate({**BASE, **extra})


def images(pull_policy: str = "IfNotPresent") -> GatewayImages:
    policy = POLICY.model_copy(update={"pull_policy": pull_policy})
    return GatewayImages(
        controller=resolve("docker.io/envoyproxy/gateway:v1.9.0", policy, name=CONTROLLER),
        proxy=resolve("docker.io/envoyproxy/envoy:distroless-v1.39.0", policy, name=PROXY),
        ratelimit=None,
        controller_pull_secrets=["airlock-pull"],
        proxy_pull_secrets=["airlock-pull"],
    )


GATEWAY = {
    "name": "web",
    "namespace": "apps",
    "gatewayClassName": "eg",
    "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}],
}


def test_requests_follow_the_deploy_mode_and_rate_limit():
    plain = {(r.name, r.namespace) for r in image_requests(settings())}
    assert plain == {(CONTROLLER, "envoy-gateway-system"), (PROXY, "envoy-gateway-system")}
    spread = settings(deployType="GatewayNamespace", gateways=[GATEWAY], rateLimit={"redisUrl": "redis:6379"})
    assert {(r.name, r.namespace) for r in image_requests(spread)} == {
        (CONTROLLER, "envoy-gateway-system"),
        (RATELIMIT, "envoy-gateway-system"),
        (PROXY, "apps"),
        (CONTROLLER, "apps"),  # the shutdown-manager sidecar
    }
    tenant = {(r.name, r.namespace) for r in image_requests(spread, "vcluster-team-a")}
    assert tenant == {
        (CONTROLLER, "vcluster-team-a"),
        (RATELIMIT, "vcluster-team-a"),
        (PROXY, "vcluster-team-a"),
    }


def test_escape_hatch_cannot_change_what_airlock_sets():
    values, warnings = chart_values(
        settings(
            values={
                "global": {"imageRegistry": "docker.io", "images": {"envoyProxy": {"image": ""}}},
                "deployment": {
                    "envoyGateway": {"image": {"repository": "envoyproxy/gateway"}},
                    "replicas": 2,
                },
                "crds": {"enabled": True},
            }
        ),
        images(),
    )
    assert values["global"]["imageRegistry"] == ""
    assert (
        values["global"]["images"]["envoyProxy"]["image"]
        == "r.example.com/docker.io/envoyproxy/envoy:distroless-v1.39.0"
    )
    assert values["deployment"]["envoyGateway"]["image"] == {"repository": "", "tag": ""}
    assert values["deployment"]["replicas"] == 2  # not airlock's: kept
    assert values["crds"]["enabled"] is False
    assert len(warnings) == 4
    assert any("values.crds.enabled" in w and "airlock:gateway.crds.install" in w for w in warnings)


@pytest.mark.parametrize(
    ("release", "expected"),
    [("eg", "eg-gateway-helm"), ("my-gateway-helm", "my-gateway-helm"), ("x" * 53, "x" * 53 + "-gateway-h")],
)
def test_fullname_is_the_charts(release, expected):
    assert fullname(settings(releaseName=release)) == expected


def test_crd_sets_per_channel_and_mode():
    experimental = crd_names(settings())
    standard = crd_names(settings(crds={"channel": "standard"}))
    assert len(experimental) == 21 and len(standard) == 18  # 13 or 10 Gateway API + 8 Envoy Gateway
    assert (
        "xmeshes.gateway.networking.x-k8s.io" in experimental
        and "envoyproxies.gateway.envoyproxy.io" in standard
    )
    assert crd_names(settings(crds={"install": "none"})) == []


def test_proxy_spec_escape_hatch_merges_under_airlock():
    proxy_settings = (
        settings(
            classes=[
                {
                    "name": "eg",
                    "proxy": {
                        "spec": {
                            "concurrency": 4,
                            "provider": {"kubernetes": {"envoyService": {"type": "NodePort"}}},
                        }
                    },
                }
            ]
        )
        .classes[0]
        .proxy
    )
    manifest = envoy_proxy("class-eg", "ns", proxy_settings, images(), {})
    assert manifest["spec"]["concurrency"] == 4
    assert manifest["spec"]["provider"]["kubernetes"]["envoyService"] == {"type": "NodePort"}
    assert manifest["spec"]["provider"]["type"] == "Kubernetes"
    assert proxy_spec_problems(proxy_settings) == []


def test_proxy_spec_may_not_set_the_policy_paths():
    proxy_settings = (
        settings(
            classes=[
                {
                    "name": "eg",
                    "proxy": {
                        "spec": {
                            "mergeType": "Replace",
                            "provider": {"kubernetes": {"envoyDeployment": {"patch": {}}}},
                        }
                    },
                }
            ]
        )
        .classes[0]
        .proxy
    )
    paths = [path for path, *_ in proxy_spec_problems(proxy_settings)]
    assert paths == [("spec", "mergeType"), ("spec", "provider", "kubernetes", "envoyDeployment", "patch")]


def test_proxy_field_checks():
    plain = images().proxy
    assert proxy_image_problems(plain, "image") == []
    assert proxy_image_problems(plain, "imageRepository") == []
    ipv6 = resolve(
        "docker.io/envoyproxy/envoy:distroless-v1.39.0",
        ImagePolicy.model_validate({"registry": {"to": "[fd00::1]:5000"}}),
        name=PROXY,
    )
    (problem,) = proxy_image_problems(ipv6, "image")
    assert "does not match the EnvoyProxy CRD's image pattern" in problem
    (problem,) = proxy_image_problems(ipv6, "imageRepository")
    assert "imageRepository pattern" in problem


def test_chart_crds_are_retained_when_pulumi_deletes_them():
    """Deleting a CRD deletes every object of its kind: the charts' CRDs carry retain_on_delete."""
    import pulumi

    from airlock.resources import retain_crds

    def args(type_: str) -> pulumi.ResourceTransformArgs:
        return pulumi.ResourceTransformArgs(True, type_, "x", {"a": 1}, pulumi.ResourceOptions(protect=False))

    result = retain_crds(args("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"))
    assert result is not None and result.opts.retain_on_delete is True and result.props == {"a": 1}
    assert retain_crds(args("kubernetes:core/v1:ConfigMap")) is None
