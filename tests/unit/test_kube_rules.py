"""Kubernetes' naming rules where stack settings feed objects: refused before registration,
not by the API server half-way through a deployment."""

from __future__ import annotations

import pytest

from airlock import kube


@pytest.mark.parametrize(
    "key", ["team", "app.kubernetes.io/name", "example.com/Team_1.x", "a", "x" * 63, f"{'a' * 253}/b"]
)
def test_valid_label_keys(key):
    assert kube.label_key(key) == key


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("bad key", "the name must be 1-63"),
        ("x" * 64, "the name must be 1-63"),
        ("-team", "the name must be 1-63"),
        ("Example.com/team", "the prefix before '/' must be a DNS subdomain"),
        ("/team", "the prefix before '/' must be a DNS subdomain"),
        ("a/b/c", "the prefix before '/' must be a DNS subdomain"),
        ("", "the name must be 1-63"),
    ],
)
def test_invalid_label_keys(key, why):
    with pytest.raises(ValueError, match=why):
        kube.label_key(key)


@pytest.mark.parametrize("value", ["", "web", "A-b_c.9", "x" * 63])
def test_valid_label_values(value):
    assert kube.label_value("k", value) == value


@pytest.mark.parametrize("value", ["x" * 64, "[/red]", "-web", "web-", "a b"])
def test_invalid_label_values(value):
    with pytest.raises(ValueError, match="must be at most 63 characters"):
        kube.label_value("k", value)


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "0.0.0.0/0", "192.168.1.7/32", "fd00::/64"])
def test_canonical_cidrs_pass(cidr):
    assert kube.network_cidr(cidr) == cidr


@pytest.mark.parametrize(
    ("cidr", "why"),
    [
        ("10.0.0.0/33", "is not a CIDR"),
        ("nodes", "is not a CIDR"),
        ("10.0.0.1/16", "host bits set; write '10.0.0.0/16'"),
        ("10.0.0.0", "has no prefix length; write '10.0.0.0/32'"),
        ("fd00::1/64", "host bits set; write 'fd00::/64'"),
        ("FD00::/64", "is not in canonical form; write 'fd00::/64'"),
    ],
)
def test_bad_cidrs_are_refused_with_the_fix(cidr, why):
    with pytest.raises(ValueError, match=why.replace("[", r"\[")):
        kube.network_cidr(cidr)


def test_dns_names_have_labels_of_at_most_63():
    assert kube.dns_name("registry.staging.example.com") == "registry.staging.example.com"
    with pytest.raises(ValueError, match="has a label of 70 characters"):
        kube.dns_name("a" * 70 + ".example.com")
    with pytest.raises(ValueError, match="at most 253"):
        kube.dns_name(".".join(["a" * 60] * 5))
    with pytest.raises(ValueError, match="is not a DNS label"):
        kube.dns_name("bad_label.example.com")


def test_slug_is_a_dns_label():
    assert kube.slug("docker.io") == "docker-io"
    assert kube.slug("Registry.Corp:8443") == "registry-corp-8443"
    assert kube.DNS_LABEL.fullmatch(kube.slug("a" * 62 + ".b"))


@pytest.mark.parametrize("value", ["500m", "200m", "128Mi", "20Gi", "1", "1.5", ".5", "1e3", "2E-2", "1k"])
def test_kubernetes_quantities_are_accepted(value):
    assert kube.quantity(value) == value


@pytest.mark.parametrize("value", ["2 GB", "abc", "1.5.2", "10mi", "", "Mi"])
def test_what_is_not_a_quantity_is_refused(value):
    with pytest.raises(ValueError, match="is not a Kubernetes quantity"):
        kube.quantity(value)


def test_the_registry_accepts_millicores():
    """The registry's own check refused '200m' for a CPU request (its pattern had no 'm')."""
    from airlock.registry.settings import ResourcesSpec

    assert ResourcesSpec.model_validate({"cpuRequest": "200m", "cpuLimit": "1500m"}).cpu_limit == "1500m"
