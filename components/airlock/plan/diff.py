"""Compare two plan documents: resources added/removed/changed (with field paths), image final
references side by side, and changed stack outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["FieldChange", "ImageChange", "PlanDiff", "diff_plans"]

_MISSING = object()


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ImageChange:
    key: str
    old_final: str | None
    new_final: str | None
    other: tuple[FieldChange, ...] = ()


@dataclass
class PlanDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[FieldChange]] = field(default_factory=dict)
    images: list[ImageChange] = field(default_factory=list)
    outputs: list[FieldChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.images or self.outputs)

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "removed": self.removed,
            "changed": {
                urn: [{"path": c.path, "old": c.old, "new": c.new} for c in changes]
                for urn, changes in self.changed.items()
            },
            "images": [
                {
                    "image": change.key,
                    "old": change.old_final,
                    "new": change.new_final,
                    "fields": [{"path": c.path, "old": c.old, "new": c.new} for c in change.other],
                }
                for change in self.images
            ],
            "outputs": [{"path": c.path, "old": c.old, "new": c.new} for c in self.outputs],
        }


def _join(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    text = str(key)
    if text.replace("_", "").isalnum():
        return f"{path}.{text}" if path else text
    return f'{path}["{text}"]'


def field_changes(old: Any, new: Any, path: str = "") -> list[FieldChange]:
    """Leaf-level differences between two JSON values, with their paths."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[FieldChange] = []
        for key in sorted(set(old) | set(new), key=str):
            changes += field_changes(old.get(key, _MISSING), new.get(key, _MISSING), _join(path, key))
        return changes
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        changes = []
        for index, (old_item, new_item) in enumerate(zip(old, new, strict=True)):
            changes += field_changes(old_item, new_item, _join(path, index))
        return changes
    if old == new:
        return []
    return [
        FieldChange(path or "(value)", None if old is _MISSING else old, None if new is _MISSING else new)
    ]


def _image_key(image: dict[str, Any]) -> str:
    namespace = image.get("namespace")
    return f"{image.get('name')}" + (f" ({namespace})" if namespace else "")


def diff_plans(old: dict[str, Any], new: dict[str, Any]) -> PlanDiff:
    result = PlanDiff()
    old_resources = {resource["urn"]: resource for resource in old.get("resources", [])}
    new_resources = {resource["urn"]: resource for resource in new.get("resources", [])}
    result.added = sorted(set(new_resources) - set(old_resources))
    result.removed = sorted(set(old_resources) - set(new_resources))
    for urn in sorted(set(old_resources) & set(new_resources)):
        before, after = old_resources[urn], new_resources[urn]
        changes = field_changes(
            {key: before.get(key) for key in ("parent", "dependencies", "inputs")},
            {key: after.get(key) for key in ("parent", "dependencies", "inputs")},
        )
        if changes:
            result.changed[urn] = changes
    old_images = {_image_key(image): image for image in old.get("images", [])}
    new_images = {_image_key(image): image for image in new.get("images", [])}
    for key in sorted(set(old_images) | set(new_images)):
        before, after = old_images.get(key), new_images.get(key)
        if before == after:
            continue
        other = (
            field_changes(
                {k: v for k, v in (before or {}).items() if k != "final"},
                {k: v for k, v in (after or {}).items() if k != "final"},
            )
            if before and after
            else []
        )
        result.images.append(
            ImageChange(
                key,
                before.get("final") if before else None,
                after.get("final") if after else None,
                tuple(other),
            )
        )
    result.outputs = field_changes(old.get("outputs", {}), new.get("outputs", {}))
    return result
