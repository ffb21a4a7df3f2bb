"""Lazy package exports: a package's names load on first use (pure, no imports of its own).

``import airlock`` (and every subpackage) must cost nothing until a name is used: the
``airlock`` command starts without pulumi or pydantic, and a copy never loads the policy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``exports`` maps a name to ``module`` (the same
    name there) or ``module:attribute``, relative to the package."""

    def __getattr__(name: str) -> Any:
        target = exports.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, attribute = target.partition(":")
        return getattr(import_module(f".{module}", package), attribute or name)

    return __getattr__
