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
