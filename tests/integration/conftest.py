"""Fixtures that start real binaries on 127.0.0.1. They fail (never skip) when a binary is missing:
'make test' installs them first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.pki import KeyPair, make_ca
from tests.support.registry import RunningRegistry, start_registry


@pytest.fixture(scope="session")
def test_ca() -> KeyPair:
    return make_ca()


@pytest.fixture
def tls_auth_registry(tmp_path: Path, test_ca: KeyPair) -> Iterator[RunningRegistry]:
    registry = start_registry(tmp_path / "registry", ca=test_ca, username="airlock", password="s3cret-pass")
    yield registry
    registry.stop()


@pytest.fixture(scope="module")
def mirror_ca() -> KeyPair:
    """Each node-test module's own CA: nothing else on the machine trusts it."""
    return make_ca("airlock node test CA")


@pytest.fixture(scope="module")
def tls_mirror(tmp_path_factory: pytest.TempPathFactory, mirror_ca: KeyPair) -> Iterator[RunningRegistry]:
    """A mirror registry with TLS from ``mirror_ca``, on a free port of 127.0.0.1."""
    registry = start_registry(tmp_path_factory.mktemp("tls-mirror") / "registry", ca=mirror_ca)
    yield registry
    registry.stop()


@pytest.fixture(scope="module")
def plain_mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """A plain-HTTP mirror registry on a free port of 127.0.0.1."""
    registry = start_registry(tmp_path_factory.mktemp("plain-mirror") / "registry")
    yield registry
    registry.stop()
