"""Run the Pulumi program under the SDK's mock engine and record what it declares.

A recording monitor (a ``MockMonitor`` subclass; the SDK version is pinned because this is
semi-internal) sees every ``RegisterResource`` call with its type, name, parent, dependencies
and inputs, every ``RegisterResourceOutputs`` of components, and the stack's exports. Nothing
is created and nothing leaves the process: providers are never started.

URNs are rebuilt the way the engine builds them (``urn:pulumi:<stack>::<project>::<parent
types>$<type>::<name>``, the root stack's type excluded) so that plan diffs line up with
``pulumi preview``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import logging
import os
import runpy
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings

from .stackfiles import read_stack_files

__all__ = [
    "COMPUTED_OUTPUTS",
    "MissingStackReference",
    "PlanError",
    "RecordedResource",
    "Recording",
    "computed_placeholder",
    "record",
    "record_program",
]

STACK_TYPE = "pulumi:pulumi:Stack"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"


class PlanError(RuntimeError):
    """The program failed; ``cause`` is the original exception (e.g. a ConfigError)."""

    def __init__(self, message: str, cause: BaseException | None, recording: Recording) -> None:
        super().__init__(message)
        self.cause = cause
        self.recording = recording


@dataclass
class RecordedResource:
    urn: str
    type: str
    name: str
    parent: str | None
    dependencies: list[str]
    inputs: dict[str, Any]
    custom: bool
    outputs: dict[str, Any] = field(default_factory=dict)
    provider: str | None = None
    """URN of the explicit provider resource it uses (None: the default provider)."""


@dataclass
class Recording:
    project: str
    stack: str
    resources: list[RecordedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def of_type(self, type_token: str) -> list[RecordedResource]:
        return [resource for resource in self.resources if resource.type == type_token]


# Outputs that providers compute at deploy time. The plan cannot know them; it shows a stable,
# labelled placeholder so that everything derived from them stays visible and deterministic.
COMPUTED_OUTPUTS: dict[str, tuple[str, ...]] = {
    "random:index/randomPassword:RandomPassword": ("result", "bcryptHash"),
    "random:index/randomString:RandomString": ("result",),
    "tls:index/privateKey:PrivateKey": ("privateKeyPem", "publicKeyPem", "privateKeyPemPkcs8"),
    "tls:index/selfSignedCert:SelfSignedCert": ("certPem",),
    "tls:index/certRequest:CertRequest": ("certRequestPem",),
    "tls:index/locallySignedCert:LocallySignedCert": ("certPem",),
    "docker:index/remoteImage:RemoteImage": ("imageId", "repoDigest"),
}


def computed_placeholder(name: str, output: str) -> str:
    return f"[computed at deploy: {name}.{output}]"


class MissingStackReference(RuntimeError):
    """A StackReference the offline plan has no outputs for."""


class _PlanMocks(pulumi.runtime.Mocks):
    """Every resource echoes its inputs as its state, with a deterministic id; outputs only a
    provider can compute get a labelled placeholder. A StackReference answers with the outputs
    given for its stack (``--stack-reference NAME=FILE.json``), or stops the plan naming that
    flag."""

    def __init__(self, stack_references: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.stack_references = dict(stack_references or {})

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == STACK_REFERENCE_TYPE:
            return self._stack_reference(args)
        state = dict(args.inputs)
        if args.resource_id and args.typ == "kubernetes:core/v1:Secret":
            # A Secret read at deploy time (vcluster's kubeconfig Secret): its data is unknowable.
            placeholder = f"[read at deploy: Secret {args.resource_id}]"
            state.setdefault("data", {"config": base64.b64encode(placeholder.encode()).decode()})
        for output in COMPUTED_OUTPUTS.get(args.typ, ()):
            state.setdefault(output, computed_placeholder(args.name, output))
        return f"{args.name}-id", state

    def _stack_reference(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        name = str(args.inputs.get("name") or args.resource_id or args.name)
        if name not in self.stack_references:
            given = ", ".join(sorted(self.stack_references)) or "none"
            raise MissingStackReference(
                f"the program reads StackReference {name!r}, whose outputs the offline plan cannot "
                f"fetch; pass them with --stack-reference {name}=FILE.json (the JSON of 'pulumi stack "
                f"output --json --stack {name}'; given: {given})"
            )
        return name, {"name": name, "outputs": dict(self.stack_references[name]), "secretOutputNames": []}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {}, []


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, recording: Recording, mocks: _PlanMocks) -> None:
        super().__init__(mocks)
        self.recording = recording
        self._engine_urn: dict[str, str] = {}
        self._qualified_type: dict[str, str] = {}
        self._by_engine_urn: dict[str, RecordedResource] = {}
        self.thread_loops: set[asyncio.AbstractEventLoop] = set()

    def _note_thread_loop(self) -> None:
        """The SDK gives each worker thread its own event loop and never closes it."""
        with contextlib.suppress(RuntimeError):
            self.thread_loops.add(asyncio.get_event_loop())

    def _engine_urn_for(self, parent_mock_urn: str, type_token: str, name: str) -> tuple[str, str]:
        parent_type = self._qualified_type.get(parent_mock_urn, "")
        qualified = f"{parent_type}${type_token}" if parent_type else type_token
        if type_token == STACK_TYPE:
            qualified = ""
            urn = f"urn:pulumi:{self.recording.stack}::{self.recording.project}::{STACK_TYPE}::{name}"
        else:
            urn = f"urn:pulumi:{self.recording.stack}::{self.recording.project}::{qualified}::{name}"
        return urn, qualified

    def _record(self, request: Any, mock_urn: str, inputs: dict[str, Any] | None, custom: bool) -> None:
        """Map the mock URN to the engine's and, unless it is the stack, record the resource."""
        self._note_thread_loop()
        engine_urn, qualified = self._engine_urn_for(request.parent, request.type, request.name)
        self._engine_urn[mock_urn] = engine_urn
        self._qualified_type[mock_urn] = qualified
        if inputs is None:
            return
        if engine_urn in self._by_engine_urn:
            # The engine refuses this too ("Duplicate resource URN"), but only half-way through.
            raise PlanError(
                f"two resources have the URN {engine_urn}; the Pulumi engine refuses a duplicate "
                "URN: give one of them another name",
                None,
                self.recording,
            )
        resource = RecordedResource(
            urn=engine_urn,
            type=request.type,
            name=request.name,
            parent=self._engine_urn.get(request.parent) if request.parent else None,
            dependencies=sorted({self._engine_urn.get(dep, dep) for dep in request.dependencies}),
            inputs=inputs,
            custom=custom,
            provider=self._provider_urn(getattr(request, "provider", "")),
        )
        self.recording.resources.append(resource)
        self._by_engine_urn[engine_urn] = resource

    def _provider_urn(self, reference: str) -> str | None:
        """A provider reference is ``<urn>::<id>``; its engine URN, or None for the default."""
        if not reference:
            return None
        urn = reference.rsplit("::", 1)[0]
        return self._engine_urn.get(urn, urn)

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        stack = request.type == STACK_TYPE
        inputs = None if stack else rpc.deserialize_properties(request.object, keep_unknowns=True)
        self._record(request, response.urn, inputs, bool(request.custom))
        return response

    def ReadResource(self, request: Any) -> Any:
        """A resource the program reads (``Resource.get``): recorded with ``{"read": <id>}``."""
        response = super().ReadResource(request)  # type: ignore[no-untyped-call]
        self._record(request, response.urn, {"read": request.id}, custom=False)
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        self._note_thread_loop()
        resource = self._by_engine_urn.get(self._engine_urn.get(request.urn, ""))
        if resource is not None:
            resource.outputs = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


class _WarningCollector(logging.Handler):
    def __init__(self, recording: Recording) -> None:
        super().__init__(logging.WARNING)
        self.recording = recording

    def emit(self, record: logging.LogRecord) -> None:
        self.recording.warnings.append(record.getMessage())


@contextlib.contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def record_program(
    project_dir: str | Path,
    stack: str,
    *,
    config: Mapping[str, str] | None = None,
    secret_keys: set[str] | frozenset[str] | None = None,
    stack_references: Mapping[str, Mapping[str, Any]] | None = None,
    preview: bool = True,
) -> Recording:
    """Run the project's program for ``stack`` and return everything it registered.

    As the Python language host does: the program is ``Pulumi.yaml``'s ``main`` (a file, or a
    folder holding ``__main__.py``; default the project folder), run with the project folder as
    the working directory and the program's folder first on ``sys.path`` (so it can import
    modules beside it). ``config``/``secret_keys`` replace what the stack files say (tests feed
    known secrets this way); ``stack_references`` answers StackReferences by stack name.
    ``preview``: run as ``pulumi preview`` does (``pulumi.runtime.is_dry_run()``), or as
    ``pulumi up`` does (False: the deploy gates refuse what a preview only warns about).
    """
    root = Path(project_dir).resolve()
    files = read_stack_files(root, stack)
    program = _program(root, files.main)

    def run() -> None:
        runpy.run_path(str(program), run_name="__main__")  # its globals are not a result

    with _working_directory(root), _program_path(program.parent):
        return record(
            run,
            project=files.project,
            stack=stack,
            config=dict(files.config if config is None else config),
            secret_keys=set(files.secret_keys if secret_keys is None else secret_keys),
            stack_references=stack_references,
            preview=preview,
        )


def record(
    program: Callable[[], Any],
    *,
    project: str,
    stack: str,
    config: Mapping[str, str] | None = None,
    secret_keys: set[str] | frozenset[str] | None = None,
    stack_references: Mapping[str, Mapping[str, Any]] | None = None,
    preview: bool = True,
) -> Recording:
    """Run ``program`` (registering resources, as a Pulumi program or a provider's Construct
    does) under the recording engine and return everything it registered. A coroutine
    ``program`` returns is awaited on the engine's loop."""
    recording = Recording(project=project, stack=stack)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_all_config(dict(config or {}), sorted(secret_keys or ()))
    mocks = _PlanMocks(stack_references)
    monitor = _RecordingMonitor(recording, mocks)
    logger = logging.getLogger(f"airlock.plan.{stack}")
    logger.propagate = False
    handler = _WarningCollector(recording)
    logger.addHandler(handler)
    pulumi.runtime.set_mocks(
        mocks, project=project, stack=stack, preview=preview, monitor=monitor, logger=logger
    )

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run() -> Any:
        return program()

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                run()
            except pulumi.RunError as error:
                raise PlanError(str(error), error.__cause__ or error, recording) from error
            except Exception as error:
                cause = _missing_reference(error)
                if cause is not None:
                    raise PlanError(str(cause), cause, recording) from error
                raise PlanError(f"{type(error).__name__}: {error}", error, recording) from error
            exports = getattr(pulumi_settings.get_root_resource(), "outputs", None)
            if exports:
                struct = loop.run_until_complete(rpc.serialize_properties(exports, {}))
                recording.outputs = rpc.deserialize_properties(struct, keep_unknowns=True)
    finally:
        logger.removeHandler(handler)
        pulumi_settings.ROOT.set(None)
        for thread_loop in monitor.thread_loops - {loop}:
            if not thread_loop.is_running() and not thread_loop.is_closed():
                thread_loop.close()
        loop.close()
        asyncio.set_event_loop(None)
    return recording


def _program(root: Path, main: str | None) -> Path:
    target = (root / main).resolve() if main else root
    program = target / "__main__.py" if target.is_dir() else target
    if not program.is_file():
        raise PlanError(
            f"{program} does not exist: Pulumi.yaml's main (or the project folder) must hold the "
            "program's __main__.py",
            None,
            Recording(project="", stack=""),
        )
    return program


@contextlib.contextmanager
def _program_path(directory: Path) -> Iterator[None]:
    """The program's folder first on sys.path; afterwards its own modules are forgotten, so a
    second program with a module of the same name (helpers.py) gets its own."""
    before = set(sys.modules)
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        sys.path.remove(str(directory))
        for name in set(sys.modules) - before:
            if _found_in(sys.modules[name], name, directory):
                del sys.modules[name]


def _found_in(module: Any, name: str, directory: Path) -> bool:
    """Whether ``module`` was imported from ``directory`` itself (``helpers.py``, a package
    folder beside the program), not from another path entry below it (an installed package)."""
    try:
        relative = Path(getattr(module, "__file__", None) or "").resolve().relative_to(directory)
    except ValueError:
        return False
    top = name.partition(".")[0]
    return relative.parts[0] in (top, f"{top}.py") if relative.parts else False


def _missing_reference(error: BaseException | None) -> MissingStackReference | None:
    """The MissingStackReference behind an error the SDK raised while reading a resource."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, MissingStackReference):
            return error
        if MissingStackReference.__name__ in str(error) or "--stack-reference" in str(error):
            text = str(error)
            start = text.find("the program reads StackReference")
            return MissingStackReference(text[start:] if start >= 0 else text)
        error = error.__cause__ or error.__context__
        seen += 1
    return None
