"""Blob reads that a registry redirects to storage on another host (Harbor/distribution with an
S3 or GCS backend do this). The client must follow the redirect, must not hand the registry's
login to the storage host, and must still verify the bytes. Real registry on 127.0.0.1; the
redirecting front and the storage host are small loopback servers."""

from __future__ import annotations

import re
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import urllib3

from airlock.images.dockerconfig import RegistryCredential
from airlock.images.reference import parse
from airlock.oci.client import RegistryClient, RegistryTransport
from airlock.oci.copy import copy_image

from .test_oci_copy import push, two_registries  # noqa: F401 - the fixture

pytestmark = pytest.mark.realserver
BLOB = re.compile(r"^/v2/(?P<repo>.+)/blobs/(?P<digest>sha256:[0-9a-f]{64})$")
FORWARDED = ("Authorization", "Accept", "Content-Type")
RETURNED = ("Content-Type", "Docker-Content-Digest", "WWW-Authenticate", "Location", "Content-Length")


class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def start_storage_and_front(registry, ca_pem: str):
    """A plain-HTTP front for ``registry`` that sends blob GETs to a storage host, which
    serves them from the registry with its own login."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cadata=ca_pem)
    upstream = urllib3.PoolManager(ssl_context=context)
    login = urllib3.make_headers(basic_auth=f"{registry.username}:{registry.password}")
    seen: list[dict[str, str]] = []

    class Storage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(dict(self.headers))
            repo, _, digest = self.path.removeprefix("/storage/").partition("@")
            answer = upstream.request(
                "GET", f"https://{registry.endpoint}/v2/{repo}/blobs/{digest}", headers=login
            )
            self.send_response(answer.status)
            self.send_header("Content-Length", str(len(answer.data)))
            self.end_headers()
            self.wfile.write(answer.data)

        def log_message(self, *args: object) -> None:
            pass

    storage = _Server(Storage)

    class Front(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            match = BLOB.match(self.path)
            if self.command == "GET" and match:
                self.send_response(307)
                # "localhost", not 127.0.0.1: another host as far as the client can tell
                target = f"http://localhost:{storage.port}/storage/{match['repo']}@{match['digest']}"
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            length = int(self.headers.get("Content-Length") or 0)
            answer = upstream.request(
                self.command,
                f"https://{registry.endpoint}{self.path}",
                headers={k: v for k in FORWARDED if (v := self.headers.get(k))},
                body=self.rfile.read(length) if length else None,
                redirect=False,
            )
            self.send_response(answer.status)
            for key in RETURNED:
                if key in answer.headers and key != "Content-Length":
                    self.send_header(key, answer.headers[key])
            self.send_header("Content-Length", str(len(answer.data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.data)

        do_GET = do_HEAD = do_PUT = do_POST = _forward

        def log_message(self, *args: object) -> None:
            pass

    return _Server(Front), storage, seen


def test_redirected_blob_reads_are_followed_without_the_login(two_registries, tmp_path, test_ca):  # noqa: F811
    source, destination = two_registries
    layout = push(source, tmp_path / "layout", "1.0", size=200 * 1024)
    front, storage, seen = start_storage_and_front(source, test_ca.certificate_pem)
    try:
        endpoint = f"127.0.0.1:{front.port}"
        client = RegistryClient(
            {
                endpoint: RegistryCredential(source.username, source.password),
                destination.endpoint: RegistryCredential(destination.username, destination.password),
            },
            {
                endpoint: RegistryTransport(insecure=True),
                destination.endpoint: RegistryTransport(ca_bundle=test_ca.certificate_pem),
            },
        )
        with client:
            report = copy_image(
                client, parse(f"{endpoint}/library/app:1.0"), parse(f"{destination.endpoint}/library/app:1.0")
            )
            assert report.digest == layout.index_digest and report.copied == 4
            assert report.bytes_uploaded == layout.blob_bytes
            assert client.head_manifest(parse(f"{destination.endpoint}/library/app:1.0"), "1.0") == (
                layout.index_digest
            )
        assert len(seen) == 4  # every blob came through the storage host
        assert all("Authorization" not in headers for headers in seen)
    finally:
        front.stop()
        storage.stop()
