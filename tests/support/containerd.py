"""Run a real containerd (Debian ``containerd`` 1.6) by hand, for pulls with ``ctr``.

Every instance gets its own short directory under /tmp (a unix socket path must stay under 108
bytes, which pytest's ``tmp_path`` does not guarantee) holding its root, state, ``opt`` plugin
directory and gRPC socket; the CRI plugin is disabled, so it starts in about 80 ms, opens no
TCP port and touches nothing of the host's containerd. It is stopped by PID and its directory
removed. ``ctr`` does the registry work itself (reading ``--hosts-dir``) and stores what it
fetches in this daemon, which the caller then inspects.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import tomli_w

CONTAINERD_BINARY = "containerd"
CTR_BINARY = "ctr"
# ctr must reach only what the hosts.toml names, never a proxy from the environment
_PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


def require(binary: str) -> str:
    """The binary's path; fails (never skips) when it is missing."""
    path = shutil.which(binary)
    if path is None:
        raise RuntimeError(f"{binary} is not installed; run 'make system-deps'")
    return path


def daemon_config(directory: Path) -> dict[str, object]:
    """A containerd 1.x config (``version = 2``) whose every path is under ``directory``."""
    return {
        "version": 2,
        "root": str(directory / "root"),
        "state": str(directory / "state"),
        "disabled_plugins": ["io.containerd.grpc.v1.cri"],
        "grpc": {"address": str(directory / "c.sock")},
        "ttrpc": {"address": str(directory / "c.sock.ttrpc")},
        "plugins": {"io.containerd.internal.v1.opt": {"path": str(directory / "opt")}},
    }


def clean_environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key.lower() not in _PROXY_VARIABLES}


@dataclass
class Containerd:
    directory: Path
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def socket(self) -> Path:
        return self.directory / "c.sock"

    def ctr(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [require(CTR_BINARY), "--address", str(self.socket), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=clean_environment(),
        )

    def pull(
        self, reference: str, hosts_dir: Path, *, all_platforms: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``ctr images pull`` of ``reference`` with ``hosts_dir`` as containerd's config_path."""
        platforms = ["--all-platforms"] if all_platforms else []
        return self.ctr(
            "images",
            "pull",
            "--snapshotter",
            "native",
            *platforms,
            "--hosts-dir",
            str(hosts_dir),
            reference,
        )

    def images(self) -> dict[str, str]:
        """Image name -> the digest of its target (the index of a multi-platform image)."""
        listed = self.ctr("images", "list")
        if listed.returncode != 0:
            raise RuntimeError(f"ctr images list failed: {listed.stderr}")
        images = {}
        for line in listed.stdout.splitlines()[1:]:  # REF TYPE DIGEST SIZE PLATFORMS LABELS
            fields = line.split()
            if fields:
                images[fields[0]] = fields[2]
        return images

    def index_digest(self, reference: str) -> str | None:
        return self.images().get(reference)

    def content_digests(self) -> set[str]:
        """Every blob in the content store (manifests, configs, layers)."""
        listed = self.ctr("content", "list", "--quiet")
        if listed.returncode != 0:
            raise RuntimeError(f"ctr content list failed: {listed.stderr}")
        return set(listed.stdout.split())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait_ready(daemon: Containerd, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon.process.poll() is not None:
            raise RuntimeError(f"containerd exited: {daemon.log.read_text()[-2000:]}")
        if daemon.socket.exists():
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                if probe.connect_ex(str(daemon.socket)) == 0:
                    return
        time.sleep(0.01)
    daemon.stop()
    raise RuntimeError(f"containerd did not become ready: {daemon.log.read_text()[-2000:]}")


@contextlib.contextmanager
def running_containerd() -> Iterator[Containerd]:
    """A containerd of its own, stopped by PID and removed with its directory afterwards."""
    binary = require(CONTAINERD_BINARY)
    require(CTR_BINARY)
    directory = Path(tempfile.mkdtemp(prefix="airlock-ctrd-", dir="/tmp"))
    try:
        config = directory / "config.toml"
        config.write_text(tomli_w.dumps(daemon_config(directory)))
        log = directory / "containerd.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [binary, "--config", str(config)],
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=directory,
                env=clean_environment(),
            )
        daemon = Containerd(directory, process, log)
        try:
            _wait_ready(daemon)
            yield daemon
        finally:
            daemon.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
