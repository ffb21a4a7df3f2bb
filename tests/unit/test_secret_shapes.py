"""What counts as a secret in free-form config, and redaction for messages."""

from __future__ import annotations

import pytest

from airlock.secrets import SECRET_MASK, is_secret_key, is_secret_value, redact, secret_paths

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n"


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "adminPassword",
        "db_password",
        "PASSWD",
        "token",
        "bearerToken",
        "apiKey",
        "api-key",
        "clientSecret",
        "secretKey",
        "accessKey",
        "privateKey",
        "credentials",
        "passphrase",
    ],
)
def test_secret_shaped_keys(key):
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key", ["existingSecret", "secretName", "pullSecretName", "tokenFile", "username", "key", "auth", 3]
)
def test_names_of_secrets_are_not_secrets(key):
    assert not is_secret_key(key)


@pytest.mark.parametrize(
    "value", ["mysql://root:pw@tcp(db:3306)/vc", "postgres://u:p@db/x?sslmode=require", "https://a:b@h", PEM]
)
def test_secret_shaped_values(value):
    assert is_secret_value(value)


@pytest.mark.parametrize("value", ["mysql://db:3306/vc", "https://user@host/x", "ghcr.io/a:1.0@sha256:ab", 7])
def test_ordinary_values(value):
    assert not is_secret_value(value)


def test_redact_masks_keys_and_values_deeply_and_keeps_the_rest():
    data = {
        "mode": "external",
        "password": "hunter2",
        "caches": [{"upstream": "docker.io", "remoteUrl": "https://u:p@hub"}],
        "tls": {"key": PEM, "ca": "-----BEGIN CERTIFICATE-----"},
        "empty": {"password": ""},
    }
    assert redact(data) == {
        "mode": "external",
        "password": SECRET_MASK,
        "caches": [{"upstream": "docker.io", "remoteUrl": SECRET_MASK}],
        "tls": {"key": SECRET_MASK, "ca": "-----BEGIN CERTIFICATE-----"},
        "empty": {"password": ""},
    }
    assert redact("plain") == "plain" and redact("pw", "password") == SECRET_MASK


def test_secret_paths_find_credentials_in_chart_values():
    values = {
        "controlPlane": {
            "backingStore": {"database": {"external": {"dataSource": "mysql://root:pw@tcp(db)/vc"}}},
            "advanced": {"adminPassword": "x", "existingSecret": "vc-secret", "token": ""},
        },
        "extraArgs": ["--flag", "https://u:p@h"],
    }
    assert sorted(secret_paths(values), key=str) == [
        ("controlPlane", "advanced", "adminPassword"),
        ("controlPlane", "backingStore", "database", "external", "dataSource"),
        ("extraArgs", 1),
    ]
