"""PrivateRegistry settings, derived endpoints/policy and rendered distribution config (pure).

Guards invalid combinations reaching a deployment (caches in external mode, plain HTTP with a
CA, an upstream nobody knows the API URL of), and drift between the registry's endpoints, the
certificate's names and the mirror rules images are resolved with.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from airlock.images import ImagePolicy, resolve
from airlock.registry.images import derive_policy
from airlock.registry.settings import RegistrySettings, slug
from airlock.registry.spec import distribution_config, htpasswd_line, storage_section
from tests.support.pki import make_ca

STAGING = {
    "mode": "in-cluster",
    "host": "registry.staging.example.com",
    "caches": [{"upstream": "docker.io"}, {"upstream": "registry.k8s.io"}],
}


def settings(**data: object) -> RegistrySettings:
    return RegistrySettings.model_validate(data)


def test_in_cluster_endpoints_and_cache_hosts():
    registry = settings(**STAGING)
    assert registry.endpoint_address == "registry.staging.example.com"
    assert registry.cache_endpoints() == {
        "docker.io": "docker-io.registry.staging.example.com",
        "registry.k8s.io": "registry-k8s-io.registry.staging.example.com",
    }
    custom_port = settings(**{**STAGING, "port": 8443})
    assert custom_port.endpoint_address == "registry.staging.example.com:8443"
    assert custom_port.cache_endpoints()["docker.io"] == "docker-io.registry.staging.example.com:8443"


def test_certificate_names_cover_every_host_and_service():
    names = settings(**STAGING).dns_names()
    for expected in (
        "registry.staging.example.com",
        "docker-io.registry.staging.example.com",
        "registry-k8s-io.registry.staging.example.com",
        "registry.airlock-system.svc",
        "registry-cache-docker-io.airlock-system.svc.cluster.local",
    ):
        assert expected in names


def test_derived_policy_routes_through_registry_and_caches():
    policy = derive_policy(ImagePolicy(pin="off"), settings(**STAGING))
    assert (
        str(resolve("nginx:1.27", policy).final)
        == "docker-io.registry.staging.example.com/library/nginx:1.27"
    )
    assert str(resolve("registry.k8s.io/etcd:3.6.8-0", policy).final) == (
        "registry-k8s-io.registry.staging.example.com/etcd:3.6.8-0"
    )
    assert str(resolve("ghcr.io/loft-sh/vcluster-oss:0.36.1", policy).final) == (
        "registry.staging.example.com/ghcr.io/loft-sh/vcluster-oss:0.36.1"
    )
    assert not resolve("nginx:1.27", policy).insecure


def test_stack_rules_win_over_derived_ones():
    own = ImagePolicy.model_validate(
        {
            "pin": "off",
            "registry": {"to": "other.example.com"},
            "mirrors": [{"source": "docker.io", "to": "hub.example.com"}],
        }
    )
    policy = derive_policy(own, settings(**STAGING))
    assert policy.registry is not None and policy.registry.to == "other.example.com"
    assert [rule.source for rule in policy.mirrors] == ["docker.io", "registry.k8s.io"]
    assert policy.mirrors[0].to == "hub.example.com"


def test_docker_mode_is_plain_http_on_loopback_and_declares_it():
    registry = settings(mode="docker")
    assert registry.endpoint_address == "localhost:5001"
    policy = derive_policy(ImagePolicy(pin="off"), registry)
    resolved = resolve("nginx:1.27", policy)
    assert str(resolved.final) == "localhost:5001/docker.io/library/nginx:1.27" and resolved.insecure
    assert not resolve("ghcr.io/x/y:1", policy.without_targets(["localhost:5001"])).insecure


def test_external_proxy_projects_become_replace_rules():
    registry = settings(
        mode="external", endpoint="harbor.example.com", password="x", proxyProjects={"docker.io": "hub"}
    )
    policy = derive_policy(ImagePolicy(pin="off"), registry)
    assert str(resolve("nginx:1.27", policy).final) == "harbor.example.com/hub/library/nginx:1.27"
    assert str(resolve("ghcr.io/x/y:1", policy).final) == "harbor.example.com/ghcr.io/x/y:1"


def test_external_ca_bundle_becomes_trust_of_its_hosts():
    ca = make_ca().certificate_pem
    registry = settings(mode="external", endpoint="harbor.example.com", password="x", caBundle=ca)
    assert resolve("nginx:1.27", derive_policy(ImagePolicy(pin="off"), registry)).ca_bundle == ca


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"mode": "external", "endpoint": "r.io", "caches": [{"upstream": "docker.io"}]},
            "caches do not apply to mode 'external'; use proxyProjects",
        ),
        ({"mode": "external", "endpoint": "r.io", "insecure": True, "caBundle": "x"}, "not a PEM"),
        (
            {"mode": "in-cluster", "host": "r.io", "caches": [{"upstream": "example.org"}]},
            "unknown upstream 'example.org'; set remoteUrl",
        ),
        ({"mode": "in-cluster"}, "needs host"),
        ({"mode": "external"}, "needs endpoint"),
        ({"mode": "docker", "host": "r.io"}, "host do not apply to mode 'docker'"),
        (
            {"mode": "in-cluster", "host": "r.io", "hostPort": 5002},
            "hostPort do not apply to mode 'in-cluster'",
        ),
        ({"mode": "in-cluster", "host": "r.io:5000"}, "set the port with 'port'"),
        (
            {
                "mode": "in-cluster",
                "host": "r.io",
                "caches": [{"upstream": "docker.io"}, {"upstream": "index.docker.io"}],
            },
            "docker.io appear twice",
        ),
        (
            {"mode": "in-cluster", "host": "r.io", "caches": [{"upstream": "docker.io/library"}]},
            "write only its domain",
        ),
        (
            {"mode": "in-cluster", "host": "r.io", "caches": [{"upstream": "quay.io", "username": "u"}]},
            "set both username and password",
        ),
        (
            {"mode": "in-cluster", "host": "r.io", "tls": {"mode": "provided"}},
            "needs certificate, key and ca",
        ),
        (
            {"mode": "in-cluster", "host": "r.io", "tls": {"certificate": "x"}},
            "only apply to tls mode 'provided'",
        ),
        (
            {"mode": "in-cluster", "host": "r.io", "networkPolicy": {"enabled": True}},
            "kubelets pull from node IPs",
        ),
        (
            {"mode": "in-cluster", "host": "r.io", "storage": {"type": "s3"}},
            "s3 storage needs bucket and region",
        ),
        ({"mode": "in-cluster", "host": "r.io", "storage": {"size": "lots"}}, "not a Kubernetes quantity"),
        ({"mode": "external", "endpoint": "r.io/team"}, "put 'team' under proxyProjects"),
        ({"mode": "kind"}, "'in-cluster', 'docker' or 'external'"),
    ],
)
def test_invalid_settings_are_rejected(data, message):
    with pytest.raises(ValidationError) as caught:
        RegistrySettings.model_validate(data)
    assert message in str(caught.value)


def test_insecure_with_tls_material_is_a_contradiction():
    with pytest.raises(ValidationError, match="contradict each other"):
        settings(mode="external", endpoint="r.io", insecure=True, caBundle=make_ca().certificate_pem)


def test_distribution_config_keeps_secrets_out():
    registry = settings(**STAGING)
    config = distribution_config(
        addr=":5000",
        storage=storage_section(registry.storage, "/var/lib/registry"),
        tls=("/tls/tls.crt", "/tls/tls.key"),
        htpasswd="/auth/htpasswd",
        proxy=registry.caches[0],
        debug_addr=":5001",
    )
    assert config["proxy"] == {"remoteurl": "https://registry-1.docker.io", "ttl": "168h"}
    assert config["auth"] == {"htpasswd": {"realm": "airlock", "path": "/auth/htpasswd"}}
    assert config["storage"]["delete"] == {"enabled": False}  # a proxy's content is the upstream's
    assert "secret" not in config["http"] and "password" not in str(config)


def test_s3_storage_section():
    storage = settings(
        mode="in-cluster",
        host="r.io",
        storage={
            "type": "s3",
            "bucket": "b",
            "region": "eu-west-1",
            "endpoint": "https://minio.local",
            "credentialsSecret": "s3",
        },
    ).storage
    assert storage_section(storage, "/x") == {
        "s3": {
            "bucket": "b",
            "region": "eu-west-1",
            "regionendpoint": "https://minio.local",
            "forcepathstyle": True,
        }
    }


def test_helpers():
    assert slug("registry.k8s.io") == "registry-k8s-io"
    assert htpasswd_line("airlock", "$2a$10$abc") == "airlock:$2a$10$abc\n"
