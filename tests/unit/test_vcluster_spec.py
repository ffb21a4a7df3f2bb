"""vcluster tenant settings and values (pure): bad input rejected, no stale keys, the policy
owns image paths, digests survive the chart's registry/repository:tag join."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from airlock.catalog import CATALOG
from airlock.images import ImagePolicy, parse, resolve
from airlock.vcluster.images import tenant_requests
from airlock.vcluster.settings import TenantSettings, VClusterSettings
from airlock.vcluster.spec import image_spellings, tenant_values, translate_map

D = "sha256:" + "a" * 64
POLICY = ImagePolicy.model_validate({"registry": {"to": "r.example.com"}, "pin": "off"})


def images(policy: ImagePolicy = POLICY, tenant: TenantSettings | None = None) -> dict:
    tenant = tenant or TenantSettings(name="a", backing_store="etcd")
    return {
        request.name: resolve(request.source, policy, None, name=request.name)
        for request in tenant_requests(tenant, VClusterSettings(), {})
    }


def values_for(tenant: TenantSettings, policy: ImagePolicy = POLICY):
    return tenant_values(tenant, images(policy, tenant), ["airlock-pull"], {})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "Team_A"}, "DNS-1123 label starting with a letter"),
        ({"name": "1team"}, "DNS-1123 label starting with a letter"),
        ({"name": "a" * 53}, "at most 52 characters"),
        (
            {"name": "a", "sync": {"fromHost": {"pods": {"enabled": True}}}},
            "vcluster does not know fromHost syncer 'pods'",
        ),
        (
            {
                "name": "a",
                "sync": {"fromHost": {"events": {"enabled": True, "selector": {"matchLabels": {"a": "b"}}}}},
            },
            "fromHost.events takes no selector",
        ),
        ({"name": "a", "sync": {"fromHost": {"ingressClasses": {"enabled": "auto"}}}}, "'auto' only for"),
        ({"name": "a", "sync": {"fromHost": {"configMaps": {"enabled": True}}}}, "needs mappings"),
        ({"name": "a", "sync": {"toHost": {"pods": True}}}, "vcluster does not know toHost key 'pods'"),
        ({"name": "a", "translateImages": ["Nginx:1"]}, "must be lowercase"),
        ({"name": "a", "backingStore": "sqlite"}, "'database' or 'etcd'"),
    ],
)
def test_bad_tenant_settings(data, message):
    with pytest.raises(ValidationError) as caught:
        TenantSettings.model_validate(data)
    assert message in str(caught.value)


def test_platform_settings_reject_unsupported_versions_and_duplicates():
    with pytest.raises(ValidationError, match="1.33-1.36"):
        VClusterSettings.model_validate({"kubernetesVersion": "v1.29.0"})
    with pytest.raises(ValidationError, match="tenant name a used by more than one tenant"):
        VClusterSettings.model_validate({"tenants": [{"name": "a"}, {"name": "a", "namespace": "other"}]})
    with pytest.raises(ValidationError, match="host namespace shared used by more than one"):
        VClusterSettings.model_validate(
            {"tenants": [{"name": "a", "namespace": "shared"}, {"name": "b", "namespace": "shared"}]}
        )


def test_kubernetes_version_sets_distro_tag_and_matching_coredns():
    settings = VClusterSettings.model_validate({"kubernetesVersion": "v1.34.2"})
    requests = {r.name: r.source for r in tenant_requests(TenantSettings(name="a"), settings, {})}
    assert requests["vcluster/kubernetes"] == "ghcr.io/loft-sh/kubernetes:v1.34.2"
    assert requests["vcluster/coredns"] == "docker.io/coredns/coredns:1.12.1"
    assert "vcluster/etcd" not in requests  # only with backingStore etcd
    assert requests["vcluster/control-plane"] == CATALOG["vcluster/control-plane"].source


def test_disabling_a_syncer_leaves_no_stale_keys():
    enabled = TenantSettings.model_validate(
        {
            "name": "a",
            "sync": {
                "fromHost": {"storageClasses": {"enabled": True, "selector": {"matchLabels": {"x": "y"}}}}
            },
        }
    )
    disabled = TenantSettings.model_validate(
        {
            "name": "a",
            "sync": {
                "fromHost": {"storageClasses": {"enabled": False, "selector": {"matchLabels": {"x": "y"}}}}
            },
        }
    )
    assert values_for(enabled)[0]["sync"]["fromHost"]["storageClasses"] == {
        "enabled": True,
        "selector": {"matchLabels": {"x": "y"}},
    }
    assert values_for(disabled)[0]["sync"]["fromHost"]["storageClasses"] == {"enabled": False}
    untouched = values_for(TenantSettings(name="a"))[0]["sync"]
    assert "fromHost" not in untouched  # a syncer not mentioned keeps the chart's default


def test_values_escape_hatch_cannot_override_policy_images_and_warns():
    tenant = TenantSettings.model_validate(
        {
            "name": "a",
            "values": {
                "controlPlane": {
                    "statefulSet": {
                        "image": {"registry": "docker.io", "repository": "x/y", "tag": "1"},
                        "labels": {"k": "v"},
                    },
                    "advanced": {"defaultImageRegistry": "mirror.example.com"},
                },
                "telemetry": {"enabled": False},
            },
        }
    )
    values, warnings = values_for(tenant)
    assert values["controlPlane"]["statefulSet"]["image"]["registry"] == "r.example.com"
    assert values["controlPlane"]["statefulSet"]["labels"] == {"k": "v"}  # other keys merge
    assert values["telemetry"] == {"enabled": False}
    assert "defaultImageRegistry" not in values["controlPlane"]["advanced"]
    assert warnings == [
        "tenant a: values.controlPlane.statefulSet.image is set by the image policy and was ignored; "
        "change it through airlock:images.overrides",
        "tenant a: values.controlPlane.advanced.defaultImageRegistry is set by the image policy and was ignored; "
        "change it through airlock:images.overrides",
    ]


def test_digest_rides_in_tag_and_private_nodes_is_refused_with_it():
    pinned = ImagePolicy.model_validate(
        {
            "registry": {"to": "r.example.com"},
            "pin": "off",
            "overrides": {"vcluster/kubernetes": {"digest": D}},
        }
    )
    values, _ = values_for(TenantSettings(name="a"), pinned)
    image = values["controlPlane"]["distro"]["k8s"]["image"]
    assert image["tag"] == f"v1.36.0@{D}"
    assert (
        str(parse(f"{image['registry']}/{image['repository']}:{image['tag']}"))
        == f"r.example.com/ghcr.io/loft-sh/kubernetes:v1.36.0@{D}"
    )
    with pytest.raises(ValueError, match="privateNodes appends '-full'"):
        values_for(
            TenantSettings.model_validate({"name": "a", "values": {"privateNodes": {"enabled": True}}}),
            pinned,
        )


def test_image_spellings_and_translate_map():
    assert image_spellings("nginx:1.27") == [
        "docker.io/library/nginx:1.27",
        "docker.io/nginx:1.27",
        "index.docker.io/library/nginx:1.27",
        "library/nginx:1.27",
        "nginx:1.27",
    ]
    assert image_spellings("ghcr.io/a/b:1") == ["ghcr.io/a/b:1"]
    resolved = resolve("ghcr.io/a/b:1", POLICY)
    assert translate_map([resolved]) == {"ghcr.io/a/b:1": "r.example.com/ghcr.io/a/b:1"}
    assert translate_map([resolve("ghcr.io/a/b:1", ImagePolicy(pin="off"))]) == {}  # identity is omitted


def test_kubeconfig_server_defaults_to_the_service_and_can_be_set():
    values, _ = values_for(TenantSettings(name="a"))
    assert values["exportKubeConfig"] == {"context": "vcluster-a", "server": "https://a.vcluster-a.svc:443"}
    values, _ = values_for(TenantSettings(name="a", server="https://a.example.com"))
    assert values["exportKubeConfig"]["server"] == "https://a.example.com"
