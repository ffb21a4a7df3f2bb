"""Token auth, and the failures a mirror meets: the destination dies mid-copy, a proxy alters
bytes, a login is wrong. Real registries on 127.0.0.1; the faults are real processes/sockets."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest
import yaml

from airlock.images.dockerconfig import RegistryCredential
from airlock.images.reference import parse
from airlock.oci.client import RegistryClient, RegistryError, RegistryTransport
from airlock.oci.copy import copy_image
from tests.support.pki import make_server_certificate
from tests.support.registry import free_port, registry_config, start_registry, start_registry_with_config
from tests.support.token_server import ISSUER, SERVICE, start_token_server

from .test_oci_copy import push

pytestmark = pytest.mark.realserver


def token_registry(tmp_path, ca, username, password):
    tokens = start_token_server(username, password, ca)
    directory = tmp_path / "token-registry"
    directory.mkdir()
    (directory / "signer.pem").write_text(tokens.certificate_pem)
    server = make_server_certificate(ca)
    (directory / "server.crt").write_text(server.certificate_pem)
    (directory / "server.key").write_text(server.key_pem)
    port = free_port()
    config = registry_config(
        directory / "storage",
        f"127.0.0.1:{port}",
        tls=(directory / "server.crt", directory / "server.key"),
        htpasswd=None,
    )
    config["auth"] = {
        "token": {
            "realm": tokens.realm,
            "service": SERVICE,
            "issuer": ISSUER,
            "rootcertbundle": str(directory / "signer.pem"),
        }
    }
    return tokens, start_registry_with_config(directory, config, port, ca, username, password)


def test_copy_from_a_token_auth_registry(tmp_path, test_ca):
    tokens, registry = token_registry(tmp_path, test_ca, "tok", "pw-tok")
    destination = start_registry(tmp_path / "dst", ca=test_ca, username="bob", password="pw-dst")
    try:
        layout = push(registry, tmp_path / "layout", "1.0", "library/app")  # skopeo, via the token service
        transports = {
            r.endpoint: RegistryTransport(ca_bundle=test_ca.certificate_pem) for r in (registry, destination)
        }
        client = RegistryClient(
            {
                registry.endpoint: RegistryCredential("tok", "pw-tok"),
                destination.endpoint: RegistryCredential("bob", "pw-dst"),
            },
            transports,
        )
        report = copy_image(
            client,
            parse(f"{registry.endpoint}/library/app:1.0"),
            parse(f"{destination.endpoint}/library/app:1.0"),
        )
        assert report.digest == layout.index_digest and report.copied == 4
        wrong = RegistryClient({registry.endpoint: RegistryCredential("tok", "bad")}, transports)
        with pytest.raises(RegistryError, match=r"token service refused user 'tok' .*check the credentials"):
            wrong.get_manifest(parse(f"{registry.endpoint}/library/app:1.0"))
    finally:
        destination.stop()
        registry.stop()
        tokens.stop()


def test_destination_killed_mid_copy_then_rerun_completes(tmp_path, test_ca):
    source = start_registry(tmp_path / "src", ca=test_ca, username="alice", password="pw-src")
    destination = start_registry(tmp_path / "dst", ca=test_ca, username="bob", password="pw-dst")
    try:
        layout = push(source, tmp_path / "layout", "1.0", "library/big", size=24 * 1024 * 1024)
        transports = {
            r.endpoint: RegistryTransport(ca_bundle=test_ca.certificate_pem) for r in (source, destination)
        }
        credentials = {
            source.endpoint: RegistryCredential("alice", "pw-src"),
            destination.endpoint: RegistryCredential("bob", "pw-dst"),
        }
        src, dst = (
            parse(f"{source.endpoint}/library/big:1.0"),
            parse(f"{destination.endpoint}/library/big:1.0"),
        )
        killed = threading.Event()

        def kill_after_first_bytes(sent: int) -> None:
            if not killed.is_set():
                killed.set()
                destination.process.kill()

        client = RegistryClient(credentials, transports, retries=1, backoff=0.05)
        with pytest.raises(RegistryError) as caught:
            copy_image(client, src, dst, progress=kill_after_first_bytes, workers=2)
        assert destination.endpoint in str(caught.value)
        client.close()
        # restart on the same port and storage: a re-run finishes the job
        restarted = start_registry_with_config(
            destination.directory,
            yaml.safe_load((destination.directory / "config.yml").read_text()),
            destination.port,
            test_ca,
            "bob",
            "pw-dst",
        )
        try:
            with RegistryClient(credentials, transports) as again:
                report = copy_image(again, src, dst)
                assert report.digest == layout.index_digest
                assert again.get_manifest(dst).digest == layout.index_digest
        finally:
            restarted.stop()
    finally:
        destination.stop()
        source.stop()


class CorruptingProxy:
    """A TCP relay that flips one byte once a connection's responses pass 100 KB: manifests
    (a few KB) pass untouched, the 512 KiB layer arrives altered."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.running:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._pipe, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, True), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, corrupt: bool) -> None:
        relayed, flipped = 0, False
        try:
            while data := source.recv(65536):
                relayed += len(data)
                if corrupt and not flipped and relayed > 100_000:
                    data = data[:-1] + bytes([data[-1] ^ 0xFF])
                    flipped = True
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self.running = False
        self.listener.close()


def test_altered_bytes_are_refused_and_nothing_is_tagged(tmp_path, test_ca):
    """The proxy alters the blob bytes on the plain-HTTP path from source to client."""
    source = start_registry(tmp_path / "src")  # plain HTTP on loopback, declared insecure below
    destination = start_registry(tmp_path / "dst", ca=test_ca, username="bob", password="pw-dst")
    relay = CorruptingProxy(source.port)
    try:
        layout = push_plain(source, tmp_path / "layout")
        proxied = f"127.0.0.1:{relay.port}"
        client = RegistryClient(
            {destination.endpoint: RegistryCredential("bob", "pw-dst")},
            {
                proxied: RegistryTransport(insecure=True),
                destination.endpoint: RegistryTransport(ca_bundle=test_ca.certificate_pem),
            },
            retries=0,
        )
        with pytest.raises(RegistryError, match="refusing to upload altered content"):
            copy_image(
                client,
                parse(f"{proxied}/library/app:1.0"),
                parse(f"{destination.endpoint}/library/app:1.0"),
                workers=1,
            )
        with RegistryClient(
            {destination.endpoint: RegistryCredential("bob", "pw-dst")},
            {destination.endpoint: RegistryTransport(ca_bundle=test_ca.certificate_pem)},
        ) as check:
            assert check.head_manifest(parse(f"{destination.endpoint}/library/app:1.0"), "1.0") is None
            for digest in layout.platform_digests.values():
                assert check.head_manifest(parse(f"{destination.endpoint}/library/app:1.0"), digest) is None
    finally:
        relay.stop()
        destination.stop()
        source.stop()


def push_plain(registry, layout_dir):
    import subprocess

    from tests.support.oci_layout import build_layout

    layout = build_layout(layout_dir, tag="1.0", platforms=("linux/amd64",), layer_size=512 * 1024)
    result = subprocess.run(
        [
            "skopeo",
            "copy",
            "--dest-tls-verify=false",
            f"oci:{layout.path}:1.0",
            f"docker://{registry.endpoint}/library/app:1.0",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    time.sleep(0.05)
    return layout
