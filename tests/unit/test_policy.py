"""The image policy: precedence, layouts, pinning, tag rules, trust.

Guards the bugs users hit when each consumer decides on its own: a mirror honoured by some
images and not others, an override that silently loses to a global registry, a digest that a
tag quietly replaces, plain HTTP switched on for every registry because one needed it.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from airlock.images import (
    ImagePolicy,
    LockEntry,
    Lockfile,
    PolicyError,
    PolicyErrors,
    UnpinnedImageError,
    parse,
    resolve,
    resolve_all,
)
from tests.support.pki import make_ca

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64

VCLUSTER = "ghcr.io/loft-sh/vcluster-oss:0.36.1"
ALPINE = "mirror.gcr.io/library/alpine:3.20"
NGINX = "docker.io/library/nginx:1.27"


def policy(**data: object) -> ImagePolicy:
    return ImagePolicy.model_validate(data)


def final(source: str, pol: ImagePolicy, lock: Lockfile | None = None, name: str | None = None) -> str:
    return str(resolve(source, pol, lock, name=name).final)


# -- layouts -------------------------------------------------------------------------------


def test_nest_layout_keeps_source_domain_as_first_component():
    pol = policy(mirrors=[{"source": "ghcr.io", "to": "mirror.example.com:5000/cache", "layout": "nest"}])
    assert final(VCLUSTER, pol) == "mirror.example.com:5000/cache/ghcr.io/loft-sh/vcluster-oss:0.36.1"


def test_flatten_layout_drops_source_domain():
    pol = policy(mirrors=[{"source": "docker.io", "to": "mirror.example.com", "layout": "flatten"}])
    assert final(NGINX, pol) == "mirror.example.com/library/nginx:1.27"


def test_replace_layout_swaps_the_matched_prefix():
    pol = policy(
        mirrors=[{"source": "ghcr.io/loft-sh", "to": "harbor.example.com/loft", "layout": "replace"}]
    )
    assert final(VCLUSTER, pol) == "harbor.example.com/loft/vcluster-oss:0.36.1"


def test_replace_of_a_whole_domain_keeps_the_path():
    pol = policy(mirrors=[{"source": "docker.io", "to": "harbor.example.com/dockerhub", "layout": "replace"}])
    assert final("grafana/grafana:11.0.0", pol) == "harbor.example.com/dockerhub/grafana/grafana:11.0.0"


def test_longest_prefix_wins_regardless_of_order():
    pol = policy(
        mirrors=[
            {"source": "ghcr.io", "to": "a.example.com", "layout": "nest"},
            {"source": "ghcr.io/loft-sh", "to": "b.example.com/loft", "layout": "replace"},
            {"source": "ghcr.io/loft-sh/other", "to": "c.example.com", "layout": "flatten"},
        ]
    )
    resolved = resolve(VCLUSTER, pol)
    assert str(resolved.final) == "b.example.com/loft/vcluster-oss:0.36.1"
    assert resolved.rule == "images.mirrors[1] (ghcr.io/loft-sh -> b.example.com/loft, replace)"
    assert final("ghcr.io/other/x:1", pol) == "a.example.com/ghcr.io/other/x:1"


def test_prefix_matches_whole_path_components_only():
    pol = policy(mirrors=[{"source": "ghcr.io/loft", "to": "m.example.com", "layout": "nest"}])
    assert final(VCLUSTER, pol) == VCLUSTER  # 'loft' is not a prefix of 'loft-sh'


def test_docker_hub_source_written_as_legacy_domain_still_matches():
    pol = policy(mirrors=[{"source": "index.docker.io", "to": "m.example.com", "layout": "nest"}])
    assert pol.mirrors[0].source == "docker.io"
    assert final("nginx:1.27", pol) == "m.example.com/docker.io/library/nginx:1.27"


def test_registry_override_applies_when_no_mirror_matches():
    pol = policy(
        registry={"to": "registry.prod.example.com", "layout": "nest"},
        mirrors=[{"source": "docker.io", "to": "hub-cache.example.com", "layout": "flatten"}],
    )
    assert final(NGINX, pol) == "hub-cache.example.com/library/nginx:1.27"
    resolved = resolve(VCLUSTER, pol)
    assert str(resolved.final) == "registry.prod.example.com/ghcr.io/loft-sh/vcluster-oss:0.36.1"
    assert resolved.rule == "images.registry (registry.prod.example.com, nest)"


def test_no_rules_keeps_the_source():
    resolved = resolve(ALPINE, policy())
    assert resolved.final == parse(ALPINE) and resolved.rule == "source"


# -- precedence ----------------------------------------------------------------------------


def test_full_image_override_beats_parts_mirrors_and_registry():
    pol = policy(
        registry={"to": "r.example.com"},
        mirrors=[{"source": "ghcr.io", "to": "m.example.com"}],
        overrides={"vcluster/control-plane": {"image": "quay.io/me/vcluster:9"}},
    )
    resolved = resolve(VCLUSTER, pol, name="vcluster/control-plane")
    assert str(resolved.final) == "quay.io/me/vcluster:9"
    assert resolved.rule == 'images.overrides["vcluster/control-plane"].image'


def test_parts_beat_mirror_rule_field_by_field():
    pol = policy(
        mirrors=[{"source": "ghcr.io", "to": "m.example.com/cache"}],
        overrides={"x": {"registry": "other.example.com:8443"}},
    )
    # registry from the override, repository still from the mirror rule (nest layout)
    assert (
        final(VCLUSTER, pol, name="x") == "other.example.com:8443/cache/ghcr.io/loft-sh/vcluster-oss:0.36.1"
    )
    pol = policy(
        mirrors=[{"source": "ghcr.io", "to": "m.example.com"}], overrides={"x": {"repository": "vc/oss"}}
    )
    assert final(VCLUSTER, pol, name="x") == "m.example.com/vc/oss:0.36.1"


def test_tag_override_changes_the_wanted_source_and_keeps_the_mirror():
    pol = policy(
        mirrors=[{"source": "docker.io", "to": "m.example.com"}],
        overrides={"web": {"tag": "1.28"}},
    )
    resolved = resolve(NGINX, pol, name="web")
    assert str(resolved.source) == "docker.io/library/nginx:1.28"
    assert str(resolved.final) == "m.example.com/docker.io/library/nginx:1.28"


def test_overrides_apply_only_to_their_logical_name():
    pol = policy(overrides={"a": {"tag": "2"}})
    assert final("ghcr.io/x/y:1", pol, name="b") == "ghcr.io/x/y:1"
    assert final("ghcr.io/x/y:1", pol) == "ghcr.io/x/y:1"


def test_digest_wins_over_tag_and_tag_is_kept_for_readers():
    pol = policy(overrides={"x": {"digest": D1}})
    resolved = resolve(VCLUSTER, pol, name="x")
    assert str(resolved.final) == f"{VCLUSTER}@{D1}"
    assert resolved.digest_from == "override"
    assert resolved.pull_policy == "IfNotPresent"


def test_tag_override_drops_a_source_digest_that_belonged_to_the_old_tag():
    pol = policy(overrides={"x": {"tag": "0.37.0"}})
    assert final(f"{VCLUSTER}@{D1}", pol, name="x") == "ghcr.io/loft-sh/vcluster-oss:0.37.0"


def test_explicit_digest_beats_lock_with_a_warning():
    lock = Lockfile({VCLUSTER: LockEntry(D2)})
    resolved = resolve(VCLUSTER, policy(overrides={"x": {"digest": D1}}), lock, name="x")
    assert resolved.final.digest == D1
    assert any("differs from images.lock" in warning for warning in resolved.warnings)


# -- contradictions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "location", "message"),
    [
        ({"image": "a/b:1", "tag": "2"}, ("overrides", "x"), "'image' sets the whole reference, so tag"),
        (
            {"image": "a/b:1", "registry": "r.io", "digest": D1},
            ("overrides", "x"),
            "registry, digest would be ignored",
        ),
        ({}, ("overrides", "x"), "override is empty"),
        ({"image": "Bad/Name:1"}, ("overrides", "x", "image"), "'Name': repository name must be lowercase"),
        (
            {"registry": "https://r.io"},
            ("overrides", "x", "registry"),
            "must not have a scheme; write 'r.io'",
        ),
        ({"registry": "r.io/team"}, ("overrides", "x", "registry"), "put 'team' into 'repository'"),
        ({"repository": "team/app:1"}, ("overrides", "x", "repository"), "must not carry a tag or digest"),
        ({"repository": "Team/app"}, ("overrides", "x", "repository"), "must be lowercase"),
        ({"tag": "-bad"}, ("overrides", "x", "tag"), "must not start with '.' or '-'"),
        ({"digest": "sha256:abc"}, ("overrides", "x", "digest"), "run 'airlock images lock'"),
        ({"tagg": "1"}, ("overrides", "x", "tagg"), "Extra inputs are not permitted"),
        (
            {"pullPolicy": "Sometimes"},
            ("overrides", "x", "pullPolicy"),
            "'Always', 'IfNotPresent' or 'Never'",
        ),
    ],
)
def test_bad_override_is_rejected_with_its_field_path(override, location, message):
    with pytest.raises(ValidationError) as caught:
        policy(overrides={"x": override})
    errors = caught.value.errors()
    assert errors[0]["loc"] == location
    assert message in errors[0]["msg"]


@pytest.mark.parametrize(
    ("data", "location", "message"),
    [
        (
            {"mirrors": [{"source": "library", "to": "m.io"}]},
            ("mirrors", 0, "source"),
            "write 'docker.io/library'",
        ),
        (
            {"mirrors": [{"source": "ghcr.io", "to": "m.io:99999"}]},
            ("mirrors", 0, "to"),
            "between 1 and 65535",
        ),
        (
            {"mirrors": [{"source": "ghcr.io", "to": "m.io/x:1"}]},
            ("mirrors", 0, "to"),
            "must not carry a tag",
        ),
        (
            {"mirrors": [{"source": "ghcr.io", "to": "m.io", "layout": "deep"}]},
            ("mirrors", 0, "layout"),
            "'nest', 'flatten' or 'replace'",
        ),
        (
            {"mirrors": [{"source": "ghcr.io", "to": "a.io"}, {"source": "ghcr.io", "to": "b.io"}]},
            (),
            "mirrors[1] repeats source 'ghcr.io' of mirrors[0]",
        ),
        ({"registry": {"to": "r.io", "layout": "replace"}}, ("registry", "layout"), "'nest' or 'flatten'"),
        ({"pin": "always"}, ("pin",), "'required', 'preferred' or 'off'"),
        ({"registries": {"r.io/x": {}}}, ("registries",), "must be host[:port] only"),
        (
            {"registries": {"r.io": {"insecure": True, "caBundle": "x"}}},
            ("registries", "r.io", "caBundle"),
            "not a PEM",
        ),
        (
            {"registries": {"r.io": {"caBundle": "not pem"}}},
            ("registries", "r.io", "caBundle"),
            "not a PEM certificate bundle",
        ),
        ({"unknown": 1}, ("unknown",), "Extra inputs are not permitted"),
    ],
)
def test_bad_policy_is_rejected_with_its_field_path(data, location, message):
    with pytest.raises(ValidationError) as caught:
        policy(**data)
    errors = caught.value.errors()
    assert errors[0]["loc"] == location
    assert message in errors[0]["msg"]


def test_insecure_with_ca_bundle_is_a_contradiction():
    ca_pem = make_ca().certificate_pem
    with pytest.raises(ValidationError, match="contradict each other"):
        policy(registries={"r.io": {"insecure": True, "ca_bundle": ca_pem}})


def test_ca_bundles_are_parsed_by_openssl():
    ca_pem = make_ca().certificate_pem
    two = ca_pem + make_ca().certificate_pem
    assert policy(registries={"r.io": {"ca_bundle": two}}).registries["r.io"].ca_bundle == two
    lines = ca_pem.splitlines()
    corrupted = "\n".join([lines[0], lines[1][:10] + "!!!!" + lines[1][14:], *lines[2:]])
    for bad, reason in (
        ("not a certificate", "is not a PEM certificate bundle;"),
        ("-----BEGIN CERTIFICATE-----", "OpenSSL can read"),
        (corrupted, "OpenSSL can read"),
    ):
        with pytest.raises(ValidationError) as caught:
            policy(registries={"r.io": {"ca_bundle": bad}})
        message = caught.value.errors()[0]["msg"]
        assert reason in message and "-----END CERTIFICATE-----" in message, message


def test_mirror_that_would_overflow_the_path_limit_is_a_policy_error():
    pol = policy(mirrors=[{"source": "docker.io", "to": "m.io/" + "a" * 200}])
    with pytest.raises(PolicyError, match="cannot be mirrored"):
        resolve("x/" + "b" * 100 + ":1", pol)


# -- pinning -------------------------------------------------------------------------------


def test_pin_required_takes_the_digest_from_the_lock_by_source_key():
    pol = policy(pin="required", mirrors=[{"source": "ghcr.io", "to": "m.example.com"}])
    lock = Lockfile({VCLUSTER: LockEntry(D1)})
    resolved = resolve(VCLUSTER, pol, lock)
    assert str(resolved.final) == f"m.example.com/ghcr.io/loft-sh/vcluster-oss:0.36.1@{D1}"
    assert resolved.digest_from == "lock"
    assert resolved.pull_policy == "IfNotPresent"


def test_pin_required_without_lock_entry_names_the_image_and_the_fix():
    pol = policy(pin="required")
    with pytest.raises(UnpinnedImageError) as caught:
        resolve(VCLUSTER, pol, Lockfile(), name="vcluster/control-plane")
    message = str(caught.value)
    assert message.startswith("images.lock: 'ghcr.io/loft-sh/vcluster-oss:0.36.1': pin is 'required'")
    assert "vcluster/control-plane" in message
    assert "run 'airlock images lock'" in message


def test_pin_required_accepts_an_explicit_digest_without_lock():
    resolved = resolve(f"{VCLUSTER}@{D3}", policy(pin="required"), Lockfile())
    assert resolved.final.digest == D3 and resolved.digest_from == "source"


def test_pin_preferred_uses_the_lock_when_present_and_warns_when_not():
    lock = Lockfile({VCLUSTER: LockEntry(D1)})
    assert resolve(VCLUSTER, policy(), lock).final.digest == D1
    unpinned = resolve(ALPINE, policy(), lock)
    assert unpinned.final.digest is None
    assert unpinned.warnings == (
        "mirror.gcr.io/library/alpine:3.20: not pinned (no images.lock entry for "
        "mirror.gcr.io/library/alpine:3.20)",
    )


def test_pin_off_ignores_the_lock():
    lock = Lockfile({VCLUSTER: LockEntry(D1)})
    resolved = resolve(VCLUSTER, policy(pin="off"), lock)
    assert resolved.final.digest is None and resolved.warnings == ()


def test_lock_is_keyed_by_source_after_a_tag_override():
    lock = Lockfile({"ghcr.io/loft-sh/vcluster-oss:0.37.0": LockEntry(D2)})
    pol = policy(pin="required", overrides={"vc": {"tag": "0.37.0"}})
    assert resolve(VCLUSTER, pol, lock, name="vc").final.digest == D2


def test_resolve_all_reports_every_problem_at_once():
    pol = policy(pin="required")
    with pytest.raises(PolicyErrors) as caught:
        resolve_all({"a": VCLUSTER, "b": ALPINE, "c": f"{NGINX}@{D1}"}, pol, Lockfile())
    assert [problem.value for problem in caught.value.problems] == [VCLUSTER, ALPINE]
    assert str(caught.value).count("\n") == 1


# -- tags and pull policy ------------------------------------------------------------------


def test_latest_is_forbidden_unless_allowed():
    with pytest.raises(PolicyError, match="':latest' is forbidden without a digest"):
        resolve("nginx:latest", policy())
    assert final("nginx:latest", policy(tags={"allow_latest": True})) == "docker.io/library/nginx:latest"


def test_untagged_is_forbidden_unless_allowed():
    with pytest.raises(PolicyError, match="neither tag nor digest"):
        resolve("nginx", policy())
    assert final("nginx", policy(tags={"allow_untagged": True})) == "docker.io/library/nginx"


def test_latest_with_a_digest_is_immutable_and_allowed():
    assert resolve(f"nginx:latest@{D1}", policy()).final.digest == D1


def test_mutable_tag_warns():
    resolved = resolve("ghcr.io/x/y:main", policy(pin="off"))
    assert resolved.warnings == ("ghcr.io/x/y:main: tag 'main' moves over time and has no digest",)
    custom = resolve("ghcr.io/x/y:1.0-dev", policy(pin="off", tags={"mutable_tags": ["*-dev"]}))
    assert custom.warnings == ("ghcr.io/x/y:1.0-dev: tag '1.0-dev' moves over time and has no digest",)


def test_pull_policy_is_if_not_present_for_pinned_and_configurable_otherwise():
    pol = policy(pull_policy="Always", pin="off")
    assert resolve(NGINX, pol).pull_policy == "Always"
    assert resolve(f"{NGINX}@{D1}", pol).pull_policy == "IfNotPresent"
    pol = policy(pull_policy="Always", pin="off", overrides={"web": {"pull_policy": "Never"}})
    assert resolve(f"{NGINX}@{D1}", pol, name="web").pull_policy == "Never"


# -- trust ---------------------------------------------------------------------------------


def test_insecure_only_where_declared():
    pol = policy(
        mirrors=[{"source": "docker.io", "to": "localhost:5001"}],
        registries={"localhost:5001": {"insecure": True}},
    )
    assert resolve(NGINX, pol).insecure is True
    assert resolve(VCLUSTER, pol).insecure is False  # not mirrored, not declared
    other = policy(mirrors=[{"source": "docker.io", "to": "localhost:5002"}])
    assert resolve(NGINX, other).insecure is False  # loopback is never implied insecure


def test_ca_bundle_and_credentials_registry_follow_the_final_domain():
    ca_pem = make_ca().certificate_pem
    pol = policy(
        registry={"to": "registry.internal:8443"},
        registries={"registry.internal:8443": {"ca_bundle": ca_pem}},
    )
    resolved = resolve(VCLUSTER, pol)
    assert resolved.registry == "registry.internal:8443"
    assert resolved.ca_bundle == ca_pem
    assert resolve(VCLUSTER, policy()).ca_bundle is None


def test_unknown_override_names_are_listed():
    pol = policy(overrides={"vcluster/syncer": {"tag": "1"}, "vcluster/etcd": {"tag": "2"}})
    assert pol.unknown_overrides(["vcluster/etcd"]) == ["vcluster/syncer"]


def test_resolved_image_as_dict_is_plain_data():
    resolved = resolve(VCLUSTER, policy(pin="off"), name="vc")
    assert resolved.as_dict() == {
        "name": "vc",
        "source": VCLUSTER,
        "final": VCLUSTER,
        "rule": "source",
        "pull_policy": "IfNotPresent",
        "registry": "ghcr.io",
        "insecure": False,
        "digest_from": None,
        "warnings": [],
    }


def test_image_already_in_the_environment_registry_is_not_nested_again():
    pol = policy(registry={"to": "registry.prod.example.com/platform", "layout": "nest"})
    hosted = resolve("registry.prod.example.com/platform/team/web:1.4.2", pol)
    assert str(hosted.final) == "registry.prod.example.com/platform/team/web:1.4.2"
    assert hosted.rule == "source (already in images.registry)"
    # same host, outside the registry's base path: relocated like any other image
    other = resolve("registry.prod.example.com/other/web:1", pol)
    assert str(other.final) == "registry.prod.example.com/platform/registry.prod.example.com/other/web:1"


def test_nest_layout_encodes_a_source_port_as_a_valid_path_component():
    pol = policy(registry={"to": "mirror.example.com", "layout": "nest"})
    assert final("registry.corp:8443/team/app:1", pol) == "mirror.example.com/registry.corp_8443/team/app:1"
    assert final("Registry.Corp/team/app:1", pol) == "mirror.example.com/registry.corp/team/app:1"
    with pytest.raises(PolicyError, match="cannot be mirrored"):
        resolve("[::1]:5000/team/app:1", pol)  # '__1_5000' starts with a separator: no valid spelling
