"""Who may talk to which registry, and how: logins from an auth file, trust per registry.

Kept apart from the supply chain so that ``airlock images copy`` loads neither the lockfile
(PyYAML) nor the policy (pydantic): a copy's start-up time is most of a re-copy's.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..images.dockerconfig import RegistryCredential, parse_dockerconfigjson
from .client import RegistryTransport

if TYPE_CHECKING:
    from ..images.policy import ImagePolicy

__all__ = ["load_credentials", "transports_for"]


def load_credentials(authfile: str | None) -> dict[str, RegistryCredential]:
    """From ``--authfile``, else ``REGISTRY_AUTH_FILE``; no file means anonymous access."""
    path = authfile or os.environ.get("REGISTRY_AUTH_FILE")
    if not path:
        return {}
    return parse_dockerconfigjson(Path(path).read_text(encoding="utf-8"))


def transports_for(
    policy: ImagePolicy | None, ca_files: Mapping[str, str], insecure: Iterable[str]
) -> dict[str, RegistryTransport]:
    """Trust per registry: the policy's ``registries`` plus command-line additions."""
    transports: dict[str, RegistryTransport] = {}
    if policy is not None:
        for host, trust in policy.registries.items():
            transports[host] = RegistryTransport(ca_bundle=trust.ca_bundle, insecure=trust.insecure)
    for host, path in ca_files.items():
        transports[host] = RegistryTransport(ca_bundle=Path(path).read_text(encoding="utf-8"))
    for host in insecure:
        transports[host] = RegistryTransport(insecure=True)
    return transports
