"""Compare two plan documents for review: resources added, removed, changed (field paths, lists
element by element) and replaced (a field the API server will not change in place), image rows
whose pull changes, changed outputs, and warnings added or resolved.

Lists of objects with a ``name`` (containers, env, ports, volumes) are matched by name, as
Kubernetes merges them; other lists element by element (``difflib``), so one new list entry is
one line, not the whole list twice.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["REPLACING_FIELDS", "FieldChange", "ImageChange", "PlanDiff", "diff_plans", "flatten", "short"]

_MISSING = object()
IMAGE_KEYS = ("final", "pullPolicy", "pullSecrets")
TABLE_OUTPUTS = ("images", "imageMap")
"""What a pod's pull depends on: an image row is shown only when one of these changes."""

# Fields the API server refuses to change on an existing object (apimachinery validation of
# each kind: "field is immutable"), so pulumi-kubernetes replaces the object; a changed
# metadata.name or metadata.namespace is a new object under the same URN (a rename).
REPLACING_FIELDS: dict[str, tuple[str, ...]] = {
    "kubernetes:apps/v1:Deployment": ("inputs.spec.selector",),
    "kubernetes:apps/v1:DaemonSet": ("inputs.spec.selector",),
    "kubernetes:apps/v1:StatefulSet": (
        "inputs.spec.selector",
        "inputs.spec.serviceName",
        "inputs.spec.volumeClaimTemplates",
        "inputs.spec.podManagementPolicy",
    ),
    "kubernetes:batch/v1:Job": ("inputs.spec.template", "inputs.spec.selector", "inputs.spec.completions"),
    "kubernetes:core/v1:Service": ("inputs.spec.clusterIP",),
    "kubernetes:core/v1:PersistentVolumeClaim": (
        "inputs.spec.accessModes",
        "inputs.spec.storageClassName",
        "inputs.spec.selector",
        "inputs.spec.volumeName",
    ),
    "kubernetes:core/v1:Secret": ("inputs.type",),
}
RENAMING_FIELDS = ("inputs.metadata.name", "inputs.metadata.namespace")


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
    replaced: dict[str, list[str]] = field(default_factory=dict)
    """URN -> the changed paths that force a replacement (a subset of ``changed``)."""
    images: list[ImageChange] = field(default_factory=list)
    outputs: list[FieldChange] = field(default_factory=list)
    warnings_added: list[str] = field(default_factory=list)
    warnings_resolved: list[str] = field(default_factory=list)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    """URN -> the resource (type, name, inputs) for every added or removed one."""

    @property
    def empty(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.changed
            or self.images
            or self.outputs
            or self.warnings_added
            or self.warnings_resolved
        )

    def summary(self) -> str:
        """``+2 added, ~3 changed (±1 replaced), -1 removed; 2 image rows; warnings +1 -0``."""
        replaced = f" (±{len(self.replaced)} replaced)" if self.replaced else ""
        return (
            f"+{len(self.added)} added, ~{len(self.changed)} changed{replaced}, "
            f"-{len(self.removed)} removed; "
            f"{len(self.images)} image row{'s' if len(self.images) != 1 else ''} changed; "
            f"warnings +{len(self.warnings_added)} -{len(self.warnings_resolved)}"
        )

    def as_dict(self) -> dict[str, Any]:
        def changes(items: list[FieldChange]) -> list[dict[str, Any]]:
            return [{"path": c.path, "old": c.old, "new": c.new} for c in items]

        return {
            "summary": self.summary(),
            "added": [{"urn": urn, **self.resources[urn]} for urn in self.added],
            "removed": [{"urn": urn, **self.resources[urn]} for urn in self.removed],
            "changed": {urn: changes(items) for urn, items in self.changed.items()},
            "replaced": self.replaced,
            "images": [
                {"image": c.key, "old": c.old_final, "new": c.new_final, "fields": changes(list(c.other))}
                for c in self.images
            ],
            "outputs": changes(self.outputs),
            "warnings": {"added": self.warnings_added, "resolved": self.warnings_resolved},
        }


def _join(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    text = str(key)
    if text.replace("_", "").isalnum():
        return f"{path}.{text}" if path else text
    return f'{path}["{text}"]'


def _named(items: list[Any]) -> dict[str, Any] | None:
    """Items by their ``name`` when every item is an object with a unique string name."""
    names = [item.get("name") if isinstance(item, dict) else None for item in items]
    if not items or not all(isinstance(name, str) for name in names) or len(set(names)) != len(names):
        return None
    return dict(zip(names, items, strict=True))  # type: ignore[arg-type]


def _list_changes(old: list[Any], new: list[Any], path: str) -> list[FieldChange]:
    old_named, new_named = _named(old), _named(new)
    if old_named is not None and new_named is not None:
        changes: list[FieldChange] = []
        for name in [*old_named, *(n for n in new_named if n not in old_named)]:
            changes += field_changes(
                old_named.get(name, _MISSING), new_named.get(name, _MISSING), f"{path}[name={name}]"
            )
        shared_old = [n for n in old_named if n in new_named]
        shared_new = [n for n in new_named if n in old_named]
        if shared_old != shared_new:  # init containers run in order; env entries refer to earlier ones
            changes.append(FieldChange(f"{path} (order)", shared_old, shared_new))
        return changes
    if len(old) == len(new):
        changes = []
        for index, (old_item, new_item) in enumerate(zip(old, new, strict=True)):
            changes += field_changes(old_item, new_item, _join(path, index))
        return changes
    keys = [json.dumps(item, sort_keys=True, default=str) for item in old]
    new_keys = [json.dumps(item, sort_keys=True, default=str) for item in new]
    changes = []
    matcher = difflib.SequenceMatcher(a=keys, b=new_keys, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for offset in range(i2 - i1):
                changes += field_changes(old[i1 + offset], new[j1 + offset], _join(path, j1 + offset))
            continue
        changes += [FieldChange(_join(path, i), old[i], None) for i in range(i1, i2)]
        changes += [FieldChange(_join(path, j), None, new[j]) for j in range(j1, j2)]
    return changes


def field_changes(old: Any, new: Any, path: str = "") -> list[FieldChange]:
    """Leaf-level differences between two JSON values, with their paths (lists by element)."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[FieldChange] = []
        for key in sorted(set(old) | set(new), key=str):
            changes += field_changes(old.get(key, _MISSING), new.get(key, _MISSING), _join(path, key))
        return changes
    if isinstance(old, list) and isinstance(new, list):
        return [] if old == new else _list_changes(old, new, path)
    if old == new:
        return []
    return [
        FieldChange(path or "(value)", None if old is _MISSING else old, None if new is _MISSING else new)
    ]


def _forces_replacement(resource_type: str, path: str) -> bool:
    fields = REPLACING_FIELDS.get(resource_type, ())
    if resource_type.startswith("kubernetes:") and "helm.sh" not in resource_type:
        fields = (*fields, *RENAMING_FIELDS)
    return any(path == f or path.startswith((f + ".", f + "[")) for f in fields)


def _image_key(image: dict[str, Any]) -> str:
    namespace = image.get("namespace")
    return f"{image.get('name')}" + (f" ({namespace})" if namespace else "")


def diff_plans(old: dict[str, Any], new: dict[str, Any]) -> PlanDiff:
    result = PlanDiff()
    old_resources = {resource["urn"]: resource for resource in old.get("resources", [])}
    new_resources = {resource["urn"]: resource for resource in new.get("resources", [])}
    result.added = sorted(set(new_resources) - set(old_resources))
    result.removed = sorted(set(old_resources) - set(new_resources))
    for urn in result.added:
        result.resources[urn] = {k: new_resources[urn].get(k) for k in ("type", "name", "inputs")}
    for urn in result.removed:
        result.resources[urn] = {k: old_resources[urn].get(k) for k in ("type", "name", "inputs")}
    for urn in sorted(set(old_resources) & set(new_resources)):
        before, after = old_resources[urn], new_resources[urn]
        changes = field_changes(
            {key: before.get(key) for key in ("parent", "dependencies", "inputs")},
            {key: after.get(key) for key in ("parent", "dependencies", "inputs")},
        )
        if changes:
            result.changed[urn] = changes
            forcing = [c.path for c in changes if _forces_replacement(str(after.get("type")), c.path)]
            if forcing:
                result.replaced[urn] = forcing
    old_images = {_image_key(image): image for image in old.get("images", [])}
    new_images = {_image_key(image): image for image in new.get("images", [])}
    for key in sorted(set(old_images) | set(new_images)):
        before, after = old_images.get(key), new_images.get(key)
        if before and after and all(before.get(k) == after.get(k) for k in IMAGE_KEYS):
            continue  # only the rule's description moved (an index, a wording): the pull is the same
        other = (
            field_changes(
                {k: v for k, v in before.items() if k in IMAGE_KEYS[1:]},
                {k: v for k, v in after.items() if k in IMAGE_KEYS[1:]},
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
    # the image table is an output too (images, imageMap): its changes are the image rows above
    result.outputs = field_changes(
        {k: v for k, v in old.get("outputs", {}).items() if k not in TABLE_OUTPUTS},
        {k: v for k, v in new.get("outputs", {}).items() if k not in TABLE_OUTPUTS},
    )
    old_warnings, new_warnings = set(old.get("warnings", [])), set(new.get("warnings", []))
    result.warnings_added = sorted(new_warnings - old_warnings)
    result.warnings_resolved = sorted(old_warnings - new_warnings)
    return result


def short(value: Any, limit: int = 120) -> str:
    """A value as compact JSON, cut to ``limit`` characters (with the full length said)."""
    if isinstance(value, str):
        text = repr(value)
    else:
        text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return text if len(text) <= limit else f"{text[: limit - 20]}… ({len(text)} chars)"


def flatten(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Leaf paths and values of a JSON value (lists of named objects by name)."""
    if isinstance(value, dict) and value:
        items: list[tuple[str, Any]] = []
        for key in sorted(value, key=str):
            items += flatten(value[key], _join(path, key))
        return items
    if isinstance(value, list) and value:
        named = _named(value)
        items = []
        for key, item in named.items() if named is not None else enumerate(value):
            items += flatten(item, f"{path}[name={key}]" if named is not None else _join(path, key))
        return items
    return [(path or "(value)", value)]
