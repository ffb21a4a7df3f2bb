"""Helm values as nested mappings (pure): set, take and merge by path, and the escape hatch rule.

Every room that installs a chart writes its values by path, lets the stack add values through
an escape hatch (``values``), and keeps the paths the image policy owns: a user value there is
taken out (the policy's value wins, a warning names the path), and a section airlock writes
into must stay a mapping (``privateNodes: true`` would otherwise fail half-way through a
deployment). One implementation, used by the vcluster and Envoy Gateway rooms.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from copy import deepcopy
from typing import Any

__all__ = ["Path", "ValuesProblem", "mapping_problems", "merge", "pop_path", "set_path", "take_owned"]

Path = tuple[str, ...]
ValuesProblem = tuple[Path, object, str, str]
"""(path under ``values``, value, why, fix)."""


def set_path(tree: dict[str, Any], path: Path, value: Any) -> None:
    """``tree[a][b][c] = value``, creating the mappings on the way."""
    node = tree
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def pop_path(tree: dict[str, Any], path: Path) -> bool:
    """Remove ``path`` from ``tree``; True when it was there."""
    node: Any = tree
    for key in path[:-1]:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    if isinstance(node, dict) and path[-1] in node:
        del node[path[-1]]
        return True
    return False


def merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``extra`` into ``base`` (mappings merge, anything else replaces); returns base."""
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = deepcopy(value)
    return base


def take_owned(user: dict[str, Any], owned: Iterable[Path]) -> list[Path]:
    """Remove the policy-owned paths from ``user`` (a copy of the escape hatch); the paths that
    were set, for the warnings."""
    return [path for path in owned if pop_path(user, path)]


def mapping_problems(
    values: Mapping[str, Any], written: Iterable[Path], hints: Mapping[Path, str] | None = None
) -> list[ValuesProblem]:
    """Sections of ``values`` on the way to a path airlock writes must be mappings; ``hints``
    gives a section its own fix (``privateNodes``: ``{enabled: true}``)."""
    problems: list[ValuesProblem] = []
    reported: set[Path] = set()
    for path in written:
        node: Any = values
        for depth, key in enumerate(path[:-1]):
            if not isinstance(node, Mapping) or key not in node:
                break
            node = node[key]
            prefix = path[: depth + 1]
            if not isinstance(node, Mapping) and prefix not in reported:
                reported.add(prefix)
                problems.append(
                    (
                        prefix,
                        node,
                        f"must be a mapping: airlock sets {'.'.join(path[depth + 1 :])} under it",
                        (hints or {}).get(prefix, "write it as a mapping of chart values"),
                    )
                )
                break
    return problems
