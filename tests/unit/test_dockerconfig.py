"""Pull-secret payloads: every entry carries auth, keys are exactly what clients match."""

from __future__ import annotations

import base64
import json

import pytest

from airlock.images import (
    PolicyError,
    RegistryCredential,
    parse_dockerconfigjson,
    registry_key,
    render_dockerconfigjson,
)


def test_payload_has_username_password_and_auth():
    payload = json.loads(
        render_dockerconfigjson({"registry.example.com:5000": RegistryCredential("u", "p:w")})
    )
    assert payload == {
        "auths": {
            "registry.example.com:5000": {
                "username": "u",
                "password": "p:w",
                "auth": base64.b64encode(b"u:p:w").decode(),
            }
        }
    }


def test_docker_hub_is_written_under_both_keys():
    payload = json.loads(render_dockerconfigjson({"index.docker.io": RegistryCredential("u", "p")}))
    assert sorted(payload["auths"]) == ["docker.io", "https://index.docker.io/v1/"]


@pytest.mark.parametrize(
    ("given", "key"),
    [
        ("registry.example.com", "registry.example.com"),
        ("https://registry.example.com:8443", "registry.example.com:8443"),
        ("http://127.0.0.1:5000/", "127.0.0.1:5000"),
        ("https://index.docker.io/v1/", "docker.io"),
        ("index.docker.io", "docker.io"),
        ("[::1]:5000", "[::1]:5000"),
        ("localhost:5000", "localhost:5000"),
    ],
)
def test_registry_keys_are_normalised_to_host_and_port(given, key):
    assert registry_key(given) == key


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("registry.example.com/team", "not a repository path; use 'registry.example.com'"),
        ("bad_host", "registry host must be DNS labels"),
        ("host:70000", "between 1 and 65535"),
    ],
)
def test_bad_registry_keys(given, message):
    with pytest.raises(PolicyError, match=message):
        registry_key(given)


def test_two_spellings_of_one_registry_are_rejected():
    with pytest.raises(PolicyError, match="same registry as another entry"):
        render_dockerconfigjson(
            {"r.io": RegistryCredential("a", "b"), "https://r.io": RegistryCredential("c", "d")}
        )


def test_credential_validation_hides_the_password():
    with pytest.raises(PolicyError, match="must not contain ':'"):
        RegistryCredential("a:b", "p")
    with pytest.raises(PolicyError) as caught:
        RegistryCredential("a", "")
    assert "[secret]" in str(caught.value)
    assert "hunter2" not in repr(RegistryCredential("a", "hunter2"))


def test_parse_round_trips_and_prefers_auth():
    text = render_dockerconfigjson(
        {"r.io": RegistryCredential("u", "p"), "docker.io": RegistryCredential("h", "t")}
    )
    assert parse_dockerconfigjson(text) == {
        "r.io": RegistryCredential("u", "p"),
        "docker.io": RegistryCredential("h", "t"),
    }
    mixed = json.dumps(
        {
            "auths": {
                "https://x.io": {"auth": base64.b64encode(b"a:b").decode(), "username": "z"},
                "helper.io": {},
            }
        }
    )
    assert parse_dockerconfigjson(mixed) == {"x.io": RegistryCredential("a", "b")}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "is not JSON"),
        ("{}", "has no 'auths' mapping"),
        ('{"auths": {"r.io": {"auth": "!!"}}}', "is not base64"),
        ('{"auths": {"r.io": {"auth": "YWJj"}}}', "decodes without ':'"),
        ('{"auths": {"r.io": []}}', "must be a mapping"),
    ],
)
def test_parse_errors(text, message):
    with pytest.raises(PolicyError, match=message) as caught:
        parse_dockerconfigjson(text)
    assert caught.value.fix, "every auth-file problem says how to fix it"


def test_credential_helper_only_files_hold_no_logins():
    assert parse_dockerconfigjson('{"credsStore": "desktop"}') == {}
    assert parse_dockerconfigjson('{"credHelpers": {"gcr.io": "gcloud"}, "auths": {"gcr.io": {}}}') == {}
