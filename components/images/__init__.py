"""The image core: reference grammar, policy, catalog, lockfile and pull-secret payloads.

Pure Python: nothing here imports pulumi, so the CLI, the components and the tests share it.
"""

from .catalog import CATALOG, CatalogImage, catalog_image, source_reference
from .dockerconfig import RegistryCredential, parse_dockerconfigjson, registry_key, render_dockerconfigjson
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

__all__ = [
    "CATALOG",
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
    "catalog_image",
    "parse",
    "parse_dockerconfigjson",
    "registry_key",
    "render_dockerconfigjson",
    "resolve",
    "resolve_all",
    "source_reference",
]
