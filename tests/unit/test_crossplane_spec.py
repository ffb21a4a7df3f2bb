"""The Crossplane room's pure parts: ImageConfig rewrites from the policy's rules (checked
against Crossplane's own longest-prefix rewrite), spec.package per mode, plain HTTP."""

from __future__ import annotations

import pytest

from airlock.crossplane.settings import CrossplaneSettings
from airlock.crossplane.spec import (
    Rewrite,
    chart_values,
    effective_reference,
    fetched_over_http,
    image_configs,
    package_problems,
    package_reference,
    rewrites,
)
from airlock.images.policy import ImagePolicy, resolve
from tests.support.crossplane import fetched

SOURCE = "xpkg.crossplane.io/crossplane-contrib/provider-kubernetes:v0.18.0"
POLICIES = [
    {"registry": {"to": "reg.example.com", "layout": "nest"}},
    {"registry": {"to": "reg.example.com/base", "layout": "flatten"}},
    {"mirrors": [{"source": "xpkg.crossplane.io", "to": "cache.example.com:8443", "layout": "flatten"}]},
    {
        "mirrors": [
            {
                "source": "xpkg.crossplane.io/crossplane-contrib",
                "to": "harbor.example.com/xp",
                "layout": "replace",
            }
        ]
    },
    {"mirrors": [{"source": "xpkg.crossplane.io", "to": "m.example.com/a/b", "layout": "nest"}]},
]


def settings(mode: str) -> CrossplaneSettings:
    return CrossplaneSettings.model_validate(
        {
            "packageSource": mode,
            "packages": [{"kind": "Provider", "name": "provider-kubernetes", "package": SOURCE}],
        }
    )


@pytest.mark.parametrize("data", POLICIES)
@pytest.mark.parametrize("mode", ["mirror", "rewrite"])
def test_what_crossplane_fetches_is_the_policys_final_reference(data, mode):
    policy = ImagePolicy.model_validate({**data, "pin": "off"})
    image = resolve(SOURCE, policy, name="crossplane-providers/provider-kubernetes")
    configs = rewrites(policy, [image])
    assert len(configs) == 1
    reference = package_reference(settings(mode), image)
    manifests = image_configs(configs, [], None, {})
    assert fetched(reference, manifests) == str(image.final)  # Crossplane's rule, written independently
    assert package_problems(settings(mode), {"crossplane-providers/provider-kubernetes": image}, policy) == []
    # a package under the same rule that airlock does not declare (a dependency by upstream name)
    other = "xpkg.crossplane.io/crossplane-contrib/function-x:v1.0.0"
    assert fetched(other, manifests) == str(resolve(other, policy).final)


def test_the_digest_rides_along_in_rewrite_mode():
    policy = ImagePolicy.model_validate({"registry": {"to": "reg.example.com"}, "pin": "off"})
    image = resolve(f"{SOURCE}@sha256:{'b' * 64}", policy)
    assert package_reference(settings("rewrite"), image) == f"{SOURCE}@sha256:{'b' * 64}"


def test_longest_prefix_wins_and_no_match_keeps_the_reference():
    configs = [Rewrite("a.io/", "m.io/a/"), Rewrite("a.io/team/", "t.io/")]
    assert effective_reference("a.io/team/x:1", configs) == "t.io/x:1"
    assert effective_reference("a.io/other/x:1", configs) == "m.io/a/other/x:1"
    assert effective_reference("b.io/x:1", configs) == "b.io/x:1"


def test_pull_secret_image_configs_match_the_mirror_prefix():
    (rewrite, pull) = image_configs([Rewrite("a.io/", "m.io/a/")], ["m.io"], "airlock-pull", {})
    assert rewrite["spec"] == {
        "matchImages": [{"type": "Prefix", "prefix": "a.io/"}],
        "rewriteImage": {"prefix": "m.io/a/"},
    }
    assert pull["spec"]["matchImages"] == [{"type": "Prefix", "prefix": "m.io/"}]
    assert pull["spec"]["registry"] == {"authentication": {"pullSecretRef": {"name": "airlock-pull"}}}
    assert image_configs([], ["m.io"], None, {}) == []


@pytest.mark.parametrize(
    ("registry", "http"),
    [
        ("10.96.1.2:5000", True),
        ("192.168.1.9", True),
        ("172.31.0.2:80", True),
        ("localhost:5001", False),
        ("127.0.0.1:5000", False),
        ("8.8.8.8:5000", False),
        ("reg.example.com:8443", False),
    ],
)
def test_plain_http_only_for_rfc1918_literals(registry, http):
    assert fetched_over_http(registry) is http


def test_escape_hatch_cannot_set_packages_or_the_image():
    plain = resolve(
        "xpkg.crossplane.io/crossplane/crossplane:v2.3.4", ImagePolicy.model_validate({"pin": "off"})
    )
    values, warnings = chart_values(
        CrossplaneSettings.model_validate(
            {"values": {"provider": {"packages": ["x"]}, "image": {"tag": "v9"}, "replicas": 2}}
        ),
        plain,
        ["airlock-pull"],
        False,
    )
    assert (
        values["provider"]["packages"] == []
        and values["image"]["tag"] == "v2.3.4"
        and values["replicas"] == 2
    )
    assert len(warnings) == 2
