"""Each consumer's own fields from one decision — and where a format cannot carry it."""

from __future__ import annotations

import pytest

from airlock.crossplane.spec import crossplane_image
from airlock.gateway.spec import envoy_proxy_container
from airlock.images import ImagePolicy, PolicyError, parse, resolve
from airlock.images.formats import full, pull_secret_names, pull_secret_objects
from airlock.vcluster.spec import registry_repository_tag

D1 = "sha256:" + "1" * 64
MIRROR = ImagePolicy.model_validate({"registry": {"to": "registry.prod.example.com"}, "pin": "off"})


def test_vcluster_object_without_digest():
    resolved = resolve("ghcr.io/loft-sh/vcluster-oss:0.36.1", MIRROR)
    assert registry_repository_tag(resolved) == {
        "registry": "registry.prod.example.com",
        "repository": "ghcr.io/loft-sh/vcluster-oss",
        "tag": "0.36.1",
    }


def test_vcluster_digest_rides_in_the_tag_and_joins_to_a_valid_reference():
    resolved = resolve(f"registry.k8s.io/etcd:3.6.8-0@{D1}", MIRROR)
    fields = registry_repository_tag(resolved)
    assert fields["tag"] == f"3.6.8-0@{D1}"
    joined = f"{fields['registry']}/{fields['repository']}:{fields['tag']}"  # the chart's template
    assert parse(joined) == resolved.final


def test_vcluster_cannot_carry_a_digest_without_tag():
    resolved = resolve(f"ghcr.io/x/y@{D1}", MIRROR, name="vcluster/x")
    with pytest.raises(PolicyError, match="need a tag even with a digest"):
        registry_repository_tag(resolved)


def test_envoy_proxy_image_is_the_full_reference():
    resolved = resolve(f"docker.io/envoyproxy/envoy:distroless-v1.39.0@{D1}", MIRROR)
    assert envoy_proxy_container(resolved) == {
        "image": f"registry.prod.example.com/docker.io/envoyproxy/envoy:distroless-v1.39.0@{D1}"
    }


def test_envoy_image_repository_only_when_exact():
    plain = resolve("docker.io/envoyproxy/envoy:distroless-v1.39.0", MIRROR)
    assert envoy_proxy_container(plain, "imageRepository") == {
        "imageRepository": "registry.prod.example.com/docker.io/envoyproxy/envoy"
    }
    with pytest.raises(PolicyError, match="appends its built-in 'distroless-v1.38.0'"):
        envoy_proxy_container(plain, "imageRepository", controller_tag="distroless-v1.38.0")
    pinned = resolve(f"docker.io/envoyproxy/envoy:distroless-v1.39.0@{D1}", MIRROR)
    with pytest.raises(PolicyError, match="imageRepository carries no digest"):
        envoy_proxy_container(pinned, "imageRepository")


def test_crossplane_tag_or_ignore_tag_with_digest():
    plain = resolve("xpkg.crossplane.io/crossplane/crossplane:v2.3.4", MIRROR)
    assert crossplane_image(plain) == {
        "repository": "registry.prod.example.com/xpkg.crossplane.io/crossplane/crossplane",
        "tag": "v2.3.4",
        "ignoreTag": False,
        "pullPolicy": "IfNotPresent",
    }
    pinned = resolve(f"xpkg.crossplane.io/crossplane/crossplane:v2.3.4@{D1}", MIRROR)
    assert crossplane_image(pinned) == {
        "repository": f"registry.prod.example.com/xpkg.crossplane.io/crossplane/crossplane:v2.3.4@{D1}",
        "ignoreTag": True,
        "pullPolicy": "IfNotPresent",
    }


def test_full_string():
    assert full(resolve("nginx:1.27", MIRROR)) == "registry.prod.example.com/docker.io/library/nginx:1.27"


def test_pull_secret_lists_keep_order_and_drop_duplicates():
    assert pull_secret_objects(["a", "b", "a"]) == [{"name": "a"}, {"name": "b"}]
    assert pull_secret_names(["b", "a", "b"]) == ["b", "a"]
