"""The ``airlock`` command.

    airlock plan --stack prod                      resource tree and image table
    airlock plan --stack prod --format json --out plan.json
    airlock plan diff old.json new.json [--exit-code]
    airlock images list|placeholders|lock|mirror|verify --stack S
    airlock images copy SRC DST
    airlock nodes render --stack dev --runtime kind --out nodes/dev

Exit codes: 0 success; 1 a check failed (``plan diff --exit-code`` found changes, ``lock
--check`` would change the lock, ``verify`` found problems, a registry refused); 2 bad usage,
an invalid stack (every problem printed, with its config path) or a file that cannot be read.

Built on argparse, not typer: typer 0.29 builds a pydantic TypeAdapter for every parameter
while parsing, about 0.3 s per invocation here, which is most of the time of a re-copy or a
lock (docs/architecture.md, difference 14). Everything heavy (rich, urllib3, pydantic, pulumi)
is imported by the command that needs it, never at start-up.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

__all__ = ["CliError", "build_parser", "main", "run"]


class CliError(Exception):
    """Ends the command with ``message`` on stderr and exit ``code``."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def _console(file: Any = None) -> Any:
    """Wide enough for image references when writing to a pipe or a CI log."""
    from rich.console import Console

    console = Console(file=file)
    return console if console.is_terminal else Console(file=file, width=200, soft_wrap=True)


def _write(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def find_project_dir(start: Path | None = None) -> Path:
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise CliError(f"no Pulumi.yaml in {here} or above; pass --project-dir")


def _root(args: argparse.Namespace) -> Path:
    return args.project_dir.resolve() if args.project_dir else find_project_dir()


# -- plan ------------------------------------------------------------------------------------
def plan_document(
    project_dir: Path,
    stack: str,
    stack_references: dict[str, dict[str, Any]] | None = None,
    *,
    as_update: bool = False,
) -> dict[str, Any]:
    """Run the program for ``stack`` under the recording engine and build the plan document:
    as ``pulumi preview`` runs it, or (``as_update``) as ``pulumi up`` does, deploy gates and all."""
    from .plan import engine
    from .plan.document import build_document

    recording = engine.record_program(
        project_dir, stack, stack_references=stack_references, preview=not as_update
    )
    return build_document(recording)


def _stack_references(items: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``--stack-reference NAME=FILE.json``: a stack's outputs as ``pulumi stack output --json``
    prints them."""
    references: dict[str, dict[str, Any]] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise CliError(
                f"--stack-reference {item!r}: expected NAME=FILE.json, e.g. "
                "--stack-reference org/airlock/prod=prod-outputs.json"
            )
        try:
            outputs = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CliError(f"--stack-reference {name}={path}: cannot read it as JSON ({error})") from None
        if not isinstance(outputs, dict):
            raise CliError(
                f"--stack-reference {name}={path}: expected a JSON object of outputs "
                "(pulumi stack output --json)"
            )
        references[name] = outputs
    return references


def cmd_plan(args: argparse.Namespace) -> int:
    if args.stack is None:
        raise CliError("--stack is required: airlock plan --stack NAME")
    from .plan.document import dumps
    from .plan.engine import PlanError
    from .plan.render import render_plan
    from .plan.stackfiles import StackFilesError

    try:
        document = plan_document(
            _root(args), args.stack, _stack_references(args.stack_reference), as_update=args.as_update
        )
    except (PlanError, StackFilesError) as error:
        raise CliError(str(error)) from None
    if args.format == "json":
        text = dumps(document)
        if args.out:
            _write_file(args.out, text)
        else:
            sys.stdout.write(text)
    elif args.out:
        from io import StringIO

        from rich.console import Console

        buffer = StringIO()
        render_plan(document, Console(file=buffer, width=160, no_color=True))
        _write_file(args.out, buffer.getvalue())
    else:
        render_plan(document, _console())
    return _report_warnings(document.get("warnings", []), args.strict)


def _write_file(path: Path, text: str) -> None:
    """Write an output file, creating its folder; a failure is exit 2 naming the path."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise CliError(f"--out {path}: cannot write it ({error.strerror or error})") from None


def _report_warnings(warnings: Sequence[str], strict: bool) -> int:
    """Warnings go to stderr (stdout stays the plan or the table); ``--strict`` makes them exit 1."""
    from rich.markup import escape

    console = _console(sys.stderr)
    for warning in warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    if strict and warnings:
        sys.stderr.write(
            f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''} with --strict: exit 1\n"
        )
        return 1
    return 0


def _read_plan(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise CliError(f"cannot read plan {path}: {error}") from None
    if not isinstance(data, dict) or "resources" not in data:
        raise CliError(f"{path} is not an airlock plan (no 'resources')")
    return data


def cmd_plan_diff(args: argparse.Namespace) -> int:
    from .plan.diff import diff_plans
    from .plan.render import render_diff

    difference = diff_plans(_read_plan(args.old), _read_plan(args.new))
    if args.format == "json":
        _write(json.dumps(difference.as_dict(), indent=2, sort_keys=True))
    elif args.format == "markdown":
        from .plan.render import render_markdown

        title = args.title or _read_plan(args.new).get("stack", "plan")
        sys.stdout.write(render_markdown(difference, title, args.max_chars, args.full_diff))
    else:
        render_diff(difference, _console())
    return 1 if args.exit_code and not difference.empty else 0


# -- images: stack commands ------------------------------------------------------------------
def _stack(args: argparse.Namespace, *, ignore_lock: bool) -> tuple[Path, Any]:
    from .config import ConfigError, load_stack_config
    from .plan.stackfiles import StackFilesError, read_stack_files

    root = _root(args)
    try:
        files = read_stack_files(root, args.stack)
        loaded = load_stack_config(
            files.config, files.secret_keys, stack=args.stack, project_dir=root, ignore_lock=ignore_lock
        )
    except (ConfigError, StackFilesError) as error:
        raise CliError(str(error)) from None
    return root, loaded


def cmd_images_list(args: argparse.Namespace) -> int:
    _root_dir, loaded = _stack(args, ignore_lock=False)
    rows = loaded.table.as_list()
    if args.format == "json":
        _write(json.dumps(rows, indent=2, sort_keys=True))
        return _report_warnings(loaded.table.warnings, args.strict)
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(f"images of stack {args.stack}"))
    for column in ("consumer", "role", "namespace", "source", "final", "pinned by"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            *(Text(str(row[key] or "-")) for key in ("consumer", "role", "namespace", "source", "final")),
            _pin_mark(row["digestFrom"]),
        )
    console = _console()
    console.print(table)
    if any(row["digestFrom"] == "placeholder" for row in rows):
        console.print(
            f"PLACEHOLDER: an offline stand-in digest no registry serves; before deploying run "
            f"'airlock images lock --stack {args.stack}' with registry access"
        )
    return _report_warnings(loaded.table.warnings, args.strict)


def _pin_mark(digest_from: str | None) -> Any:
    """How a row is pinned; a placeholder (no registry serves it) and no digest stand out."""
    from rich.text import Text

    if digest_from == "placeholder":
        return Text("PLACEHOLDER", style="bold red")
    if digest_from is None:
        return Text("unpinned (tag only)", style="yellow")
    return Text(digest_from)


def cmd_images_placeholders(args: argparse.Namespace) -> int:
    from .images.lock import Lockfile

    root, loaded = _stack(args, ignore_lock=True)
    path = root / loaded.config.lock_file
    old, lock = Lockfile.update(path, lambda current: current.with_placeholders(loaded.table.sources))
    added = len(lock) - len(old)
    sys.stderr.write(
        f"{path.name}: {added} placeholder entr{'y' if added == 1 else 'ies'} added, {len(lock)} in all\n"
    )
    return 0


def _client(policy: Any, args: argparse.Namespace, root: Path | None = None) -> Any:
    """A registry client with the logins (auth files, and the stack's registry with
    ``--stack-login``) and the trust of the policy plus the flags."""
    from .oci.access import AccessError, load_credentials, stack_registry_login, transports_for
    from .oci.client import RegistryClient

    cas: dict[str, str] = {}
    for item in args.ca_file:
        host, sep, path = item.partition("=")
        if not sep or not host or not path:
            raise CliError(
                f"--ca-file {item!r}: expected HOST=PATH, e.g. --ca-file registry.local:5000=ca.pem"
            )
        cas[host] = path
    try:
        stack_login = stack_registry_login(root, args.stack) if root and args.stack_login else {}
        credentials = load_credentials(args.authfile, base=stack_login)
        transports = transports_for(policy, cas, args.insecure)
    except AccessError as error:
        raise CliError(str(error)) from None
    return RegistryClient(credentials, transports, timeout=args.timeout)


def cmd_images_lock(args: argparse.Namespace) -> int:
    from .images.lock import Lockfile
    from .oci.client import RegistryError
    from .oci.supply import lock_sources

    root, loaded = _stack(args, ignore_lock=True)
    locations = {
        str(e.resolved.source.without_digest()): e.resolved.final.without_digest()
        for e in loaded.table.entries
    }
    path = root / loaded.config.lock_file
    with _client(loaded.config.effective_policy(), args, root) as client:
        try:
            resolved = lock_sources(
                client,
                loaded.table.sources,
                locate=(lambda source: locations[str(source)]) if args.from_mirror else None,
                workers=args.workers,
            )
        except RegistryError as error:
            raise CliError(str(error), 1) from None

    if args.check:
        old = Lockfile.load(path)
        merged = old.merged(resolved)
    else:  # under the file lock: a concurrent run's entries are merged, not overwritten
        old, merged = Lockfile.update(path, lambda current: current.merged(resolved))
    changes = old.diff(merged)
    if args.format == "json":
        _write(json.dumps({"changes": [str(c) for c in changes], "entries": len(merged)}, indent=2))
    else:
        for change in changes:
            _write(str(change))
        _write(f"{len(resolved)} images resolved, {len(changes)} change(s)")
    return 1 if args.check and changes else 0


def cmd_images_mirror(args: argparse.Namespace) -> int:
    from .oci import mirrorlist
    from .oci.client import RegistryError
    from .oci.supply import MirrorError, mirror_images, plan_mirror

    root = _root(args)
    key = mirrorlist.cache_key(root, args.stack, platforms=args.platform, version=_code_version())
    listed = mirrorlist.load(root, args.stack, key) if key else None
    if listed is None:  # the stack's list, computed (and kept for these exact inputs)
        from .images.lock import Lockfile

        root, loaded = _stack(args, ignore_lock=True)
        policy = loaded.config.effective_policy()
        lock_file = root / loaded.config.lock_file
        try:
            pairs = plan_mirror(
                loaded.table.entries,
                Lockfile.load(lock_file),
                pin=policy.pin,
                pull_through=loaded.config.pull_through_prefixes(),
                platforms=args.platform,
            )
        except MirrorError as error:
            raise CliError(str(error)) from None
        listed = mirrorlist.MirrorList.of(pairs, policy.registries, lock_file)
        if key:
            mirrorlist.store(root, args.stack, key, listed)
    pairs = listed.pairs
    with (
        _client(listed.policy, args, root) as client,
        _Progress(args.format == "json", f"mirroring {len(pairs)} images") as advance,
    ):
        try:
            reports = mirror_images(
                client, pairs, platforms=args.platform or None, progress=advance, force=args.force
            )
        except RegistryError as error:
            raise CliError(str(error), 1) from None
    if args.format == "json":
        _write(json.dumps([r.as_dict() for r in reports], indent=2))
        return 0
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(f"mirror of stack {args.stack}"))
    columns = (
        "destination",
        "digest",
        "result",
        "copied",
        "skipped",
        "mounted",
        "bytes uploaded",
        "bytes skipped",
    )
    for column in columns:
        table.add_column(column, overflow="fold")
    for r in reports:
        table.add_row(
            Text(r.destination),
            r.digest[:19],
            "already present" if r.present else "copied",
            str(r.copied),
            str(r.skipped),
            str(r.mounted),
            str(r.bytes_uploaded),
            str(r.bytes_skipped),
        )
    console = _console()
    console.print(table)
    console.print(
        f"{len(reports)} images ({sum(r.present for r in reports)} already present), "
        f"{sum(r.bytes_uploaded for r in reports)} bytes uploaded, "
        f"{sum(r.bytes_skipped for r in reports)} bytes of blobs skipped"
    )
    return 0


class _Progress:
    """A rich transfer bar on stderr (rich is imported only when the bar is shown)."""

    def __init__(self, disabled: bool, description: str) -> None:
        self.disabled = disabled or not sys.stderr.isatty()
        self.description = description
        self.bar: Any = None

    def __enter__(self) -> Callable[[int], None] | None:
        if self.disabled:
            return None
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

        self.bar = Progress(
            "{task.description}",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=Console(stderr=True),
        )
        self.bar.start()
        task = self.bar.add_task(self.description, total=None)
        return lambda n: self.bar.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def cmd_images_verify(args: argparse.Namespace) -> int:
    from .images.lock import Lockfile
    from .oci.supply import verify_images, verify_report

    root, loaded = _stack(args, ignore_lock=True)
    lock = Lockfile.load(root / loaded.config.lock_file)
    with _client(loaded.config.effective_policy(), args, root) as client:
        checked, problems = verify_images(client, loaded.table.entries, lock, upstream=args.upstream)
    if args.report is not None:
        args.report.write_text(
            json.dumps(verify_report(args.stack, checked, problems), indent=2) + "\n", encoding="utf-8"
        )
    if args.format == "json":
        _write(json.dumps({"checked": checked, "problems": [str(p) for p in problems]}, indent=2))
    else:
        for problem in problems:
            _write(f"✗ {problem}")
        _write(f"{checked} images checked, {len(problems)} problem(s)")
    return 1 if problems else 0


def cmd_images_copy(args: argparse.Namespace) -> int:
    from .images.reference import InvalidReferenceError, parse
    from .oci.client import RegistryError
    from .oci.copy import copy_image

    try:
        source, destination = parse(args.source), parse(args.destination)
    except InvalidReferenceError as error:
        raise CliError(str(error)) from None
    with _client(None, args) as client, _Progress(args.format == "json", f"copying {source}") as advance:
        try:
            report = copy_image(
                client,
                source,
                destination,
                platforms=args.platform or None,
                workers=args.workers,
                progress=advance,
                force=args.force,
            )
        except RegistryError as error:
            raise CliError(str(error), 1) from None
    if args.format == "json":
        _write(json.dumps(report.as_dict(), indent=2))
    elif report.present:
        _write(f"{destination} = {report.digest}: already present, nothing copied")
    else:
        _write(
            f"{destination} = {report.digest}: {report.copied} copied, {report.skipped} skipped, "
            f"{report.mounted} mounted, {report.bytes_uploaded} bytes uploaded"
        )
    return 0


# -- parser ----------------------------------------------------------------------------------
def _bounded(kind: Callable[[str], float], low: float, high: float, what: str) -> Callable[[str], float]:
    """An argparse type: a number from ``low`` to ``high``, or a usage error saying so."""

    def convert(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what} from {low:g} to {high:g}")
        return value

    return convert


# -- nodes -----------------------------------------------------------------------------------
RENDER_MARKER = ".airlock-nodes"
"""In a directory ``airlock nodes render`` wrote: the files it wrote (the next render removes
only those it no longer writes)."""


def _refuse_broad_directory(out: Path, root: Path) -> None:
    for place, name in (
        (Path("/"), "the file system root"),
        (Path.home(), "your home directory"),
        (Path.cwd(), "the current directory"),
        (root, "the project directory"),
    ):
        place = place.resolve()
        if place == out or place.is_relative_to(out):
            raise CliError(
                f"--out {out}: is {name} or holds it; render into a directory of its own, "
                "e.g. --out nodes/<stack>"
            )


def _write_render(out: Path, files: dict[str, str], force: bool, root: Path) -> None:
    """Write ``files`` under ``out``, each through a temporary file and a rename, so a reader (a
    kind node's bind mount of ``certs.d``, which pins the directory itself) sees either the old
    file or the new one; then remove the files of the previous render this one no longer writes.
    Files airlock did not write are never removed. A non-empty ``out`` needs ``force``."""
    _refuse_broad_directory(out, root)
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {out}: exists and is not a directory; choose another path")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise CliError(
            f"--out {out}: the directory exists and is not empty; pass --force to update it "
            "(only files airlock writes are replaced or removed), or choose a new directory"
        )
    marker = out / RENDER_MARKER
    try:
        previous = json.loads(marker.read_text())["files"] if marker.is_file() else []
    except (OSError, ValueError, KeyError, TypeError):
        previous = []
    try:
        for relative, text in [*files.items(), (RENDER_MARKER, json.dumps({"files": list(files)}) + "\n")]:
            target = out / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.airlock-tmp")
            temporary.write_text(text)
            temporary.chmod(0o644)
            os.replace(temporary, target)
        for relative in previous:
            if (
                not isinstance(relative, str)
                or relative in files
                or Path(relative).is_absolute()
                or ".." in Path(relative).parts
            ):
                continue
            stale = out / relative
            stale.unlink(missing_ok=True)
            parent = stale.parent
            while parent != out and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
    except OSError as error:
        raise CliError(
            f"--out {out}: cannot write {error.filename or out}: {error.strerror or error}"
        ) from None


def cmd_nodes_render(args: argparse.Namespace) -> int:
    from .nodes.render import NodeRenderError, render_files

    root, loaded = _stack(args, ignore_lock=True)
    registry_ca = None
    if args.registry_ca is not None:
        try:
            registry_ca = args.registry_ca.read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise CliError(f"--registry-ca {args.registry_ca}: cannot be read ({error})") from None
    out = args.out.resolve()
    try:
        rendered = render_files(
            loaded.config, args.runtime, out, stack=args.stack, registry_ca=registry_ca, table=loaded.table
        )
    except NodeRenderError as error:
        raise CliError(
            f"cannot render {args.runtime} node configuration for stack {args.stack}:\n{error}"
        ) from None
    _write_render(out, rendered.files, args.force, root)
    for warning in rendered.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    files = rendered.files
    if args.format == "json":
        rows = [
            {"path": path, "bytes": len(text.encode()), "sha256": hashlib.sha256(text.encode()).hexdigest()}
            for path, text in files.items()
        ]
        _write(
            json.dumps(
                {"stack": args.stack, "runtime": args.runtime, "out": str(out), "files": rows}, indent=2
            )
        )
        return 0
    for path in files:
        _write(str(out / path))
    return 0


_workers = _bounded(int, 1, 64, "a number")
_seconds = _bounded(float, 1, 3600, "a number of seconds")


def _add_stack(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument("--stack", "-s", required=required, help="stack name (Pulumi.<stack>.yaml)")
    parser.add_argument("--project-dir", type=Path, help="directory of Pulumi.yaml (default: search upwards)")


def _add_strict(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strict", action="store_true", help="exit 1 when there is any warning (for CI)")


def _add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")


def _add_registry_access(parser: argparse.ArgumentParser, *, stack: bool = True) -> None:
    parser.add_argument(
        "--authfile",
        action="append",
        default=[],
        metavar="FILE",
        help="dockerconfigjson with registry logins, repeatable, later files win (default: "
        "$REGISTRY_AUTH_FILE, else the files podman and skopeo read)",
    )
    if stack:
        parser.add_argument(
            "--stack-login",
            action="store_true",
            help="also use the login of the stack's deployed registry "
            "(pulumi stack output registryPullSecretPayload; needs the Pulumi CLI)",
        )
    parser.add_argument(
        "--ca-file",
        action="append",
        default=[],
        metavar="HOST=PATH",
        help="trust the CA in PATH for HOST (repeatable)",
    )
    parser.add_argument(
        "--insecure",
        action="append",
        default=[],
        metavar="HOST",
        help="plain HTTP for HOST only (repeatable)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=60.0,
        metavar="SECONDS",
        help="deadline of one registry request, retries included; a blob must move 1 MiB within it "
        "(default 60)",
    )


def _add_copy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="OS/ARCH",
        help="copy only this platform (repeatable)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="check every blob even when the destination tag already has the source digest",
    )


def _code_version() -> str:
    """When any of airlock's modules last changed, and how many there are: part of a kept
    mirror list's key (an install rewrites them; an editable checkout changes without a new
    version). Read with scandir: ``importlib.metadata.version`` alone costs 75 ms here."""
    stamps: list[int] = []
    pending = [str(Path(__file__).resolve().parent)]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        pending.append(entry.path)
                elif entry.name.endswith(".py"):
                    stamps.append(entry.stat().st_mtime_ns)
    return f"{Path(__file__).resolve().parent}:{len(stamps)}:{max(stamps)}"


class _Version(argparse.Action):
    """``--version``: the installed package's version (read only when asked: start-up cost)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        from importlib.metadata import version

        sys.stdout.write(f"airlock {version('airlock')}\n")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="airlock", description="airlock: one door for container images.")
    parser.add_argument("--version", action=_Version, nargs=0, help="print the version of airlock and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{plan,images,nodes}")

    plan = commands.add_parser(
        "plan",
        help="show what a stack declares, offline",
        description="Plan a stack offline (no Pulumi CLI, no cluster, no credentials).",
    )
    _add_stack(plan, required=False)
    _add_format(plan)
    plan.add_argument("--out", type=Path, help="write the output to this file (its folder is created)")
    plan.add_argument(
        "--as-update",
        action="store_true",
        help="run the program as 'pulumi up' does (not as a preview): the deploy gates refuse "
        "placeholder digests and unmirrored images",
    )
    _add_strict(plan)
    plan.add_argument(
        "--stack-reference",
        action="append",
        default=[],
        metavar="NAME=FILE.json",
        help="outputs of a stack the program reads through a StackReference (repeatable); the "
        "JSON of 'pulumi stack output --json --stack NAME'",
    )
    plan.set_defaults(handler=cmd_plan)
    plan_commands = plan.add_subparsers(dest="plan_command", metavar="{diff}")
    diff = plan_commands.add_parser(
        "diff", help="what changed between two plans", description="What changed between two JSON plans."
    )
    diff.add_argument("old", type=Path, help="the base plan (JSON)")
    diff.add_argument("new", type=Path, help="the new plan (JSON)")
    diff.add_argument("--exit-code", action="store_true", help="exit 1 when the plans differ")
    diff.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="output format (markdown: PR comment)",
    )
    diff.add_argument("--title", help="markdown: the heading (default: the stack name)")
    diff.add_argument(
        "--max-chars",
        type=_bounded(int, 1000, 65_536, "a number of characters"),
        default=60_000,
        help="markdown: cut the diff to this size (GitHub caps a comment at 65,536)",
    )
    diff.add_argument("--full-diff", metavar="WHERE", help="markdown: where the whole diff is (a link)")
    diff.set_defaults(handler=cmd_plan_diff)

    images = commands.add_parser("images", help="the images a stack needs, their lockfile and mirror")
    image_commands = images.add_subparsers(
        dest="images_command", required=True, metavar="{list,placeholders,lock,mirror,verify,copy}"
    )

    listing = image_commands.add_parser(
        "list", help="every image the stack needs: consumer, role, namespace, source, final reference"
    )
    _add_stack(listing)
    _add_format(listing)
    _add_strict(listing)
    listing.set_defaults(handler=cmd_images_list)

    placeholders = image_commands.add_parser(
        "placeholders",
        help="offline only: placeholder lock entries so a pin: required stack can be planned",
        description=(
            "Give every source image without a lock entry a recognisable placeholder digest. Every plan "
            "warns about each placeholder and a pull by one fails: resolve real digests before deploying."
        ),
    )
    _add_stack(placeholders)
    placeholders.set_defaults(handler=cmd_images_placeholders)

    lock = image_commands.add_parser(
        "lock", help="resolve the digest of every source image and write images.lock atomically"
    )
    _add_stack(lock)
    lock.add_argument(
        "--check", action="store_true", help="exit 1 if images.lock would change; write nothing"
    )
    lock.add_argument("--from-mirror", action="store_true", help="resolve at the final location")
    lock.add_argument("--workers", type=_workers, default=16, help="parallel requests (1-64)")
    _add_registry_access(lock)
    _add_format(lock)
    lock.set_defaults(handler=cmd_images_lock)

    mirror = image_commands.add_parser(
        "mirror", help="copy every image the stack needs into its registry, under the final reference"
    )
    _add_stack(mirror)
    _add_copy_options(mirror)
    _add_registry_access(mirror)
    _add_format(mirror)
    mirror.set_defaults(handler=cmd_images_mirror)

    verify = image_commands.add_parser(
        "verify", help="every final reference exists in the registry with the locked digest"
    )
    _add_stack(verify)
    verify.add_argument(
        "--upstream",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also check that upstream tags did not move",
    )
    verify.add_argument("--report", type=Path, help="write the results as JSON (for airlock:verifyReport)")
    _add_registry_access(verify)
    _add_format(verify)
    verify.set_defaults(handler=cmd_images_verify)

    copy = image_commands.add_parser(
        "copy", help="copy one image (every platform of an index by default) between registries"
    )
    copy.add_argument("source", help="source image reference")
    copy.add_argument("destination", help="destination image reference")
    _add_copy_options(copy)
    copy.add_argument("--workers", type=_workers, default=8, help="parallel requests (1-64)")
    _add_registry_access(copy, stack=False)
    _add_format(copy)
    copy.set_defaults(handler=cmd_images_copy)

    nodes = commands.add_parser("nodes", help="the policy as the nodes' container runtimes read it")
    node_commands = nodes.add_subparsers(dest="nodes_command", required=True, metavar="{render}")
    render = node_commands.add_parser(
        "render",
        help="write a runtime's registry configuration (hosts.toml, registries.conf, kind) for a stack",
        description=(
            "Write the stack's mirror rules and registry trust as one runtime reads them: containerd "
            "2.x or 1.6/1.7 (a hosts.toml tree and the config_path snippet), cri-o (registries.conf "
            "v2 and certs.d), or kind (the tree, a cluster config that mounts it, the KEP-1755 "
            "ConfigMap). The directory is replaced as a whole; the files are listed."
        ),
    )
    _add_stack(render)
    render.add_argument("--runtime", required=True, choices=("containerd", "containerd1", "cri-o", "kind"))
    render.add_argument("--out", type=Path, required=True, help="directory to write (new or empty)")
    render.add_argument("--force", action="store_true", help="replace a directory that is not empty")
    render.add_argument(
        "--registry-ca",
        type=Path,
        metavar="FILE",
        help="the in-cluster registry's generated CA (pulumi stack output registry --json | jq -r .caBundle)",
    )
    _add_format(render)
    render.set_defaults(handler=cmd_nodes_render)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from .images.errors import PolicyError  # tiny: the lockfile's and the policy's errors

    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except CliError as error:
        sys.stderr.write(f"error: {error}\n")
        return error.code
    except PolicyError as error:  # e.g. images.lock unreadable or unwritable after loading
        sys.stderr.write(f"error: {error}\n")
        return 2
    return code


def run() -> NoReturn:
    """The ``airlock`` console script: ``main()``, then exit without interpreter teardown.

    Tearing down some hundred imported modules takes about 14 ms here, a tenth of a re-copy.
    By the time ``main()`` returns every file and connection is closed and every worker thread
    joined, and the command registers no atexit handlers, so there is nothing left to run:
    flush the two streams and leave. In-process callers (tests) use ``main()``."""
    try:
        code = main()
    except KeyboardInterrupt:
        code = 130
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (airlock ... | head)
            code = code or 1
    os._exit(code)


if __name__ == "__main__":
    run()
