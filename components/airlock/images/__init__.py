"""The image core: reference grammar, policy, lockfile, image table and pull-secret payloads.

Pure Python: nothing here imports pulumi, so the CLI, the components and the tests share it.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# Exports load on first use: the OCI copy path needs only the reference grammar and should not
# pay for pydantic (the policy) at start-up.
_EXPORTS = {
    "CatalogImage": "catalog",
    "ImageOverride": "policy",
    "ImagePolicy": "policy",
    "ImageReference": "reference",
    "InvalidReferenceError": "reference",
    "LockChange": "lock",
    "LockEntry": "lock",
    "LockReport": "lock",
    "Lockfile": "lock",
    "MirrorRule": "policy",
    "PolicyError": "errors",
    "PolicyErrors": "errors",
    "RegistryCredential": "dockerconfig",
    "RegistryOverride": "policy",
    "RegistryTrust": "policy",
    "ResolvedImage": "policy",
    "TagRules": "policy",
    "UnpinnedImageError": "errors",
    "parse": "reference",
    "parse_dockerconfigjson": "dockerconfig",
    "registry_key": "dockerconfig",
    "render_dockerconfigjson": "dockerconfig",
    "resolve": "policy",
    "resolve_all": "policy",
}

if TYPE_CHECKING:
    from .catalog import CatalogImage
    from .dockerconfig import (
        RegistryCredential,
        parse_dockerconfigjson,
        registry_key,
        render_dockerconfigjson,
    )
    from .errors import PolicyError, PolicyErrors, UnpinnedImageError
    from .lock import LockChange, LockEntry, Lockfile, LockReport
    from .policy import (
        ImageOverride,
        ImagePolicy,
        MirrorRule,
        RegistryOverride,
        RegistryTrust,
        ResolvedImage,
        TagRules,
        resolve,
        resolve_all,
    )
    from .reference import ImageReference, InvalidReferenceError, parse


__getattr__ = lazy_exports(__name__, _EXPORTS)


__all__ = [
    "CatalogImage",
    "ImageOverride",
    "ImagePolicy",
    "ImageReference",
    "InvalidReferenceError",
    "LockChange",
    "LockEntry",
    "LockReport",
    "Lockfile",
    "MirrorRule",
    "PolicyError",
    "PolicyErrors",
    "RegistryCredential",
    "RegistryOverride",
    "RegistryTrust",
    "ResolvedImage",
    "TagRules",
    "UnpinnedImageError",
    "parse",
    "parse_dockerconfigjson",
    "registry_key",
    "render_dockerconfigjson",
    "resolve",
    "resolve_all",
]
