"""Run the real CNCF distribution registry (Debian ``docker-registry``) on 127.0.0.1.

Every instance gets its own directory, a free loopback port, its own config file, and is
stopped by PID. Nothing listens anywhere but 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bcrypt
import yaml

from .pki import KeyPair, make_server_certificate

REGISTRY_BINARY = "docker-registry"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def htpasswd_line(username: str, password: str, cost: int = 5) -> str:
    """A bcrypt htpasswd entry. Cost 5 keeps tests fast (the registry re-checks per request)."""
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=cost)).decode()
    return f"{username}:{hashed}\n"


@dataclass
class RunningRegistry:
    host: str
    port: int
    directory: Path
    process: subprocess.Popen[bytes]
    ca: KeyPair | None
    username: str | None = None
    password: str | None = None
    log: Path = field(default_factory=Path)

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def cert_dir(self) -> Path:
        """A directory holding only ca.crt, as skopeo/podman --cert-dir want it."""
        path = self.directory / "certs.d"
        path.mkdir(exist_ok=True)
        if self.ca is not None:
            (path / "ca.crt").write_text(self.ca.certificate_pem)
        return path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def registry_config(
    storage: Path,
    address: str,
    *,
    tls: tuple[Path, Path] | None,
    htpasswd: Path | None,
    proxy: dict[str, Any] | None = None,
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "warn"},
        "storage": {"filesystem": {"rootdirectory": str(storage)}, "delete": {"enabled": True}},
        "http": {"addr": address, "headers": {"X-Content-Type-Options": ["nosniff"]}},
    }
    if tls is not None:
        config["http"]["tls"] = {"certificate": str(tls[0]), "key": str(tls[1])}
    if htpasswd is not None:
        config["auth"] = {"htpasswd": {"realm": "airlock-test", "path": str(htpasswd)}}
    if proxy is not None:
        config["proxy"] = proxy
    return config


def start_registry_with_config(
    directory: Path,
    config: dict[str, Any],
    port: int,
    ca: KeyPair | None,
    username: str | None = None,
    password: str | None = None,
    env: dict[str, str] | None = None,
) -> RunningRegistry:
    if shutil.which(REGISTRY_BINARY) is None:
        raise RuntimeError("docker-registry is not installed; run 'make system-deps'")
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / "config.yml"
    config_path.write_text(yaml.safe_dump(config))
    log = directory / "registry.log"
    process = subprocess.Popen(
        [REGISTRY_BINARY, "serve", str(config_path)],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=directory,
        env={**os.environ, **(env or {})},
    )
    registry = RunningRegistry("127.0.0.1", port, directory, process, ca, username, password, log)
    _wait_ready(registry)
    return registry


def start_registry(
    directory: Path,
    *,
    ca: KeyPair | None = None,
    username: str | None = None,
    password: str | None = None,
) -> RunningRegistry:
    """A registry with TLS when ``ca`` is given and htpasswd auth when a user is given."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    tls = None
    if ca is not None:
        server = make_server_certificate(ca)
        (directory / "server.crt").write_text(server.certificate_pem)
        (directory / "server.key").write_text(server.key_pem)
        tls = (directory / "server.crt", directory / "server.key")
    htpasswd = None
    if username is not None and password is not None:
        htpasswd = directory / "htpasswd"
        htpasswd.write_text(htpasswd_line(username, password))
    config = registry_config(directory / "storage", f"127.0.0.1:{port}", tls=tls, htpasswd=htpasswd)
    return start_registry_with_config(directory, config, port, ca, username, password)


def _wait_ready(registry: RunningRegistry, timeout: float = 15.0) -> None:
    scheme = "https" if registry.ca else "http"
    context = ssl.create_default_context(cadata=registry.ca.certificate_pem) if registry.ca else None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if registry.process.poll() is not None:
            raise RuntimeError(f"registry exited: {registry.log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"{scheme}://{registry.endpoint}/v2/", timeout=1, context=context)
            return
        except urllib.error.HTTPError as error:
            if error.code == 401:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.02)
    registry.stop()
    raise RuntimeError(f"registry did not become ready: {registry.log.read_text()[-2000:]}")
