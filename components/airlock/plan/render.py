"""Human output of plans and plan diffs (rich).

Data is never markup: every value from a plan (names, references, labels, warnings) goes
through :func:`escape` or into a :class:`~rich.text.Text`, so ``[fd00::1]:5000/team/web``
prints as written and a label value ``[/red]`` cannot break the output (rich would otherwise
read both as style tags)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from .diff import PlanDiff

__all__ = ["render_diff", "render_plan"]


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


def render_diff(diff: PlanDiff, console: Console) -> None:
    if diff.empty:
        console.print("no changes")
        return
    for urn in diff.added:
        console.print(Text(f"+ {urn}", style="green"))
    for urn in diff.removed:
        console.print(Text(f"- {urn}", style="red"))
    for urn, changes in diff.changed.items():
        console.print(Text(f"~ {urn}", style="yellow"))
        for change in changes:
            console.print(Text(f"    {change.path}: {change.old!r} -> {change.new!r}"))
    if diff.images:
        table = Table(title="Image changes")
        table.add_column("image")
        table.add_column("old final reference", overflow="fold")
        table.add_column("new final reference", overflow="fold")
        for image in diff.images:
            table.add_row(
                *(
                    Text(cell)
                    for cell in (image.key, image.old_final or "(none)", image.new_final or "(none)")
                )
            )
        console.print(table)
    for change in diff.outputs:
        console.print(
            Text(f"~ output {change.path}", style="yellow") + Text(f": {change.old!r} -> {change.new!r}")
        )
