"""The OCI client against a registry that misbehaves on purpose (a loopback server).

Guards what an attacker, or a broken registry, could make the client do: send the login in
clear after a redirect to http://, hand it to a plain-HTTP token realm, hold a request forever
(hang, or a byte a second), fill memory with a huge manifest, accept altered bytes for a
sha512 pin, or crash with a traceback on HTML or on a manifest without ``config``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time

import pytest

from airlock.images.dockerconfig import RegistryCredential, render_dockerconfigjson
from airlock.images.reference import parse
from airlock.oci.client import MAX_MANIFEST_BYTES, RegistryClient, RegistryError, RegistryTransport
from tests.support.cli import run_cli
from tests.support.hostile_registry import OCI_MANIFEST, HostileRegistry, plain_http_server, timed

pytestmark = pytest.mark.realserver

LOGIN = RegistryCredential("alice", "hostile-test-password")
CONFIG = {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2}
GOOD = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {**CONFIG, "digest": "sha256:" + hashlib.sha256(b"{}").hexdigest()},
        "layers": [],
    }
).encode()


@pytest.fixture
def hostile(test_ca):
    server = HostileRegistry(test_ca)
    yield server
    server.stop()


def client(hostile, test_ca, *, timeout: float = 60.0, retries: int = 4) -> RegistryClient:
    return RegistryClient(
        {hostile.endpoint: LOGIN},
        {hostile.endpoint: RegistryTransport(ca_bundle=test_ca.certificate_pem)},
        timeout=timeout,
        retries=retries,
        backoff=0.01,
    )


def image(hostile, tail: str = "team/app:1.0"):
    return parse(f"{hostile.endpoint}/{tail}")


# -- no downgrade, no login in clear ---------------------------------------------------------
def test_redirect_to_plain_http_on_the_same_port_is_refused(hostile, test_ca):
    def behaviour(handler):
        if handler.scheme == "https":
            handler.redirect(f"http://{hostile.endpoint}{handler.path}")
        else:
            handler.manifest(GOOD)

    hostile.behaviour = behaviour
    with client(hostile, test_ca) as registry, pytest.raises(RegistryError) as caught:
        registry.get_manifest(image(hostile))
    assert "plain-HTTP" in str(caught.value) and "not declared insecure" in str(caught.value)
    assert hostile.over("https"), "the TLS request was made"
    assert hostile.over("http") == []  # never followed: the login never travelled in clear


def test_a_plain_http_token_realm_never_receives_the_login(hostile, test_ca):
    realm_requests: list = []
    realm, realm_port = plain_http_server(realm_requests)
    try:
        hostile.behaviour = lambda handler: handler.answer(
            401,
            headers={
                "WWW-Authenticate": f'Bearer realm="http://127.0.0.1:{realm_port}/token",service="hostile"'
            },
        )
        with client(hostile, test_ca) as registry, pytest.raises(RegistryError) as caught:
            registry.get_manifest(image(hostile))
        assert "token realm" in str(caught.value) and "plain-HTTP" in str(caught.value)
        assert realm_requests == []
    finally:
        realm.shutdown()
        realm.server_close()


def test_an_upload_location_on_plain_http_is_refused(hostile, test_ca):
    blob = b"layer bytes"
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()

    def behaviour(handler):
        if handler.scheme == "http":
            handler.answer(201)
        elif handler.command == "GET":
            handler.answer(200, blob)
        else:  # POST /blobs/uploads/
            handler.answer(
                202, headers={"Location": f"http://{hostile.endpoint}/v2/team/dst/blobs/uploads/x"}
            )

    hostile.behaviour = behaviour
    with client(hostile, test_ca) as registry, pytest.raises(RegistryError, match="plain-HTTP"):
        registry.copy_blob(
            image(hostile), image(hostile, "team/dst:1.0"), {"digest": digest, "size": len(blob)}
        )
    assert hostile.over("http") == []


# -- deadlines -------------------------------------------------------------------------------
def test_a_hanging_registry_fails_at_the_deadline_not_after_every_retry(hostile, test_ca):
    hostile.behaviour = lambda handler: handler.hang()
    with client(hostile, test_ca, timeout=2) as registry:
        elapsed, error = timed(lambda: registry.get_manifest(image(hostile)))
    assert isinstance(error, RegistryError)
    assert "no complete answer within 2 s" in str(error) and "--timeout" in str(error)
    assert 1.9 <= elapsed < 4.0  # one deadline for every try (before: 5 tries x 60 s = 303 s)


def test_headers_dripping_a_byte_at_a_time_are_cut_off(hostile, test_ca):
    hostile.behaviour = lambda handler: handler.drip_headers(interval=0.1)
    with client(hostile, test_ca, timeout=2) as registry:
        elapsed, error = timed(lambda: registry.get_manifest(image(hostile)))
    assert isinstance(error, RegistryError) and "within 2 s" in str(error)
    assert elapsed < 4.0


def test_a_manifest_body_dripping_a_byte_at_a_time_is_cut_off(hostile, test_ca):
    hostile.behaviour = lambda handler: handler.drip_body(10_000, headers={"Content-Type": OCI_MANIFEST})
    with client(hostile, test_ca, timeout=2) as registry:
        elapsed, error = timed(lambda: registry.get_manifest(image(hostile)))
    assert isinstance(error, RegistryError) and "within 2 s" in str(error)
    assert elapsed < 4.0


def test_a_blob_must_move_a_mib_within_the_deadline(hostile, test_ca):
    hostile.behaviour = lambda handler: (
        handler.drip_body(5 << 20, interval=0.001)
        if handler.command == "GET"
        else handler.answer(202, headers={"Location": f"/v2/team/dst/blobs/uploads/{handler.path[-4:]}"})
    )
    with client(hostile, test_ca, timeout=2) as registry:
        elapsed, error = timed(
            lambda: registry.copy_blob(
                image(hostile),
                image(hostile, "team/dst:1.0"),
                {"digest": "sha256:" + "0" * 64, "size": 5 << 20},
            )
        )
    assert isinstance(error, RegistryError) and "within 2 s" in str(error), error
    assert elapsed < 5.0


# -- bounded bodies --------------------------------------------------------------------------
def test_a_manifest_claiming_a_gibibyte_is_refused_before_reading(hostile, test_ca):
    hostile.behaviour = lambda handler: handler.endless(OCI_MANIFEST, declared_length=1 << 30)
    with client(hostile, test_ca) as registry, pytest.raises(RegistryError) as caught:
        registry.get_manifest(image(hostile))
    assert "1,073,741,824 bytes; at most 4,194,304 are accepted" in str(caught.value)


def test_an_endless_chunked_manifest_is_cut_off_after_the_cap(hostile, test_ca):
    hostile.behaviour = lambda handler: handler.endless(OCI_MANIFEST)
    with client(hostile, test_ca) as registry, pytest.raises(RegistryError) as caught:
        registry.get_manifest(image(hostile))
    assert "larger than 4,194,304 bytes" in str(caught.value)
    # The client hung up soon after the cap (socket buffers hold a few MiB more at most).
    assert hostile.bytes_sent < MAX_MANIFEST_BYTES + (16 << 20)


def test_an_oversized_token_answer_is_refused(hostile, test_ca):
    def behaviour(handler):
        if handler.path.startswith("/token"):
            handler.answer(200, b"{" + b" " * (2 << 20) + b"}")
        else:
            handler.answer(
                401,
                headers={"WWW-Authenticate": f'Bearer realm="https://{hostile.endpoint}/token",service="h"'},
            )

    hostile.behaviour = behaviour
    with client(hostile, test_ca) as registry, pytest.raises(RegistryError, match="at most 1,048,576"):
        registry.get_manifest(image(hostile))


# -- verification and structure --------------------------------------------------------------
def test_a_sha512_pin_is_verified(hostile, test_ca):
    digest = "sha512:" + hashlib.sha512(GOOD).hexdigest()
    tampered = GOOD.replace(b'"layers": []', b'"layers": [] ')
    served = {"content": tampered}
    hostile.behaviour = lambda handler: handler.manifest(served["content"], digest=digest)
    with client(hostile, test_ca) as registry:
        with pytest.raises(RegistryError, match="altered in transit"):
            registry.get_manifest(image(hostile, f"team/app@{digest}"))
        served["content"] = GOOD
        manifest = registry.get_manifest(image(hostile, f"team/app@{digest}"))
    assert manifest.digest == digest and manifest.content == GOOD


def _copy_with_cli(hostile, test_ca, tmp_path, *extra: str):
    (tmp_path / "ca.pem").write_text(test_ca.certificate_pem)
    (tmp_path / "auth.json").write_text(render_dockerconfigjson({hostile.endpoint: LOGIN}))
    return run_cli(
        "images",
        "copy",
        f"{hostile.endpoint}/team/app:1.0",
        f"{hostile.endpoint}/team/copy:1.0",
        "--ca-file",
        f"{hostile.endpoint}={tmp_path / 'ca.pem'}",
        "--authfile",
        str(tmp_path / "auth.json"),
        *extra,
    )


def test_html_instead_of_a_manifest_is_a_clear_error_from_images_copy(hostile, test_ca, tmp_path):
    hostile.behaviour = lambda handler: handler.answer(
        200, b"<html><body>Sign in</body></html>", {"Content-Type": "text/html"}
    )
    result = _copy_with_cli(hostile, test_ca, tmp_path)
    assert result.exit_code == 1, result.output
    assert "manifest team/app:1.0 is not JSON" in result.stderr
    assert "text/html" in result.stderr


def test_a_manifest_without_config_is_a_clear_error_from_images_copy(hostile, test_ca, tmp_path):
    broken = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": []}).encode()
    hostile.behaviour = lambda handler: (
        handler.answer(404) if handler.command == "HEAD" else handler.manifest(broken)
    )
    result = _copy_with_cli(hostile, test_ca, tmp_path)
    assert result.exit_code == 1, result.output
    assert "is an image manifest without 'config'" in result.stderr
    assert LOGIN.password not in result.output


def test_timeout_option_reaches_the_client(hostile, test_ca, tmp_path):
    hostile.behaviour = lambda handler: handler.hang()
    started = time.monotonic()
    result = _copy_with_cli(hostile, test_ca, tmp_path, "--timeout", "1")
    assert result.exit_code == 1 and "no complete answer within 1 s" in result.stderr, result.output
    assert time.monotonic() - started < 3.0


# -- found in review ---------------------------------------------------------------------------
def test_an_insecure_registry_cannot_send_the_login_to_a_plain_http_realm_elsewhere(hostile):
    """Declaring 127.0.0.1:<port> insecure does not make another host's plain HTTP trusted."""
    realm_requests: list = []
    realm, realm_port = plain_http_server(realm_requests)
    plain = RegistryClient(
        {hostile.endpoint: LOGIN}, {hostile.endpoint: RegistryTransport(insecure=True)}, backoff=0.01
    )
    try:
        hostile.behaviour = lambda handler: handler.answer(
            401, headers={"WWW-Authenticate": f'Bearer realm="http://localhost:{realm_port}/token"'}
        )
        with (
            plain,
            pytest.raises(RegistryError, match="plain HTTP on another host; refusing to send the login"),
        ):
            plain.get_manifest(image(hostile))
        assert realm_requests == []
        declared = RegistryClient(
            {hostile.endpoint: LOGIN},
            {
                hostile.endpoint: RegistryTransport(insecure=True),
                f"localhost:{realm_port}": RegistryTransport(insecure=True),
            },
            retries=0,
        )
        with declared, pytest.raises(RegistryError):  # the realm is asked now, the registry still 401s
            declared.get_manifest(image(hostile))
        assert realm_requests and realm_requests[0].headers.get("Authorization", "").startswith("Basic ")
    finally:
        realm.shutdown()
        realm.server_close()


def test_a_body_without_length_cut_at_the_deadline_is_reported_as_the_deadline(hostile, test_ca):
    def behaviour(handler):
        handler.close_connection = True
        handler.send_response(200)
        handler.send_header("Content-Type", OCI_MANIFEST)
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.flush()
        with contextlib.suppress(OSError):
            while not hostile.stopping.wait(0.05):
                handler.wfile.write(b" ")
                handler.wfile.flush()

    hostile.behaviour = behaviour
    with client(hostile, test_ca, timeout=2) as registry:
        elapsed, error = timed(lambda: registry.get_manifest(image(hostile)))
    assert isinstance(error, RegistryError) and "no complete answer within 2 s" in str(error), error
    assert elapsed < 4.0


def test_malformed_headers_are_registry_errors_not_tracebacks(hostile, test_ca):
    def behaviour(handler):
        if handler.command == "GET" and "/manifests/" in handler.path:
            handler.send_response(302)
            handler.send_header("Location", f"https://{hostile.endpoint}/elsewhere")
            handler.send_header("Content-Length", "1, 1")
            handler.end_headers()
            handler.wfile.write(b"x")
        elif handler.path == "/elsewhere":
            handler.manifest(GOOD)
        elif handler.command == "GET":
            handler.answer(200, b"blob")
        else:
            handler.answer(202)  # an upload session without a Location

    hostile.behaviour = behaviour
    with client(hostile, test_ca) as registry:
        assert registry.get_manifest(image(hostile)).content == GOOD
        with pytest.raises(RegistryError, match="answered 202 without a Location header"):
            registry.copy_blob(
                image(hostile),
                image(hostile, "team/dst:1.0"),
                {"digest": "sha256:" + hashlib.sha256(b"blob").hexdigest(), "size": 4},
            )
