"""The image table: requests resolved once, pull secrets by namespace, every problem at once."""

from __future__ import annotations

import pytest

from airlock.catalog import CATALOG
from airlock.images import ImagePolicy, PolicyErrors
from airlock.images.table import ImageRequest, build_table

POLICY = ImagePolicy.model_validate({"registry": {"to": "r.example.com"}, "pin": "off"})


def test_requests_resolve_and_secrets_follow_namespaces():
    table = build_table(
        [
            ImageRequest("apps/web", "nginx:1.27", "apps"),
            ImageRequest("apps/web", "nginx:1.27", "apps"),  # duplicates collapse
            ImageRequest("vcluster/background-proxy", CATALOG["vcluster/background-proxy"].source, None),
        ],
        POLICY,
        None,
        credential_registries=["r.example.com"],
    )
    assert [entry.request.name for entry in table.entries] == ["apps/web", "vcluster/background-proxy"]
    assert table.secret_registries == {"apps": ("r.example.com",)}
    assert table.entry("apps/web").pull_secrets == ("airlock-pull",)
    assert table.entry("vcluster/background-proxy").pull_secrets == ()  # not pulled by a pod
    assert str(table.resolved("apps/web").final) == "r.example.com/docker.io/library/nginx:1.27"
    assert table.pull_secrets_for("apps") == ["airlock-pull"] and table.pull_secrets_for("other") == []


def test_unknown_name_lookup_lists_requested_names():
    table = build_table([ImageRequest("apps/web", "nginx:1.27", "apps")], POLICY, None)
    with pytest.raises(KeyError, match="requested: apps/web"):
        table.entry("apps/api")


def test_all_request_problems_are_collected():
    with pytest.raises(PolicyErrors) as caught:
        build_table(
            [
                ImageRequest("Web", "nginx:1.27", "apps"),
                ImageRequest("apps/x", "nginx:1.27", "Bad_NS"),
                ImageRequest("apps/y", "Nginx", "apps"),
                ImageRequest("apps/z", "a:1", "apps"),
                ImageRequest("apps/z", "b:1", "apps"),
            ],
            POLICY,
            None,
        )
    reasons = [problem.reason for problem in caught.value.problems]
    assert len(reasons) == 4
    assert "logical image names are '<consumer>/<role>' in lowercase" in reasons[0]
    assert any("DNS-1123" in reason for reason in reasons)
    assert any("must be lowercase" in reason for reason in reasons)
    assert any("is requested with two sources, a:1 and b:1" in reason for reason in reasons)


def test_one_logical_name_is_one_image_in_every_namespace():
    with pytest.raises(PolicyErrors) as caught:
        build_table(
            [ImageRequest("apps/z", "a:1", "apps"), ImageRequest("apps/z", "b:1", "batch")], POLICY, None
        )
    (problem,) = caught.value.problems
    assert problem.path == "image apps/z" and "two sources" in problem.reason


def test_overrides_for_unrequested_non_catalog_names_are_rejected():
    policy = ImagePolicy.model_validate(
        {"overrides": {"apps/nope": {"tag": "1"}, "vcluster/etcd": {"tag": "x"}}}
    )
    with pytest.raises(PolicyErrors) as caught:
        build_table([ImageRequest("apps/web", "nginx:1.27", "apps")], policy, None, known_names=CATALOG)
    assert [problem.value for problem in caught.value.problems] == ["apps/nope"]


def test_two_sources_folded_into_one_final_reference_are_an_error_naming_both():
    """flatten folds docker.io/team/web and ghcr.io/team/web together: the mirror would copy
    only one of them (issue: under pin: required only one was ever mirrored)."""
    policy = ImagePolicy.model_validate(
        {"registry": {"to": "m.example.com", "layout": "flatten"}, "pin": "off"}
    )
    requests = [
        ImageRequest("apps/hub", "docker.io/team/web:1.0", "apps"),
        ImageRequest("apps/ghcr", "ghcr.io/team/web:1.0", "apps"),
        ImageRequest("apps/hub-again", "docker.io/team/web:1.0", "other"),  # same source: fine
    ]
    with pytest.raises(PolicyErrors) as caught:
        build_table(requests, policy, None)
    # apps/ghcr claims the reference first (names sort); each docker.io image then conflicts.
    assert [problem.path for problem in caught.value.problems] == ["image apps/hub", "image apps/hub-again"]
    problem = caught.value.problems[0]
    assert problem.value == "m.example.com/team/web:1.0"
    assert "apps/ghcr (ghcr.io/team/web:1.0, by images.registry (m.example.com, flatten))" in problem.reason
    assert "apps/hub (docker.io/team/web:1.0" in problem.reason
    assert "nest layout" in problem.fix
    nested = ImagePolicy.model_validate({"registry": {"to": "m.example.com"}, "pin": "off"})
    assert len(build_table(requests, nested, None).entries) == 3  # nest keeps them apart


def test_an_image_that_must_avoid_a_registry_cannot_be_overridden_into_it():
    policy = ImagePolicy.model_validate(
        {"overrides": {"registry/registry": {"registry": "r.example.com"}}, "pin": "off"}
    )
    request = ImageRequest(
        "registry/registry", "docker.io/library/registry:3.0.0", "infra", ("r.example.com",)
    )
    with pytest.raises(PolicyErrors) as caught:
        build_table([request], policy, None)
    [problem] = caught.value.problems
    assert problem.path == 'images.overrides["registry/registry"]'
    assert "the registry it runs itself" in problem.reason
