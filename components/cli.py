"""The ``airlock`` command.

    airlock plan --stack prod                      resource tree and image table
    airlock plan --stack prod --format json --out plan.json
    airlock plan diff old.json new.json [--exit-code]

Exit codes: 0 success; 1 ``plan diff --exit-code`` found changes; 2 the stack is invalid
(every problem printed, with its config path) or a file could not be read.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, help="airlock: one door for container images.")
plan_app = typer.Typer(help="Show what a stack declares, offline (no CLI, no cluster, no credentials).")
app.add_typer(plan_app, name="plan")
images_app = typer.Typer(help="The images a stack needs, and their lockfile.", no_args_is_help=True)
app.add_typer(images_app, name="images")

stderr = Console(stderr=True, soft_wrap=True)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


StackOption = Annotated[str, typer.Option("--stack", "-s", help="Stack name (Pulumi.<stack>.yaml).")]
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="text or json.")]
ProjectDirOption = Annotated[Path | None, typer.Option("--project-dir", help="Directory of Pulumi.yaml.")]


def _console() -> Console:
    """Wide enough for image references when writing to a pipe or a CI log."""
    console = Console()
    return console if console.is_terminal else Console(width=200, soft_wrap=True)


def find_project_dir(start: Path | None = None) -> Path:
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise typer.BadParameter(f"no Pulumi.yaml in {here} or above; pass --project-dir")


def plan_document(project_dir: Path, stack: str) -> dict[str, Any]:
    """Run the program for ``stack`` under the recording engine and build the plan document."""
    from .plan.document import build_document
    from .plan.engine import record_program

    return build_document(record_program(project_dir, stack))


@plan_app.callback(invoke_without_command=True)
def plan(
    context: typer.Context,
    stack: Annotated[
        str | None, typer.Option("--stack", "-s", help="Stack name (Pulumi.<stack>.yaml).")
    ] = None,
    output_format: FormatOption = OutputFormat.text,
    out: Annotated[Path | None, typer.Option("--out", help="Write the output to this file.")] = None,
    project_dir: ProjectDirOption = None,
) -> None:
    """Plan a stack: `airlock plan --stack prod [--format json] [--out FILE]`."""
    if context.invoked_subcommand is not None:
        return
    if stack is None:
        raise typer.BadParameter("--stack is required", param_hint="--stack")
    from .plan.document import dumps
    from .plan.engine import PlanError
    from .plan.render import render_plan
    from .plan.stackfiles import StackFilesError

    root = project_dir.resolve() if project_dir else find_project_dir()
    try:
        document = plan_document(root, stack)
    except (PlanError, StackFilesError) as error:
        stderr.print(f"[red]error:[/red] {error}", highlight=False, markup=True)
        raise typer.Exit(2) from None
    if output_format is OutputFormat.json:
        text = dumps(document)
        if out:
            out.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return
    if out:
        with out.open("w", encoding="utf-8") as stream:
            render_plan(document, Console(file=stream, width=160, no_color=True))
    else:
        render_plan(document, _console())


def _read_plan(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        stderr.print(f"[red]error:[/red] cannot read plan {path}: {error}", highlight=False)
        raise typer.Exit(2) from None
    if not isinstance(data, dict) or "resources" not in data:
        stderr.print(f"[red]error:[/red] {path} is not an airlock plan (no 'resources')", highlight=False)
        raise typer.Exit(2)
    return data


@plan_app.command("diff")
def plan_diff(
    old: Annotated[Path, typer.Argument(help="The base plan (JSON).")],
    new: Annotated[Path, typer.Argument(help="The new plan (JSON).")],
    exit_code: Annotated[bool, typer.Option("--exit-code", help="Exit 1 when the plans differ.")] = False,
    output_format: FormatOption = OutputFormat.text,
) -> None:
    """What changed between two plans: resources, fields, final image references, outputs."""
    from .plan.diff import diff_plans
    from .plan.render import render_diff

    difference = diff_plans(_read_plan(old), _read_plan(new))
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(difference.as_dict(), indent=2, sort_keys=True) + "\n")
    else:
        render_diff(difference, _console())
    if exit_code and not difference.empty:
        raise typer.Exit(1)


def _stack_table(project_dir: Path, stack: str, *, ignore_lock: bool) -> Any:
    from .config import ConfigError, load_stack_config
    from .plan.stackfiles import StackFilesError, read_stack_files

    try:
        files = read_stack_files(project_dir, stack)
        return load_stack_config(
            files.config, files.secret_keys, stack=stack, project_dir=project_dir, ignore_lock=ignore_lock
        )
    except (ConfigError, StackFilesError) as error:
        stderr.print(f"[red]error:[/red] {error}", highlight=False)
        raise typer.Exit(2) from None


def _stack(project_dir: Path | None, stack: str, *, ignore_lock: bool) -> tuple[Path, Any]:
    root = project_dir.resolve() if project_dir else find_project_dir()
    return root, _stack_table(root, stack, ignore_lock=ignore_lock)


@images_app.command("list")
def images_list(
    stack: StackOption,
    output_format: FormatOption = OutputFormat.text,
    project_dir: ProjectDirOption = None,
) -> None:
    """Every image the stack needs: consumer, role, namespace, source and final reference."""
    from rich.table import Table

    _root, loaded = _stack(project_dir, stack, ignore_lock=False)
    rows = [
        {key: entry[key] for key in ("consumer", "role", "namespace", "source", "final", "pull_policy")}
        for entry in loaded.table.as_list()
    ]
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(rows, indent=2, sort_keys=True) + "\n")
        return
    table = Table(title=f"images of stack {stack}")
    for column in ("consumer", "role", "namespace", "source", "final"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row["consumer"], row["role"], row["namespace"] or "-", row["source"], row["final"])
    _console().print(table)


@images_app.command("placeholders")
def images_placeholders(
    stack: StackOption,
    project_dir: ProjectDirOption = None,
) -> None:
    """Offline only: give every source image without a lock entry a recognisable placeholder
    digest, so a `pin: required` stack can be planned without registry access. Every plan
    warns about each placeholder; a pull by one fails. Resolve real digests before deploying."""
    from .images.lock import Lockfile, placeholder_entry

    root, loaded = _stack(project_dir, stack, ignore_lock=True)
    path = root / loaded.config.lock_file
    lock = Lockfile.load(path)
    added = 0
    for source in loaded.table.sources:
        if source.digest is None and lock.get(source) is None:
            lock = lock.with_entry(source, placeholder_entry(source))
            added += 1
    lock.write(path)
    stderr.print(
        f"{path.name}: {added} placeholder entr{'y' if added == 1 else 'ies'} added, {len(lock)} in all"
    )


AuthfileOption = Annotated[
    str | None,
    typer.Option("--authfile", help="dockerconfigjson with logins (default: $REGISTRY_AUTH_FILE)."),
]
CaFileOption = Annotated[
    list[str] | None, typer.Option("--ca-file", help="HOST=PATH: trust PATH's CA for HOST (repeatable).")
]
InsecureOption = Annotated[
    list[str] | None, typer.Option("--insecure", help="HOST: plain HTTP for this registry only (repeatable).")
]
WorkersOption = Annotated[int, typer.Option("--workers", min=1, max=64, help="Parallel requests.")]


def _client(policy: Any, authfile: str | None, ca_files: list[str] | None, insecure: list[str] | None) -> Any:
    from .images.errors import PolicyError
    from .oci.client import RegistryClient
    from .oci.supply import load_credentials, transports_for

    cas: dict[str, str] = {}
    for item in ca_files or []:
        host, sep, path = item.partition("=")
        if not sep or not host or not path:
            raise typer.BadParameter(f"{item!r} is not HOST=PATH", param_hint="--ca-file")
        cas[host] = path
    try:
        credentials = load_credentials(authfile)
        transports = transports_for(policy, cas, insecure or [])
    except (OSError, PolicyError) as error:
        stderr.print(f"[red]error:[/red] {error}", highlight=False)
        raise typer.Exit(2) from None
    return RegistryClient(credentials, transports)


def _fail(error: Exception) -> typer.Exit:
    stderr.print(f"[red]error:[/red] {error}", highlight=False)
    return typer.Exit(1)


@images_app.command("lock")
def images_lock(
    stack: StackOption,
    check: Annotated[
        bool, typer.Option("--check", help="Fail if images.lock would change; write nothing.")
    ] = False,
    from_mirror: Annotated[
        bool, typer.Option("--from-mirror", help="Resolve at the final location.")
    ] = False,
    authfile: AuthfileOption = None,
    ca_file: CaFileOption = None,
    insecure: InsecureOption = None,
    workers: WorkersOption = 16,
    output_format: FormatOption = OutputFormat.text,
    project_dir: ProjectDirOption = None,
) -> None:
    """Resolve the digest of every source image and write images.lock atomically."""
    from .images.lock import Lockfile
    from .oci.client import RegistryError
    from .oci.supply import lock_sources

    root, loaded = _stack(project_dir, stack, ignore_lock=True)
    locations = {
        str(e.resolved.source.without_digest()): e.resolved.final.without_digest()
        for e in loaded.table.entries
    }
    path = root / loaded.config.lock_file
    with _client(loaded.config.effective_policy(), authfile, ca_file, insecure) as client:
        try:
            resolved = lock_sources(
                client,
                loaded.table.sources,
                locate=(lambda source: locations[str(source)]) if from_mirror else None,
                workers=workers,
            )
        except RegistryError as error:
            raise _fail(error) from None
    old = Lockfile.load(path)
    merged = old
    for key, entry in resolved.entries.items():
        merged = merged.with_entry(key, entry)
    changes = old.diff(merged)
    if output_format is OutputFormat.json:
        sys.stdout.write(
            json.dumps({"changes": [str(c) for c in changes], "entries": len(merged)}, indent=2) + "\n"
        )
    else:
        for change in changes:
            _console().print(str(change), highlight=False)
        _console().print(f"{len(resolved)} images resolved, {len(changes)} change(s)")
    if check:
        if changes:
            raise typer.Exit(1)
        return
    merged.write(path)


@images_app.command("mirror")
def images_mirror(
    stack: StackOption,
    platform: Annotated[
        list[str] | None, typer.Option("--platform", help="os/arch to copy (default: all).")
    ] = None,
    authfile: AuthfileOption = None,
    ca_file: CaFileOption = None,
    insecure: InsecureOption = None,
    output_format: FormatOption = OutputFormat.text,
    project_dir: ProjectDirOption = None,
) -> None:
    """Copy every image the stack needs into its registry, under the final reference."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
    from rich.table import Table

    from .images.lock import Lockfile
    from .oci.client import RegistryError
    from .oci.supply import mirror_images, mirror_pairs

    root, loaded = _stack(project_dir, stack, ignore_lock=True)
    lock = Lockfile.load(root / loaded.config.lock_file)
    registry = loaded.config.registry
    caches = (
        registry.cache_endpoints().values() if registry is not None and registry.mode == "in-cluster" else ()
    )
    pairs = mirror_pairs(loaded.table.entries, lock, [c.partition("/")[0] for c in caches])
    with _client(loaded.config.effective_policy(), authfile, ca_file, insecure) as client:
        progress = Progress(
            "{task.description}",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=Console(stderr=True),
            disable=output_format is OutputFormat.json,
        )
        with progress:
            task = progress.add_task(f"mirroring {len(pairs)} images", total=None)
            try:
                reports = mirror_images(
                    client, pairs, platforms=platform, progress=lambda n: progress.advance(task, n)
                )
            except RegistryError as error:
                raise _fail(error) from None
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps([r.as_dict() for r in reports], indent=2) + "\n")
        return
    table = Table(title=f"mirror of stack {stack}")
    for column in (
        "destination",
        "digest",
        "copied",
        "skipped",
        "mounted",
        "bytes uploaded",
        "bytes skipped",
    ):
        table.add_column(column, overflow="fold")
    for r in reports:
        table.add_row(
            r.destination,
            r.digest[:19],
            str(r.copied),
            str(r.skipped),
            str(r.mounted),
            str(r.bytes_uploaded),
            str(r.bytes_skipped),
        )
    _console().print(table)
    total = sum(r.bytes_uploaded for r in reports)
    _console().print(
        f"{len(reports)} images, {total} bytes uploaded, "
        f"{sum(r.bytes_skipped for r in reports)} bytes skipped"
    )


@images_app.command("verify")
def images_verify(
    stack: StackOption,
    upstream: Annotated[
        bool, typer.Option("--upstream/--no-upstream", help="Also check that upstream tags did not move.")
    ] = True,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the results as JSON (for airlock:verifyReport).")
    ] = None,
    authfile: AuthfileOption = None,
    ca_file: CaFileOption = None,
    insecure: InsecureOption = None,
    output_format: FormatOption = OutputFormat.text,
    project_dir: ProjectDirOption = None,
) -> None:
    """Every final reference exists in the registry with the locked digest; exit 1 otherwise."""
    from .images.lock import Lockfile
    from .oci.supply import verify_images, verify_report

    root, loaded = _stack(project_dir, stack, ignore_lock=True)
    lock = Lockfile.load(root / loaded.config.lock_file)
    with _client(loaded.config.effective_policy(), authfile, ca_file, insecure) as client:
        checked, problems = verify_images(client, loaded.table.entries, lock, upstream=upstream)
    if report is not None:
        report.write_text(
            json.dumps(verify_report(stack, checked, problems), indent=2) + "\n", encoding="utf-8"
        )
    if output_format is OutputFormat.json:
        sys.stdout.write(
            json.dumps({"checked": checked, "problems": [str(p) for p in problems]}, indent=2) + "\n"
        )
    else:
        for problem in problems:
            _console().print(f"[red]✗[/red] {problem}", highlight=False)
        _console().print(f"{checked} images checked, {len(problems)} problem(s)")
    if problems:
        raise typer.Exit(1)


@images_app.command("copy")
def images_copy(
    source: Annotated[str, typer.Argument(help="Source image reference.")],
    destination: Annotated[str, typer.Argument(help="Destination image reference.")],
    platform: Annotated[
        list[str] | None, typer.Option("--platform", help="os/arch to copy (default: all).")
    ] = None,
    authfile: AuthfileOption = None,
    ca_file: CaFileOption = None,
    insecure: InsecureOption = None,
    workers: WorkersOption = 8,
    output_format: FormatOption = OutputFormat.text,
) -> None:
    """Copy one image (every platform of an index by default) between registries."""
    from .images.reference import InvalidReferenceError, parse
    from .oci.client import RegistryError
    from .oci.copy import copy_image

    try:
        src, dst = parse(source), parse(destination)
    except InvalidReferenceError as error:
        raise typer.BadParameter(str(error)) from None
    with _client(None, authfile, ca_file, insecure) as client:
        try:
            report = copy_image(client, src, dst, platforms=platform, workers=workers)
        except RegistryError as error:
            raise _fail(error) from None
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(report.as_dict(), indent=2) + "\n")
    else:
        _console().print(
            f"{dst} = {report.digest}: {report.copied} copied, {report.skipped} skipped, "
            f"{report.mounted} mounted, "
            f"{report.bytes_uploaded} bytes uploaded",
            highlight=False,
        )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
