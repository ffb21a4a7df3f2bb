"""The image table: requests resolved once, pull secrets by namespace, every problem at once."""

from __future__ import annotations

import pytest

from components.images import ImagePolicy, PolicyErrors
from components.images.table import ImageRequest, build_table, catalog_request

POLICY = ImagePolicy.model_validate({"registry": {"to": "r.example.com"}, "pin": "off"})


def test_requests_resolve_and_secrets_follow_namespaces():
    table = build_table(
        [
            ImageRequest("apps/web", "nginx:1.27", "apps"),
            ImageRequest("apps/web", "nginx:1.27", "apps"),  # duplicates collapse
            catalog_request("vcluster/background-proxy", None),
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
    assert any("requested twice" in reason for reason in reasons)


def test_overrides_for_unrequested_non_catalog_names_are_rejected():
    policy = ImagePolicy.model_validate(
        {"overrides": {"apps/nope": {"tag": "1"}, "vcluster/etcd": {"tag": "x"}}}
    )
    with pytest.raises(PolicyErrors) as caught:
        build_table([ImageRequest("apps/web", "nginx:1.27", "apps")], policy, None)
    assert [problem.value for problem in caught.value.problems] == ["apps/nope"]
