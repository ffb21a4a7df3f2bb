"""Table tests of the distribution/reference grammar with Docker normalisation.

Guards against the class of bug where airlock and a runtime disagree about what an image
reference means (a port taken for a tag, a Docker Hub path without ``library/``, a digest of
the wrong length accepted), which would send pulls to the wrong place.
"""

from __future__ import annotations

import pytest

from airlock.images.reference import ImageReference, InvalidReferenceError, parse

SHA256 = "sha256:" + "a" * 64
SHA384 = "sha384:" + "b" * 96
SHA512 = "sha512:" + "c" * 128

# (input, canonical, familiar, domain, path, tag, digest)
VALID = [
    ("ubuntu", "docker.io/library/ubuntu", "ubuntu", "docker.io", "library/ubuntu", None, None),
    (
        "ubuntu:22.04",
        "docker.io/library/ubuntu:22.04",
        "ubuntu:22.04",
        "docker.io",
        "library/ubuntu",
        "22.04",
        None,
    ),
    ("library/ubuntu", "docker.io/library/ubuntu", "ubuntu", "docker.io", "library/ubuntu", None, None),
    ("docker.io/ubuntu", "docker.io/library/ubuntu", "ubuntu", "docker.io", "library/ubuntu", None, None),
    (
        "docker.io/library/ubuntu:22.04",
        "docker.io/library/ubuntu:22.04",
        "ubuntu:22.04",
        "docker.io",
        "library/ubuntu",
        "22.04",
        None,
    ),
    (
        "index.docker.io/library/ubuntu",
        "docker.io/library/ubuntu",
        "ubuntu",
        "docker.io",
        "library/ubuntu",
        None,
        None,
    ),
    (
        "index.docker.io/ubuntu:1",
        "docker.io/library/ubuntu:1",
        "ubuntu:1",
        "docker.io",
        "library/ubuntu",
        "1",
        None,
    ),
    (
        "grafana/grafana",
        "docker.io/grafana/grafana",
        "grafana/grafana",
        "docker.io",
        "grafana/grafana",
        None,
        None,
    ),
    (
        "grafana/grafana:11.0.0",
        "docker.io/grafana/grafana:11.0.0",
        "grafana/grafana:11.0.0",
        "docker.io",
        "grafana/grafana",
        "11.0.0",
        None,
    ),
    (
        "library/foo/bar",
        "docker.io/library/foo/bar",
        "library/foo/bar",
        "docker.io",
        "library/foo/bar",
        None,
        None,
    ),
    ("a/b/c/d", "docker.io/a/b/c/d", "a/b/c/d", "docker.io", "a/b/c/d", None, None),
    (
        "ghcr.io/loft-sh/vcluster-oss:0.36.1",
        "ghcr.io/loft-sh/vcluster-oss:0.36.1",
        "ghcr.io/loft-sh/vcluster-oss:0.36.1",
        "ghcr.io",
        "loft-sh/vcluster-oss",
        "0.36.1",
        None,
    ),
    (
        "registry.k8s.io/etcd:3.6.8-0",
        "registry.k8s.io/etcd:3.6.8-0",
        "registry.k8s.io/etcd:3.6.8-0",
        "registry.k8s.io",
        "etcd",
        "3.6.8-0",
        None,
    ),
    (
        "registry.k8s.io/pause",
        "registry.k8s.io/pause",
        "registry.k8s.io/pause",
        "registry.k8s.io",
        "pause",
        None,
        None,
    ),
    ("localhost/foo", "localhost/foo", "localhost/foo", "localhost", "foo", None, None),
    (
        "localhost:5000/foo:1",
        "localhost:5000/foo:1",
        "localhost:5000/foo:1",
        "localhost:5000",
        "foo",
        "1",
        None,
    ),
    (
        "127.0.0.1:5000/a/b:c",
        "127.0.0.1:5000/a/b:c",
        "127.0.0.1:5000/a/b:c",
        "127.0.0.1:5000",
        "a/b",
        "c",
        None,
    ),
    ("127.0.0.1/x", "127.0.0.1/x", "127.0.0.1/x", "127.0.0.1", "x", None, None),
    ("[::1]:5000/foo", "[::1]:5000/foo", "[::1]:5000/foo", "[::1]:5000", "foo", None, None),
    ("[::1]/foo:2", "[::1]/foo:2", "[::1]/foo:2", "[::1]", "foo", "2", None),
    (
        "[2001:db8::1]:443/ns/img@" + SHA256,
        f"[2001:db8::1]:443/ns/img@{SHA256}",
        f"[2001:db8::1]:443/ns/img@{SHA256}",
        "[2001:db8::1]:443",
        "ns/img",
        None,
        SHA256,
    ),
    ("Foo/bar", "Foo/bar", "Foo/bar", "Foo", "bar", None, None),
    ("EXAMPLE.com/x", "EXAMPLE.com/x", "EXAMPLE.com/x", "EXAMPLE.com", "x", None, None),
    ("my-registry:5000/x", "my-registry:5000/x", "my-registry:5000/x", "my-registry:5000", "x", None, None),
    ("a.b-c.d/e", "a.b-c.d/e", "a.b-c.d/e", "a.b-c.d", "e", None, None),
    (
        "xn--bcher-kva.example/x",
        "xn--bcher-kva.example/x",
        "xn--bcher-kva.example/x",
        "xn--bcher-kva.example",
        "x",
        None,
        None,
    ),
    ("foo_bar", "docker.io/library/foo_bar", "foo_bar", "docker.io", "library/foo_bar", None, None),
    ("foo__bar", "docker.io/library/foo__bar", "foo__bar", "docker.io", "library/foo__bar", None, None),
    ("foo.bar", "docker.io/library/foo.bar", "foo.bar", "docker.io", "library/foo.bar", None, None),
    ("foo-bar", "docker.io/library/foo-bar", "foo-bar", "docker.io", "library/foo-bar", None, None),
    ("foo---bar", "docker.io/library/foo---bar", "foo---bar", "docker.io", "library/foo---bar", None, None),
    ("a0/b1", "docker.io/a0/b1", "a0/b1", "docker.io", "a0/b1", None, None),
    ("0", "docker.io/library/0", "0", "docker.io", "library/0", None, None),
    ("x:_", "docker.io/library/x:_", "x:_", "docker.io", "library/x", "_", None),
    ("x:A.b-C_d", "docker.io/library/x:A.b-C_d", "x:A.b-C_d", "docker.io", "library/x", "A.b-C_d", None),
    (
        "x:" + "t" * 128,
        "docker.io/library/x:" + "t" * 128,
        "x:" + "t" * 128,
        "docker.io",
        "library/x",
        "t" * 128,
        None,
    ),
    ("x@" + SHA256, f"docker.io/library/x@{SHA256}", f"x@{SHA256}", "docker.io", "library/x", None, SHA256),
    (
        "x:1@" + SHA256,
        f"docker.io/library/x:1@{SHA256}",
        f"x:1@{SHA256}",
        "docker.io",
        "library/x",
        "1",
        SHA256,
    ),
    ("x@" + SHA384, f"docker.io/library/x@{SHA384}", f"x@{SHA384}", "docker.io", "library/x", None, SHA384),
    ("x@" + SHA512, f"docker.io/library/x@{SHA512}", f"x@{SHA512}", "docker.io", "library/x", None, SHA512),
    (
        "ghcr.io/a/b:1.0@" + SHA256,
        f"ghcr.io/a/b:1.0@{SHA256}",
        f"ghcr.io/a/b:1.0@{SHA256}",
        "ghcr.io",
        "a/b",
        "1.0",
        SHA256,
    ),
    (
        "localhost:5000/a:latest",
        "localhost:5000/a:latest",
        "localhost:5000/a:latest",
        "localhost:5000",
        "a",
        "latest",
        None,
    ),
    (
        "xpkg.crossplane.io/crossplane/crossplane:v2.3.4",
        "xpkg.crossplane.io/crossplane/crossplane:v2.3.4",
        "xpkg.crossplane.io/crossplane/crossplane:v2.3.4",
        "xpkg.crossplane.io",
        "crossplane/crossplane",
        "v2.3.4",
        None,
    ),
    (
        "envoyproxy/envoy:distroless-v1.39.0",
        "docker.io/envoyproxy/envoy:distroless-v1.39.0",
        "envoyproxy/envoy:distroless-v1.39.0",
        "docker.io",
        "envoyproxy/envoy",
        "distroless-v1.39.0",
        None,
    ),
    (
        "mirror.gcr.io/library/alpine:3.20",
        "mirror.gcr.io/library/alpine:3.20",
        "mirror.gcr.io/library/alpine:3.20",
        "mirror.gcr.io",
        "library/alpine",
        "3.20",
        None,
    ),
    (
        "a/" + "b" * 253,
        "docker.io/a/" + "b" * 253,
        "a/" + "b" * 253,
        "docker.io",
        "a/" + "b" * 253,
        None,
        None,
    ),
    ("example.com:1/x", "example.com:1/x", "example.com:1/x", "example.com:1", "x", None, None),
    (
        "example.com:65535/x",
        "example.com:65535/x",
        "example.com:65535/x",
        "example.com:65535",
        "x",
        None,
        None,
    ),
    (
        "docker.io/library/foo/bar:1",
        "docker.io/library/foo/bar:1",
        "library/foo/bar:1",
        "docker.io",
        "library/foo/bar",
        "1",
        None,
    ),
    (
        "ecr.us-east-1.amazonaws.com/team/app:sha-0a1b2c",
        "ecr.us-east-1.amazonaws.com/team/app:sha-0a1b2c",
        "ecr.us-east-1.amazonaws.com/team/app:sha-0a1b2c",
        "ecr.us-east-1.amazonaws.com",
        "team/app",
        "sha-0a1b2c",
        None,
    ),
]

# (input, fragment of the message): the part quoted, then why.
INVALID = [
    ("", "must not be empty"),
    ("Ubuntu", "'Ubuntu': repository name must be lowercase"),
    ("docker.io/Library/ubuntu", "'Library/ubuntu': repository name must be lowercase"),
    ("ghcr.io/Loft-sh/x", "'Loft-sh/x': repository name must be lowercase"),
    ("ubuntu:", "':' must be followed by a tag"),
    ("ubuntu@", "'@' must be followed by a digest"),
    ("ubuntu:-1", "must not start with '.' or '-'"),
    ("ubuntu:.1", "must not start with '.' or '-'"),
    ("ubuntu:a/b", "'ubuntu:a': registry port must be ':' followed by digits"),
    ("ubuntu:" + "t" * 129, "tag is 129 characters long"),
    ("ubuntu:tag!", "tag may contain only"),
    ("a/" + "b" * 254, "repository name is 256 characters long"),
    ("x" * 255, "repository name is 263 characters long"),
    ("/ubuntu", "empty path component"),
    ("ubuntu/", "empty path component"),
    ("a//b", "empty path component"),
    ("-foo", "path component '-foo' is invalid"),
    ("foo-", "path component 'foo-' is invalid"),
    ("foo.", "path component 'foo.' is invalid"),
    ("foo..bar", "path component 'foo..bar' is invalid"),
    ("foo___bar", "path component 'foo___bar' is invalid"),
    ("foo._bar", "path component 'foo._bar' is invalid"),
    ("_foo", "path component '_foo' is invalid"),
    ("foo bar", "whitespace"),
    (" ubuntu", "whitespace"),
    ("ubuntu\n", "whitespace"),
    ("a" * 64, "64-character hex string is an image ID"),
    ("0123456789abcdef" * 4, "64-character hex string is an image ID"),
    ("x@sha256:" + "a" * 63, "sha256 digest needs exactly 64 lowercase hex characters"),
    ("x@sha256:" + "a" * 65, "sha256 digest needs exactly 64 lowercase hex characters"),
    ("x@sha256:" + "A" * 64, "sha256 digest needs exactly 64 lowercase hex characters"),
    ("x@sha256:" + "g" * 64, "sha256 digest needs exactly 64 lowercase hex characters"),
    ("x@sha384:" + "a" * 64, "sha384 digest needs exactly 96"),
    ("x@sha512:" + "a" * 64, "sha512 digest needs exactly 128"),
    ("x@md5:" + "a" * 32, "digest algorithm 'md5' is not supported"),
    ("x@sha1:" + "a" * 40, "digest algorithm 'sha1' is not supported"),
    ("x@blake3:" + "a" * 64, "digest algorithm 'blake3' is not supported"),
    ("x@sha256", "digest must look like"),
    ("x@:" + "a" * 64, "digest must look like"),
    ("x@1sha:" + "a" * 64, "is malformed"),
    ("x@sha256:" + "a" * 64 + "@sha256:" + "a" * 64, "sha256 digest needs exactly 64"),
    ("localhost:99999/x", "registry port must be between 1 and 65535"),
    ("localhost:0/x", "registry port must be between 1 and 65535"),
    ("localhost:abc/x", "'localhost:abc': registry port must be ':' followed by digits"),
    ("-example.com/x", "registry host must be DNS labels"),
    ("example-.com/x", "registry host must be DNS labels"),
    ("exa_mple.com/x", "registry host must be DNS labels"),
    ("example..com/x", "registry host must be DNS labels"),
    ("[::1/x", "IPv6 registry host must look like"),
    ("[zz::1]:5000/x", "IPv6 registry host must look like"),
    ("[::1]x/y", "registry port must be ':' followed by digits"),
    ("example.com/x:1:2", "path component 'x:1' is invalid"),
    ("https://example.com/x", "image references have no scheme; drop 'https://'"),
    ("example.com/", "repository name must not be empty"),
    ("example.com/x?y", "path component 'x?y' is invalid"),
    ("ghcr.io/a/b:1@sha256:" + "a" * 64 + ":2", "sha256 digest needs exactly 64"),
    ("example.com", "docker.io/library/example.com"),
]


@pytest.mark.parametrize(("text", "canonical", "familiar", "domain", "path", "tag", "digest"), VALID)
def test_valid_reference_normalises(text, canonical, familiar, domain, path, tag, digest):
    ref = parse(text)
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (domain, path, tag, digest)
    assert str(ref) == canonical
    assert ref.familiar() == familiar
    assert parse(canonical) == ref
    assert parse(familiar) == ref


@pytest.mark.parametrize(("text", "message"), [case for case in INVALID if case[0] != "example.com"])
def test_invalid_reference_is_rejected_with_a_named_part(text, message):
    with pytest.raises(InvalidReferenceError) as caught:
        parse(text)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_bare_domain_looking_name_is_a_docker_hub_repository():
    # "example.com" has no '/', so it is a repository name on Docker Hub, as Docker reads it.
    assert str(parse("example.com")) == "docker.io/library/example.com"


def test_table_has_at_least_eighty_cases():
    assert len(VALID) + len(INVALID) >= 80


def test_message_quotes_the_part_and_the_whole_reference():
    with pytest.raises(InvalidReferenceError) as caught:
        parse("ghcr.io/x/y@md5:" + "a" * 32)
    error = caught.value
    assert error.part == "md5:" + "a" * 32
    assert str(error).startswith("'md5:")
    assert "(in image reference 'ghcr.io/x/y@md5:" in str(error)


def test_non_string_is_rejected_cleanly():
    with pytest.raises(InvalidReferenceError, match="must be a string"):
        parse(None)  # type: ignore[arg-type]


def test_reference_is_immutable_and_hashable():
    ref = parse("nginx:1.27")
    with pytest.raises(AttributeError):
        ref.tag = "x"  # type: ignore[misc]
    assert {ref, parse("docker.io/library/nginx:1.27")} == {ref}


def test_replace_helpers_return_new_validated_references():
    ref = parse("ghcr.io/loft-sh/vcluster-oss:0.36.1")
    assert str(ref.with_domain("index.docker.io")) == "docker.io/loft-sh/vcluster-oss:0.36.1"
    assert str(ref.with_path("mirror/vcluster")) == "ghcr.io/mirror/vcluster:0.36.1"
    assert str(ref.with_tag(None)) == "ghcr.io/loft-sh/vcluster-oss"
    pinned = ref.with_digest(SHA256)
    assert str(pinned) == f"ghcr.io/loft-sh/vcluster-oss:0.36.1@{SHA256}"
    assert pinned.pinned and not ref.pinned
    assert pinned.without_digest() == ref
    with pytest.raises(InvalidReferenceError, match="must be lowercase"):
        ref.with_path("Mirror/x")
    with pytest.raises(InvalidReferenceError, match="sha256 digest needs"):
        ref.with_digest("sha256:123")


def test_constructor_refuses_legacy_docker_hub_domain():
    with pytest.raises(InvalidReferenceError, match="use 'docker.io'"):
        ImageReference(domain="index.docker.io", path="library/x")
