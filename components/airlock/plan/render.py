"""Human output of plans and plan diffs (rich).

Data is never markup: every value from a plan (names, references, labels, warnings) goes
through :func:`escape` or into a :class:`~rich.text.Text`, so ``[fd00::1]:5000/team/web``
prints as written and a label value ``[/red]`` cannot break the output (rich would otherwise
read both as style tags)."""

from __future__ import annotations

import difflib
import re
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from .diff import FieldChange, PlanDiff, flatten, short

__all__ = ["diff_lines", "render_diff", "render_markdown", "render_plan"]


def _label(resource: dict[str, Any]) -> str:
    return f"[bold]{escape(resource['name'])}[/bold] [dim]{escape(resource['type'])}[/dim]"


def render_plan(document: dict[str, Any], console: Console) -> None:
    stack_urn = f"urn:pulumi:{document['stack']}::{document['project']}::pulumi:pulumi:Stack::"
    project, stack = escape(document["project"]), escape(document["stack"])
    tree = Tree(f"[bold]{project}[/bold] / stack [bold cyan]{stack}[/bold cyan]")
    nodes: dict[str, Tree] = {}
    pending = sorted(document["resources"], key=lambda r: r["urn"])
    while pending:
        remaining = []
        for resource in pending:
            parent = resource.get("parent")
            if not parent or parent.startswith(stack_urn):
                nodes[resource["urn"]] = tree.add(_label(resource))
            elif parent in nodes:
                nodes[resource["urn"]] = nodes[parent].add(_label(resource))
            else:
                remaining.append(resource)
        if len(remaining) == len(pending):  # orphans: show at top level rather than loop
            for resource in remaining:
                nodes[resource["urn"]] = tree.add(_label(resource))
            break
        pending = remaining
    console.print(tree)
    console.print(f"{len(document['resources'])} resources")

    table = Table(title="Images", show_lines=False)
    # A final reference is copied by reviewers: it keeps its width (up to half the console)
    # and the other columns fold first.
    longest = max((len(image["final"]) for image in document["images"]), default=0)
    for column in ("image", "namespace", "final reference", "pull policy", "pull secrets", "rule"):
        width = min(longest, console.width // 2) if column == "final reference" else None
        table.add_column(column, overflow="fold", min_width=width)
    for image in document["images"]:
        table.add_row(
            *(
                Text(str(cell))
                for cell in (
                    image["name"],
                    image.get("namespace") or "-",
                    image["final"],
                    image["pullPolicy"],
                    ", ".join(image["pullSecrets"]) or "-",
                    image["rule"],
                )
            )
        )
    console.print(table)
    warnings = len(document.get("warnings", []))
    if warnings:  # the warnings themselves go to stderr (airlock plan)
        console.print(f"{warnings} warning{'s' if warnings != 1 else ''}")


MAX_LINE = 300
INPUT_LINES = 12


def _urn_label(urn: str) -> str:
    """``<type>::<name>``: the end of the URN (the parent chain is in the plan)."""
    return urn.rsplit("$", 1)[-1]


def _cut(text: str) -> str:
    """One line (no newline can break out of it), at most 300 characters."""
    text = text.replace("\r", " ").replace("\n", " ")
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"


TEXT_LINES = 10


def _change_lines(change: FieldChange) -> list[tuple[str, str]]:
    """One line per changed field; a multi-line text (a config file) as the lines that changed."""
    old, new = change.old, change.new
    if isinstance(old, str) and isinstance(new, str) and ("\n" in old or "\n" in new):
        changed = [
            line
            for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
        lines = [
            ("", f"    {change.path}: text, {len(changed)} line{'s' if len(changed) != 1 else ''} changed")
        ]
        lines += [("", _cut(f"      {line}")) for line in changed[:TEXT_LINES]]
        if len(changed) > TEXT_LINES:
            lines.append(("dim", f"      … {len(changed) - TEXT_LINES} more"))
        return lines
    return [("", _cut(f"    {change.path}: {short(old)} -> {short(new)}"))]


def diff_lines(diff: PlanDiff) -> list[tuple[str, str]]:
    """The diff as (style, line) pairs, every line at most 300 characters: the summary, added
    and removed resources with their inputs in short, changed fields, image rows, outputs and
    warnings. Shared by the text and the markdown output."""
    lines: list[tuple[str, str]] = [("bold", diff.summary())]
    for sign, style, urns in (("+", "green", diff.added), ("-", "red", diff.removed)):
        for urn in urns:
            lines.append((style, _cut(f"{sign} {_urn_label(urn)}")))
            fields = flatten(diff.resources[urn].get("inputs") or {})
            lines += [("", _cut(f"    {path}: {short(value)}")) for path, value in fields[:INPUT_LINES]]
            if len(fields) > INPUT_LINES:
                lines.append(("dim", f"    … {len(fields) - INPUT_LINES} more fields"))
    for urn, changes in diff.changed.items():
        if urn in diff.replaced:
            lines.append(
                ("magenta", _cut(f"± {_urn_label(urn)} (replaced: {', '.join(diff.replaced[urn])})"))
            )
        else:
            lines.append(("yellow", _cut(f"~ {_urn_label(urn)}")))
        for change in changes:
            lines += _change_lines(change)
    for image in diff.images:
        lines.append(
            (
                "cyan",
                _cut(f"image {image.key}: {image.old_final or '(none)'} -> {image.new_final or '(none)'}"),
            )
        )
        lines += [("", _cut(f"    {c.path}: {short(c.old)} -> {short(c.new)}")) for c in image.other]
    lines += [("yellow", _cut(f"~ output {c.path}: {short(c.old)} -> {short(c.new)}")) for c in diff.outputs]
    lines += [("yellow", _cut(f"+ warning: {w}")) for w in diff.warnings_added]
    lines += [("green", _cut(f"- warning (resolved): {w}")) for w in diff.warnings_resolved]
    return lines


def render_diff(diff: PlanDiff, console: Console) -> None:
    if diff.empty:
        console.print("no changes")
        return
    for style, line in diff_lines(diff):
        console.print(Text(line, style=style or ""), soft_wrap=True)


def render_markdown(diff: PlanDiff, title: str, max_chars: int = 60_000, full: str | None = None) -> str:
    """The diff for a pull-request comment (GitHub caps one at 65,536 characters): a heading with
    the summary and the lines in a ``diff`` block, cut to ``max_chars`` — never more — with a
    pointer to ``full`` (where the whole diff is, e.g. the workflow's artifact)."""
    title = _cut(title)[:200]
    full = _cut(full)[:300] if full else "in the plan artifacts"
    if diff.empty:
        return f"#### {title}: no changes\n"[:max_chars]
    lines = diff_lines(diff)
    body = [line for _, line in lines[1:]]
    longest = max((len(run) for line in body for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)  # no line can close the block
    head = f"#### {title}: {lines[0][1]}\n\n"
    text = head + f"{fence}diff\n" + "".join(f"{line}\n" for line in body) + f"{fence}\n"
    if len(text) <= max_chars:
        return text
    note = f"… {{}} more lines: the full diff is {full}\n"
    budget = max_chars - len(head) - 2 * len(fence) - len("diff\n\n") - len(note) - 20
    kept: list[str] = []
    used = 0
    for line in body:
        if used + len(line) + 1 > budget:
            break
        kept.append(line)
        used += len(line) + 1
    text = head + f"{fence}diff\n" + "".join(f"{line}\n" for line in kept) + f"{fence}\n"
    return (text + note.format(len(body) - len(kept)))[:max_chars]
