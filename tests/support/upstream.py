"""A stand-in upstream registry address on 127.0.0.2 that counts connections: the node tests
prove a pull never (or only after the mirror) reached the upstream."""

from __future__ import annotations

import socket
import threading

UPSTREAM_HOST = "127.0.0.2"


def free_upstream_port() -> int:
    """A port of 127.0.0.2 that nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((UPSTREAM_HOST, 0))
        port = int(sock.getsockname()[1])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        assert probe.connect_ex((UPSTREAM_HOST, port)) != 0, "the upstream port must be closed"
    return port


class ConnectionCounter:
    """A listener on the upstream address that counts connections and closes them at once."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((host, int(port)))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.count = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.count += 1
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        self.sock.close()
