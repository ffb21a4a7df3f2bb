"""Secret config values never reach an output channel, and stay secret wherever they flow.

The engine hands a program its config decrypted; these tests do the same (real values, the
secret keys marked) and scan everything a user or a PR comment could see: the plan as text
and JSON, ``plan diff`` as text and JSON, warnings, error messages and tracebacks. For each
secret they look for the value, its base64, and the base64 ``auth`` field of a pull secret.

Guards: a tenant's chart ``values`` from secret config passed to helm.v4.Chart in clear (then
stored unencrypted in state and shown by ``pulumi preview --diff``), a password in clear
config accepted in those values, and errors that echoed passwords or a TLS key from clear
config.
"""

from __future__ import annotations

import base64
import copy
import json
import re

import pytest
from pulumi.runtime import rpc

from tests.support.cli import run_cli
from tests.support.pki import make_ca, make_server_certificate

from .conftest import plan_with_cli, stack_values

CREDENTIAL_PASSWORD = "cred-pw-7f3a9c"
CACHE_PASSWORD = "cache-pw-51be20"
DATABASE_PASSWORD = "db-pw-c0ffee42"
EXTERNAL_PASSWORD = "robot-token-9d8e7f"


CLEAR_CASE_NAMES = {
    "credential-password-bad-host",
    "credential-password-not-a-string",
    "external-password-with-unknown-field",
    "external-password-wrong-type",
    "external-mode-error-carries-the-whole-section",
    "cache-password-without-user",
}


def leaked(text: str, secrets: dict[str, str]) -> list[str]:
    """Which secrets (or their base64 / auth forms) appear in ``text``."""
    found = []
    for user, secret in secrets.items():
        forms = {
            secret,
            base64.b64encode(secret.encode()).decode(),
            base64.b64encode(f"{user}:{secret}".encode()).decode(),
        }
        found += [form for form in forms if form in text]
    return found


@pytest.fixture(scope="module")
def tls_material():
    ca = make_ca("leak-test CA")
    server = make_server_certificate(ca, dns_names=("registry.staging.example.com",))
    return ca, server


def staging_with_secrets(tls_material):
    ca, server = tls_material
    values, secrets = stack_values("staging")
    values = copy.deepcopy(values)
    values["airlock:registryCredentials"] = {
        "ghcr.io": {"username": "ci-bot", "password": CREDENTIAL_PASSWORD}
    }
    registry = values["airlock:registry"]
    registry["caches"] = [
        {"upstream": "docker.io", "username": "hub-user", "password": CACHE_PASSWORD},
        {"upstream": "registry.k8s.io"},
    ]
    registry["tls"] = {
        "mode": "provided",
        "certificate": server.certificate_pem,
        "key": server.key_pem,
        "ca": ca.certificate_pem,
    }
    tenant = values["airlock:vcluster"]["tenants"][0]
    tenant["values"] = {
        "controlPlane": {
            "backingStore": {
                "database": {
                    "external": {
                        "enabled": True,
                        "dataSource": f"mysql://root:{DATABASE_PASSWORD}@tcp(db:3306)/vc",
                    }
                }
            }
        }
    }
    secret_keys = secrets | {"airlock:registryCredentials", "airlock:registry", "airlock:vcluster"}
    watched = {
        "ci-bot": CREDENTIAL_PASSWORD,
        "hub-user": CACHE_PASSWORD,
        "root": DATABASE_PASSWORD,
        "key": server.key_pem.split("\n")[1],  # a line of the private key
    }
    return values, secret_keys, watched


def test_plan_text_json_and_diff_never_show_a_secret(monkeypatch, tmp_path, tls_material):
    values, secret_keys, watched = staging_with_secrets(tls_material)
    text = plan_with_cli(monkeypatch, "staging", values, secret_keys)
    assert text.exit_code == 0, text.stderr
    as_json = plan_with_cli(monkeypatch, "staging", values, secret_keys, "--format", "json")
    assert as_json.exit_code == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert document["warnings"], "the staging plan warns (unpinned images): warnings are scanned too"

    changed = copy.deepcopy(values)
    changed["airlock:registryCredentials"]["ghcr.io"]["password"] = CREDENTIAL_PASSWORD + "-rotated"
    changed["airlock:vcluster"]["tenants"][0]["values"]["controlPlane"]["backingStore"]["database"][
        "external"
    ]["dataSource"] = f"mysql://root:{DATABASE_PASSWORD}-rotated@tcp(db:3306)/vc"
    rotated = plan_with_cli(monkeypatch, "staging", changed, secret_keys, "--format", "json")
    (tmp_path / "old.json").write_text(as_json.stdout)
    (tmp_path / "new.json").write_text(rotated.stdout)
    diff_text = run_cli("plan", "diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"))
    diff_json = run_cli(
        "plan", "diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--format", "json"
    )

    channels = {
        "plan text": text.stdout + text.stderr,
        "plan json": as_json.stdout + as_json.stderr,
        "plan diff text": diff_text.output,
        "plan diff json": diff_json.output,
    }
    for channel, output in channels.items():
        assert leaked(output, watched) == [], channel
    assert re.search(r"\[secret [0-9a-f]{16}\]", as_json.stdout)


def test_tenant_values_from_secret_config_reach_the_chart_as_a_secret(monkeypatch, tls_material):
    values, secret_keys, _ = staging_with_secrets(tls_material)
    run = plan_with_cli(monkeypatch, "staging", values, secret_keys)
    assert run.exit_code == 0, run.stderr
    charts = {r.name: r for r in run.recording.of_type("kubernetes:helm.sh/v4:Chart")}
    with_values = charts["airlock-vcluster-team-a-chart"].inputs["values"]
    assert rpc.is_rpc_secret(with_values), "the whole values input is secret (state, previews)"
    data_source = rpc.unwrap_rpc_secret(with_values)["controlPlane"]["backingStore"]["database"]["external"]
    assert data_source["dataSource"].endswith("@tcp(db:3306)/vc")  # the chart still gets the value
    # A tenant without escape-hatch values keeps reviewable values.
    assert not rpc.is_rpc_secret(charts["airlock-vcluster-team-b-chart"].inputs["values"])


def test_errors_with_secrets_present_never_show_them(monkeypatch, tls_material):
    values, secret_keys, watched = staging_with_secrets(tls_material)
    values["airlock:images"]["pin"] = "always"  # an unrelated error while secrets are loaded
    values["airlock:registry"]["tls"]["validityHours"] = 1  # an error inside the secret key
    run = plan_with_cli(monkeypatch, "staging", values, secret_keys)
    assert run.exit_code == 2
    assert "airlock:images.pin" in run.stderr and "airlock:registry.tls.validityHours" in run.stderr
    assert leaked(run.stderr + run.stdout, watched) == []


@pytest.mark.parametrize(
    ("case", "key", "value", "path", "secret"),
    [
        (
            "credential-password-bad-host",
            "airlock:registryCredentials",
            {"bad host!": {"username": "u", "password": CREDENTIAL_PASSWORD}},
            "airlock:registryCredentials: '[secret]': 'bad host!'",
            CREDENTIAL_PASSWORD,
        ),
        (
            "credential-password-not-a-string",
            "airlock:registryCredentials",
            {"ghcr.io": {"username": "u", "password": [CREDENTIAL_PASSWORD]}},
            'airlock:registryCredentials["ghcr.io"].password',
            CREDENTIAL_PASSWORD,
        ),
        (
            "external-password-with-unknown-field",
            "airlock:registry",
            {"mode": "external", "endpoint": "r.example.com", "password": EXTERNAL_PASSWORD, "cache": 1},
            "airlock:registry.cache",
            EXTERNAL_PASSWORD,
        ),
        (
            "external-password-wrong-type",
            "airlock:registry",
            {"mode": "external", "endpoint": "r.example.com", "password": {"value": EXTERNAL_PASSWORD}},
            "airlock:registry.password",
            EXTERNAL_PASSWORD,
        ),
        (
            "external-mode-error-carries-the-whole-section",
            "airlock:registry",
            {"mode": "external", "password": EXTERNAL_PASSWORD},
            "airlock:registry",
            EXTERNAL_PASSWORD,
        ),
        (
            "cache-password-without-user",
            "airlock:registry",
            {
                "mode": "in-cluster",
                "host": "r.example.com",
                "caches": [{"upstream": "docker.io", "password": CACHE_PASSWORD}],
            },
            "airlock:registry.caches[0]",
            CACHE_PASSWORD,
        ),
    ],
    ids=lambda item: item if isinstance(item, str) and item in CLEAR_CASE_NAMES else "",
)
def test_errors_in_clear_config_never_echo_a_password(monkeypatch, case, key, value, path, secret):
    values, secrets = stack_values("dev")
    values = copy.deepcopy(values)
    values[key] = value
    run = plan_with_cli(monkeypatch, "dev", values, secrets)  # clear: not marked secret
    assert run.exit_code == 2, run.stdout
    assert path in run.stderr, run.stderr
    assert secret not in run.stderr and base64.b64encode(secret.encode()).decode() not in run.stderr


def test_an_error_in_clear_config_never_echoes_a_tls_key(monkeypatch, tls_material):
    _ca, server = tls_material
    values, secrets = stack_values("dev")
    values["airlock:registry"] = {
        "mode": "in-cluster",
        "host": "r.example.com",
        "tls": {"mode": "provided", "key": server.key_pem, "certificate": server.certificate_pem},  # no ca
    }
    run = plan_with_cli(monkeypatch, "dev", values, secrets)
    assert run.exit_code == 2
    assert "airlock:registry.tls" in run.stderr and "needs certificate, key and ca" in run.stderr
    for line in server.key_pem.strip().splitlines()[1:-1]:
        assert line not in run.stderr


# -- found in review: a value from a secret key quoted by a check, non-string credentials ------
@pytest.mark.parametrize(
    ("tenant", "path"),
    [
        (
            {"name": "a", "values": {"privateNodes": "Sup3rS3cret-in-the-wrong-place"}},
            "airlock:vcluster.tenants[0].values.privateNodes",
        ),
        (
            {
                "name": "a",
                "sync": {
                    "fromHost": {
                        "storageClasses": {
                            "enabled": True,
                            "selector": {"matchLabels": {"team": "Sup3rS3cret!"}},
                        }
                    }
                },
            },
            "airlock:vcluster.tenants[0].sync.fromHost.storageClasses.selector.matchLabels",
        ),
    ],
    ids=["consumer-check", "validator-quoting-the-value"],
)
def test_a_value_under_a_secret_key_is_never_quoted(monkeypatch, tenant, path):
    values, secrets = stack_values("dev")
    values = copy.deepcopy(values)
    values["airlock:vcluster"] = {"tenants": [tenant]}
    run = plan_with_cli(monkeypatch, "dev", values, secrets | {"airlock:vcluster"})
    assert run.exit_code == 2
    assert path in run.stderr, run.stderr
    assert "Sup3rS3cret" not in run.stderr


def test_a_url_password_in_clear_config_is_scrubbed_from_any_message(monkeypatch):
    values, secrets = stack_values("dev")
    values = copy.deepcopy(values)
    values["airlock:namespaces"]["apps"] = {"labels": {"db": "postgres://app:pw-in-label@db"}}
    run = plan_with_cli(monkeypatch, "dev", values, secrets)
    assert run.exit_code == 2 and "airlock:namespaces.apps.labels" in run.stderr
    assert "pw-in-label" not in run.stderr and "postgres://app:[secret]@db" in run.stderr


@pytest.mark.parametrize(
    "credential",
    [73519286, ["a-token-in-a-list"], {"value": "a-nested-password"}],
    ids=["number", "list", "mapping"],
)
def test_credentials_that_are_not_strings_are_refused_in_clear_config(monkeypatch, credential):
    values, secrets = stack_values("dev")
    values = copy.deepcopy(values)
    values["airlock:vcluster"] = {
        "tenants": [{"name": "a", "values": {"controlPlane": {"advanced": {"adminPassword": credential}}}}]
    }
    run = plan_with_cli(monkeypatch, "dev", values, secrets)
    assert run.exit_code == 2
    assert "values.controlPlane.advanced.adminPassword: '[secret]': holds a password or key" in run.stderr
    assert run.recording is not None and run.recording.resources == []
