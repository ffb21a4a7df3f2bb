"""A minimal Docker token-auth server (ES256 JWT, x5c header) for the registry's `auth.token`.

It grants the requested actions to one user with a Basic login and refuses everyone else, the
way a real token service (Harbor, GitLab, Docker Hub) behaves. Loopback only.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import ssl
import tempfile
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from tests.support.pki import KeyPair, make_server_certificate

SERVICE = "airlock-test-registry"
ISSUER = "airlock-test-token-issuer"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TokenServer:
    server: ThreadingHTTPServer
    thread: threading.Thread
    certificate_pem: str
    scheme: str = "http"

    @property
    def realm(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}/token"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_token_server(username: str, password: str, ca: KeyPair | None = None) -> TokenServer:
    """With ``ca``, the realm is https:// with a certificate for 127.0.0.1 signed by it (the
    client refuses to send a login to a plain-HTTP realm of a TLS registry)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "airlock test token signer")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    x5c = base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()
    expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

    def token(scopes: list[str]) -> str:
        access = []
        for scope in scopes:
            for item in scope.split(" "):
                kind, _, rest = item.partition(":")
                repository, _, actions = rest.rpartition(":")
                if kind == "repository" and repository:
                    access.append({"type": kind, "name": repository, "actions": actions.split(",")})
        issued = int(dt.datetime.now(dt.UTC).timestamp())
        header = {"alg": "ES256", "typ": "JWT", "x5c": [x5c]}
        claims = {
            "iss": ISSUER,
            "sub": username,
            "aud": SERVICE,
            "exp": issued + 300,
            "nbf": issued - 10,
            "iat": issued,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            query = parse_qs(urlparse(self.path).query)
            if self.headers.get("Authorization") != expected or query.get("service") != [SERVICE]:
                self.send_response(401)
                self.end_headers()
                return
            body = json.dumps({"token": token(query.get("scope", []))}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if ca is not None:
        serving = make_server_certificate(ca)
        directory = tempfile.mkdtemp(prefix="airlock-token-")
        Path(directory, "tls.crt").write_text(serving.certificate_pem)
        Path(directory, "tls.key").write_text(serving.key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(Path(directory, "tls.crt"), Path(directory, "tls.key"))
        shutil.rmtree(directory)  # the context holds the key now
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    return TokenServer(server, thread, pem, "https" if ca is not None else "http")
