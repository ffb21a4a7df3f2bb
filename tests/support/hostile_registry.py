"""A loopback server that speaks just enough of the registry API to misbehave on purpose.

It serves TLS (a certificate for 127.0.0.1 signed by the test CA) and, on the same port, plain
HTTP: it peeks at the first byte of each connection (0x16 starts a TLS handshake). A client
that follows a downgrade redirect to ``http://<same host:port>`` is therefore answered, and
caught: every request is recorded with its scheme and headers.

Each test sets ``behaviour``: a function of the handler that writes whatever answer the test
needs (a redirect, a hang, a drip, a huge body, HTML...). Helpers below write the usual ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import socket
import socketserver
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.support.pki import KeyPair, make_server_certificate

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@dataclass(frozen=True)
class Seen:
    scheme: str
    method: str
    path: str
    headers: dict[str, str]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    @property
    def scheme(self) -> str:
        return "https" if isinstance(self.connection, ssl.SSLSocket) else "http"

    def _handle(self) -> None:
        self.server.owner.seen.append(Seen(self.scheme, self.command, self.path, dict(self.headers)))
        length = int(self.headers.get("Content-Length") or 0)
        if length and self.command in ("PUT", "POST", "PATCH"):
            self.rfile.read(length)
        self.server.owner.behaviour(self)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _handle

    def log_message(self, *args: object) -> None:
        pass

    # -- answers ---------------------------------------------------------------------------
    def answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def manifest(self, content: bytes, media_type: str = OCI_MANIFEST, digest: str | None = None) -> None:
        self.answer(
            200,
            content,
            {
                "Content-Type": media_type,
                "Docker-Content-Digest": digest or "sha256:" + hashlib.sha256(content).hexdigest(),
            },
        )

    def redirect(self, location: str, status: int = 307) -> None:
        self.answer(status, headers={"Location": location})

    def hang(self) -> None:
        """Read the request, answer nothing, until the server stops."""
        self.server.owner.stopping.wait()
        self.close_connection = True

    def drip_headers(self, interval: float = 0.1) -> None:
        """A status line, then one header byte per ``interval``, forever."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            self.wfile.flush()
            while not self.server.owner.stopping.wait(interval):
                self.wfile.write(b"a")
                self.wfile.flush()

    def drip_body(self, length: int, interval: float = 0.05, headers: dict[str, str] | None = None) -> None:
        """Headers promising ``length`` bytes, then one byte per ``interval``."""
        self.close_connection = True
        self.send_response(200)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.flush()
            for _ in range(length):
                if self.server.owner.stopping.wait(interval):
                    return
                self.wfile.write(b"{")
                self.wfile.flush()

    def endless(self, content_type: str, declared_length: int | None = None, chunk: int = 64 * 1024) -> None:
        """A body that never ends (chunked), or that claims ``declared_length`` bytes; counts what
        the client accepted before hanging up in ``owner.bytes_sent``."""
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        if declared_length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(declared_length))
        self.end_headers()
        block = b" " * chunk
        try:
            while not self.server.owner.stopping.is_set():
                if declared_length is None:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
                else:
                    self.wfile.write(block)
                self.wfile.flush()
                self.server.owner.bytes_sent += len(block)
                if self.server.owner.bytes_sent > 2 << 30:
                    return
        except OSError:
            return


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: HostileRegistry

    def get_request(self) -> tuple[socket.socket, object]:
        connection, address = self.socket.accept()
        connection.settimeout(5)
        try:
            first = connection.recv(1, socket.MSG_PEEK)
        except OSError:
            first = b""
        connection.settimeout(None)
        if first == b"\x16":
            return self.owner.tls.wrap_socket(connection, server_side=True), address
        return connection, address


class HostileRegistry:
    def __init__(self, ca: KeyPair) -> None:
        serving = make_server_certificate(ca)
        directory = Path(tempfile.mkdtemp(prefix="airlock-hostile-"))
        (directory / "tls.crt").write_text(serving.certificate_pem)
        (directory / "tls.key").write_text(serving.key_pem)
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(directory / "tls.crt", directory / "tls.key")
        shutil.rmtree(directory)  # the context holds the key now
        self.seen: list[Seen] = []
        self.bytes_sent = 0
        self.stopping = threading.Event()
        self.behaviour: Callable[[Handler], None] = lambda handler: handler.answer(404)
        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.owner = self
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def over(self, scheme: str) -> list[Seen]:
        return [request for request in self.seen if request.scheme == scheme]

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


def plain_http_server(record: list[Seen]) -> tuple[socketserver.TCPServer, int]:
    """A plain-HTTP server that records requests and answers a token (a would-be realm)."""

    class Realm(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            record.append(Seen("http", self.command, self.path, dict(self.headers)))
            body = json.dumps({"token": "t0ken"}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Realm)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def timed(action: Callable[[], object]) -> tuple[float, BaseException | None]:
    started = time.monotonic()
    try:
        action()
    except BaseException as error:
        return time.monotonic() - started, error
    return time.monotonic() - started, None
