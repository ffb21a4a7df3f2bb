"""An oracle of how Crossplane picks an ImageConfig, written from crossplane-runtime v2.3.3
``pkg/xpkg/config.go`` (``bestMatch``, ``RewritePath``, ``PullSecretFor``) independently of
airlock's own model: among the ImageConfigs that set the wanted field, the longest
``matchImages`` prefix of the raw reference string wins."""

from __future__ import annotations

from typing import Any

__all__ = ["fetched", "pull_secret_for"]


def _best(
    reference: str, image_configs: list[dict[str, Any]], field: str
) -> tuple[dict[str, Any] | None, str]:
    best, match = None, ""
    for config in image_configs:
        if field not in config["spec"]:
            continue
        for item in config["spec"]["matchImages"]:
            if reference.startswith(item["prefix"]) and len(item["prefix"]) > len(match):
                best, match = config, item["prefix"]
    return best, match


def fetched(reference: str, image_configs: list[dict[str, Any]]) -> str:
    """What Crossplane fetches for ``spec.package``: ``rewritePrefix + TrimPrefix(ref, match)``."""
    best, match = _best(reference, image_configs, "rewriteImage")
    return reference if best is None else best["spec"]["rewriteImage"]["prefix"] + reference[len(match) :]


def pull_secret_for(reference: str, image_configs: list[dict[str, Any]]) -> str | None:
    """The pull secret Crossplane uses for the (rewritten) reference."""
    best, _ = _best(reference, image_configs, "registry")
    return None if best is None else best["spec"]["registry"]["authentication"]["pullSecretRef"]["name"]
