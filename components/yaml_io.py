"""YAML reading through libyaml when PyYAML was built with it (the manylinux wheels are).

The pure-Python loader spends about 2 ms per kilobyte; a stack file with a CA bundle and a
lockfile of a few dozen images made YAML parsing the largest cost of ``airlock images lock``.
Both loaders construct the same safe types.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["safe_load"]

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)
