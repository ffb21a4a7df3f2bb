"""Malformed stack configurations: a clear error naming the config path, and nothing registered.

Guards the worst failure of an infrastructure program: half a deployment from a typo. Each
case runs the real __main__.py under the recording engine and asserts that not one resource
reached the engine.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from components.config import ConfigError
from components.plan.engine import PlanError

from .conftest import run_stack, stack_values

Values = dict[str, Any]
SECRET = "airlock:registryCredentials"


def images(values: Values) -> dict[str, Any]:
    return values.setdefault("airlock:images", {})


def set_key(key: str, value: Any) -> Callable[[Values, set[str]], None]:
    def mutate(values: Values, secrets: set[str]) -> None:
        values[key] = value

    return mutate


def edit_images(change: Callable[[dict[str, Any]], None]) -> Callable[[Values, set[str]], None]:
    def mutate(values: Values, secrets: set[str]) -> None:
        change(images(values))

    return mutate


def add_workload(name: str, workload: Any) -> Callable[[Values, set[str]], None]:
    def mutate(values: Values, secrets: set[str]) -> None:
        values.setdefault("airlock:workloadImages", {})[name] = workload

    return mutate


def credentials(entry: dict[str, Any], secret: bool = True) -> Callable[[Values, set[str]], None]:
    def mutate(values: Values, secrets: set[str]) -> None:
        values[SECRET] = entry
        if secret:
            secrets.add(SECRET)

    return mutate


def _report(values: Values, data: dict[str, Any]) -> None:
    import json
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "verify.json"
    path.write_text(json.dumps(data))
    values["airlock:verifyReport"] = str(path)


def bad_lock_file(values: Values, secrets: set[str]) -> None:
    import tempfile
    from pathlib import Path

    directory = Path(tempfile.mkdtemp())
    (directory / "images.lock").write_text("version: 1\nimages:\n  nginx:1.27:\n    digest: sha256:abc\n")
    values["airlock:lockFile"] = str(directory / "images.lock")


def registry(data: dict[str, Any], secret: bool = False) -> Callable[[Values, set[str]], None]:
    def mutate(values: Values, secrets: set[str]) -> None:
        values["airlock:registry"] = data
        if secret:
            secrets.add("airlock:registry")

    return mutate


def both(*mutations: Callable[[Values, set[str]], None]) -> Callable[[Values, set[str]], None]:
    def mutate(values: Values, secrets: set[str]) -> None:
        for mutation in mutations:
            mutation(values, secrets)

    return mutate


CASES: list[tuple[str, Callable[[Values, set[str]], None], str, str]] = [
    ("environment-not-dns", set_key("airlock:environment", "Dev_1"), "airlock:environment", "DNS-1123 label"),
    ("environment-empty", set_key("airlock:environment", ""), "airlock:environment", "DNS-1123 label"),
    ("unknown-top-key", set_key("airlock:imagez", {}), "airlock:imagez", "unknown config key"),
    (
        "images-not-structured",
        set_key("airlock:images", "registry.example.com"),
        "airlock:images",
        "is not a structured value",
    ),
    ("images-is-a-list", set_key("airlock:images", []), "airlock:images", "valid dictionary"),
    (
        "pin-unknown",
        edit_images(lambda i: i.update(pin="always")),
        "airlock:images.pin",
        "'required', 'preferred' or 'off'",
    ),
    (
        "pull-policy-unknown",
        edit_images(lambda i: i.update(pullPolicy="Sometimes")),
        "airlock:images.pullPolicy",
        "'Always'",
    ),
    (
        "images-unknown-key",
        edit_images(lambda i: i.update(mirror=[])),
        "airlock:images.mirror",
        "allowed: mirrors, overrides",
    ),
    (
        "mirror-port",
        edit_images(lambda i: i.update(mirrors=[{"source": "docker.io", "to": "m.io:99999"}])),
        "airlock:images.mirrors[0].to",
        "between 1 and 65535",
    ),
    (
        "mirror-source-no-domain",
        edit_images(lambda i: i.update(mirrors=[{"source": "library", "to": "m.io"}])),
        "airlock:images.mirrors[0].source",
        "write 'docker.io/library'",
    ),
    (
        "mirror-layout",
        edit_images(lambda i: i.update(mirrors=[{"source": "ghcr.io", "to": "m.io", "layout": "deep"}])),
        "airlock:images.mirrors[0].layout",
        "'nest', 'flatten' or 'replace'",
    ),
    (
        "mirror-duplicate",
        edit_images(
            lambda i: i.update(
                mirrors=[{"source": "ghcr.io", "to": "a.io"}, {"source": "ghcr.io", "to": "b.io"}]
            )
        ),
        "airlock:images",
        "mirrors[1] repeats source 'ghcr.io'",
    ),
    (
        "mirrors-not-list",
        edit_images(lambda i: i.update(mirrors={"source": "ghcr.io"})),
        "airlock:images.mirrors",
        "valid tuple",
    ),
    (
        "registry-scheme",
        edit_images(lambda i: i.update(registry={"to": "https://r.io"})),
        "airlock:images.registry.to",
        "must not have a scheme; write 'r.io'",
    ),
    (
        "registry-layout-replace",
        edit_images(lambda i: i.update(registry={"to": "r.io", "layout": "replace"})),
        "airlock:images.registry.layout",
        "'nest' or 'flatten'",
    ),
    (
        "override-contradiction",
        edit_images(lambda i: i.update(overrides={"apps/web": {"image": "nginx:1.28", "tag": "1.29"}})),
        'airlock:images.overrides["apps/web"]',
        "set either 'image' or the parts",
    ),
    (
        "override-unknown-name",
        edit_images(lambda i: i.update(overrides={"apps/nope": {"tag": "1"}})),
        'airlock:images.overrides["apps/nope"]',
        "no consumer needs an image by that name",
    ),
    (
        "override-bad-digest",
        edit_images(lambda i: i.update(overrides={"apps/web": {"digest": "sha256:abc"}})),
        'airlock:images.overrides["apps/web"].digest',
        "run 'airlock images lock'",
    ),
    (
        "override-bad-tag",
        edit_images(lambda i: i.update(overrides={"apps/web": {"tag": "-x"}})),
        'airlock:images.overrides["apps/web"].tag',
        "must not start with '.' or '-'",
    ),
    (
        "override-registry-path",
        edit_images(lambda i: i.update(overrides={"apps/web": {"registry": "r.io/team"}})),
        'airlock:images.overrides["apps/web"].registry',
        "put 'team' into 'repository'",
    ),
    (
        "override-empty",
        edit_images(lambda i: i.update(overrides={"apps/web": {}})),
        'airlock:images.overrides["apps/web"]',
        "override is empty",
    ),
    (
        "trust-contradiction",
        edit_images(lambda i: i.update(registries={"r.io": {"insecure": True, "caBundle": "x"}})),
        'airlock:images.registries["r.io"].caBundle',
        "not a PEM",
    ),
    (
        "trust-not-pem",
        edit_images(lambda i: i.update(registries={"r.io": {"caBundle": "hello"}})),
        'airlock:images.registries["r.io"].caBundle',
        "not a PEM certificate bundle",
    ),
    (
        "allow-latest-not-bool",
        edit_images(lambda i: i.update(tags={"allowLatest": "maybe"})),
        "airlock:images.tags.allowLatest",
        "valid boolean",
    ),
    (
        "workload-bad-image",
        add_workload("apps/api", {"image": "Nginx:1", "namespace": "apps"}),
        'airlock:workloadImages["apps/api"].image',
        "must be lowercase",
    ),
    (
        "workload-undeclared-namespace",
        add_workload("apps/api", {"image": "nginx:1.27", "namespace": "payments"}),
        'airlock:workloadImages["apps/api"].namespace',
        "add 'payments: {}'",
    ),
    (
        "workload-catalog-name",
        add_workload("vcluster/etcd", {"image": "nginx:1.27", "namespace": "apps"}),
        'airlock:workloadImages["vcluster/etcd"]',
        "catalog image",
    ),
    (
        "workload-bad-name",
        add_workload("Web", {"image": "nginx:1.27", "namespace": "apps"}),
        "airlock:workloadImages",
        "use '<group>/<role>' in lowercase",
    ),
    (
        "workload-untagged",
        add_workload("apps/api", {"image": "nginx", "namespace": "apps"}),
        'airlock:workloadImages["apps/api"].image',
        "neither tag nor digest",
    ),
    (
        "workload-missing-namespace",
        add_workload("apps/api", {"image": "nginx:1.27"}),
        'airlock:workloadImages["apps/api"].namespace',
        "is required",
    ),
    (
        "namespace-not-dns",
        set_key("airlock:namespaces", {"Apps": {}}),
        "airlock:namespaces",
        "DNS-1123 label",
    ),
    (
        "namespace-not-mapping",
        set_key("airlock:namespaces", {"apps": 3}),
        "airlock:namespaces.apps",
        "valid dictionary",
    ),
    (
        "pull-secret-name",
        set_key("airlock:pullSecretName", "Bad_Name"),
        "airlock:pullSecretName",
        "DNS-1123 subdomain",
    ),
    (
        "credentials-not-secret",
        credentials({"r.io": {"username": "u", "password": "p"}}, secret=False),
        SECRET,
        "not a secret config value",
    ),
    (
        "credentials-missing-password",
        credentials({"r.io": {"username": "u"}}),
        'airlock:registryCredentials["r.io"].password',
        "is required",
    ),
    (
        "credentials-key-path",
        credentials({"r.io/team": {"username": "u", "password": "p"}}),
        SECRET,
        "not a repository path",
    ),
    (
        "pin-required-without-lock",
        edit_images(lambda i: i.update(pin="required")),
        "images.lock",
        "pin is 'required' but there is no digest",
    ),
    (
        "registry-caches-in-external",
        registry(
            {"mode": "external", "endpoint": "r.io", "password": "p", "caches": [{"upstream": "docker.io"}]},
            secret=True,
        ),
        "airlock:registry",
        "caches do not apply to mode 'external'",
    ),
    (
        "registry-insecure-with-ca",
        registry(
            {
                "mode": "external",
                "endpoint": "r.io",
                "password": "p",
                "insecure": True,
                "caBundle": "-----BEGIN CERTIFICATE-----",
            },
            secret=True,
        ),
        "airlock:registry.caBundle",
        "not a PEM",
    ),
    (
        "registry-unknown-upstream",
        registry({"mode": "in-cluster", "host": "r.example.com", "caches": [{"upstream": "example.org"}]}),
        "airlock:registry.caches[0]",
        "unknown upstream 'example.org'",
    ),
    (
        "registry-mode-unknown",
        registry({"mode": "kind"}),
        "airlock:registry.mode",
        "'in-cluster', 'docker' or 'external'",
    ),
    ("registry-in-cluster-no-host", registry({"mode": "in-cluster"}), "airlock:registry", "needs host"),
    (
        "registry-namespace-undeclared",
        registry({"mode": "in-cluster", "host": "r.example.com", "namespace": "registry"}),
        "airlock:registry.namespace",
        "add 'registry: {}'",
    ),
    (
        "registry-password-not-secret",
        registry({"mode": "external", "endpoint": "r.io", "password": "p"}),
        "airlock:registry",
        "not a secret config value",
    ),
    (
        "registry-external-no-password",
        registry({"mode": "external", "endpoint": "r.io"}),
        "airlock:registry.password",
        "needs the registry's password",
    ),
    (
        "registry-network-policy-no-cidrs",
        registry({"mode": "in-cluster", "host": "r.example.com", "networkPolicy": {"enabled": True}}),
        "airlock:registry.networkPolicy",
        "kubelets pull from node IPs",
    ),
    (
        "registry-credentials-duplicate",
        both(
            registry({"mode": "external", "endpoint": "r.io", "password": "p"}, secret=True),
            credentials({"r.io": {"username": "u", "password": "p"}}),
        ),
        'airlock:registryCredentials["r.io"]',
        "supplies its own login",
    ),
    (
        "tenant-name-invalid",
        set_key("airlock:vcluster", {"tenants": [{"name": "Team_A"}]}),
        "airlock:vcluster.tenants[0].name",
        "DNS-1123 label",
    ),
    (
        "tenant-unknown-fromhost",
        set_key(
            "airlock:vcluster",
            {"tenants": [{"name": "a", "sync": {"fromHost": {"pods": {"enabled": True}}}}]},
        ),
        "airlock:vcluster.tenants[0].sync.fromHost",
        "does not know fromHost syncer 'pods'",
    ),
    (
        "tenant-kubernetes-version",
        set_key("airlock:vcluster", {"kubernetesVersion": "1.36"}),
        "airlock:vcluster.kubernetesVersion",
        "v1.MINOR.PATCH",
    ),
    (
        "verify-report-missing",
        set_key("airlock:verifyReport", "no-such-report.json"),
        "airlock:verifyReport",
        "does not exist",
    ),
    (
        "verify-report-other-stack",
        lambda v, s: _report(v, {"stack": "prod", "not_mirrored": []}),
        "airlock:verifyReport",
        "was written for stack 'prod'",
    ),
    (
        "malformed-lock-file",
        bad_lock_file,
        "images.lock['nginx:1.27']",
        "write it as 'docker.io/library/nginx:1.27'",
    ),
]


@pytest.mark.parametrize(("case", "mutate", "path", "message"), CASES, ids=[case[0] for case in CASES])
def test_malformed_config_registers_nothing_and_names_the_path(case, mutate, path, message):
    values, secrets = stack_values("dev")
    values = copy.deepcopy(values)
    mutate(values, secrets)
    with pytest.raises(PlanError) as caught:
        run_stack("dev", values, secrets)
    error = caught.value
    assert isinstance(error.cause, ConfigError), error
    assert error.recording.resources == []
    matching = [
        str(problem)
        for problem in error.cause.problems
        if problem.path.startswith(path) or problem.path.endswith(path)
    ]
    assert matching, f"no problem at {path!r} in:\n{error}"
    assert any(message in text for text in matching), f"{message!r} not in {matching}"
    assert "nothing was deployed" in str(error)


def test_at_least_thirty_malformed_configurations():
    assert len(CASES) >= 30


def test_every_problem_is_reported_at_once():
    values, secrets = stack_values("dev")
    values["airlock:images"]["pin"] = "always"
    values["airlock:images"]["pullPolicy"] = "Sometimes"
    values["airlock:pullSecretName"] = "Bad_Name"
    values["airlock:bogus"] = "1"
    with pytest.raises(PlanError) as caught:
        run_stack("dev", values, secrets)
    problems = [str(problem) for problem in caught.value.cause.problems]
    assert len(problems) == 4
    assert "stack 'dev': 4 problems" in str(caught.value)


def test_secret_values_never_appear_in_errors():
    values, secrets = stack_values("dev")
    values[SECRET] = {"bad host!": {"username": "u", "password": "hunter2-secret"}}
    with pytest.raises(PlanError) as caught:
        run_stack("dev", values, secrets | {SECRET})
    assert "hunter2-secret" not in str(caught.value)
    assert "[secret]" in str(caught.value)
