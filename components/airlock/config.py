"""StackConfig: everything under the ``airlock:`` config namespace, validated before any resource.

Pure: no pulumi import. ``__main__.py`` (and the offline plan) hand in the raw config map
(``{"airlock:images": "<json>", ...}``, as the Pulumi engine delivers it) and the set of keys
that are secrets. ``load_stack_config`` returns a validated :class:`StackConfig` with its lockfile
and image table, or raises :class:`ConfigError` listing every problem at once, each as
``airlock:<path>: <value>: <why>; <fix>``.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, cast

from pydantic import BaseModel, Field, ValidationError, create_model, field_validator, model_validator

from . import kube
from .catalog import CATALOG
from .consumers import CONSUMERS, Consumer, StackFacts
from .images.dockerconfig import registry_key, username_field
from .images.errors import PolicyError, PolicyErrors
from .images.lock import Lockfile, LockfileUnreadable
from .images.policy import ImagePolicy, canonical_reference
from .images.table import ImageRequest, ImageTable, build_table
from .model import StrictModel
from .secrets import SECRET_MASK, is_secret_key, leaves, redact, scrub, secret_paths

S = TypeVar("S", bound=StrictModel)

__all__ = [
    "CONFIG_NAMESPACE",
    "ConfigError",
    "ConfigProblem",
    "LoadedConfig",
    "StackConfig",
    "load_stack_config",
]

CONFIG_NAMESPACE = "airlock"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LOGICAL_NAME = re.compile(r"[a-z0-9][a-z0-9.-]*/[a-z0-9][a-z0-9.-]*")


class NamespaceSpec(StrictModel):
    """A namespace that runs pods pulling images through airlock."""

    create: bool = Field(True, description="Create it (false: it already exists, e.g. 'default').")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels set on a created namespace.")

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        return kube.labels(value)


class WorkloadImage(StrictModel):
    """An application image routed through the policy (its final reference is exported)."""

    image: str = Field(description="Source reference as upstream publishes it.")
    namespace: str = Field(description="Namespace whose pods pull it (gets the pull secret).")

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        return canonical_reference(value)

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        return kube.dns_label(value, "namespace")


class RegistryLogin(StrictModel):
    username: str = Field(
        min_length=1, description="Login name for the registry (no ':' and no control characters)."
    )
    password: str = Field(min_length=1, description="Store with 'pulumi config set --secret'.")

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        return username_field(value)


class StackConfig(StrictModel):
    """The ``airlock:`` configuration of one stack (camelCase keys in Pulumi.<stack>.yaml).

    The core keys are fields here; each consumer's section (``registry``, ``vcluster``…) is a
    field of the model :func:`load_stack_config` validates with, built from
    :data:`airlock.consumers.CONSUMERS`; read it with :meth:`section`."""

    environment: str = Field(description="Environment name (labels, names); defaults to the stack name.")
    namespaces: dict[str, NamespaceSpec] = Field(
        default_factory=lambda: {"airlock-system": NamespaceSpec()},
        description="Namespaces that run pods pulling through airlock.",
    )
    images: ImagePolicy = Field(default_factory=ImagePolicy, description="The image policy.")
    lock_file: str = Field("images.lock", description="Lockfile path, relative to the project.")
    registry_credentials: dict[str, RegistryLogin] = Field(
        default_factory=dict, description="Registry host[:port] -> login; must be a secret config value."
    )
    pull_secret_name: str = Field("airlock-pull", description="Name of the dockerconfigjson Secrets.")
    workload_images: dict[str, WorkloadImage] = Field(
        default_factory=dict, description="Application images by logical name '<group>/<role>'."
    )
    verify_report: str | None = Field(
        None,
        description="A report of 'airlock images verify --report'; "
        "images it lists as not mirrored are warned about (and stop an update).",
    )
    allow_unmirrored: bool = Field(
        False,
        description="Let 'pulumi up' deploy images the verify report lists as not mirrored "
        "(a pull-through cache fetches them on first use).",
    )

    @model_validator(mode="before")
    @classmethod
    def _empty_is_unset(cls, data: Any) -> Any:
        """Pulumi.yaml declares sections with an empty default ({} or ''), meaning 'not configured'."""
        if not isinstance(data, dict):
            return data
        optional = {"verify_report", "verifyReport", *(consumer.key for consumer in CONSUMERS)}
        return {key: None if key in optional and value in ({}, "") else value for key, value in data.items()}

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: str) -> str:
        return kube.dns_label(value, "environment")

    @field_validator("namespaces")
    @classmethod
    def _namespaces(cls, value: dict[str, NamespaceSpec]) -> dict[str, NamespaceSpec]:
        for name in value:
            kube.dns_label(name, f"namespace {name!r}")
        return value

    @field_validator("pull_secret_name")
    @classmethod
    def _secret_name(cls, value: str) -> str:
        return kube.dns_subdomain(value, "a Secret name")

    @field_validator("workload_images")
    @classmethod
    def _workload_names(cls, value: dict[str, WorkloadImage]) -> dict[str, WorkloadImage]:
        for name in value:
            if not _LOGICAL_NAME.fullmatch(name):
                raise ValueError(
                    f"{name!r} is not a logical image name; "
                    "use '<group>/<role>' in lowercase, like 'apps/web'"
                )
        return value

    @field_validator("registry_credentials")
    @classmethod
    def _credential_keys(cls, value: dict[str, RegistryLogin]) -> dict[str, RegistryLogin]:
        normalised: dict[str, RegistryLogin] = {}
        for key, login in value.items():
            try:
                normalised[registry_key(key)] = login
            except PolicyError as error:
                raise ValueError(f"{key!r}: {error.reason}; {error.fix}") from None
        return normalised

    # -- consumers -----------------------------------------------------------------------
    def section(self, consumer: Consumer[S]) -> S | None:
        """A consumer's settings, or None when the stack does not configure it."""
        return cast("S | None", getattr(self, consumer.key, None))

    def sections(self) -> list[tuple[Consumer[StrictModel], StrictModel]]:
        """The configured consumers with their settings, in composition order."""
        return [(consumer, settings) for consumer in CONSUMERS if (settings := self.section(consumer))]

    def facts(self, secret_keys: frozenset[str] = frozenset()) -> StackFacts:
        return StackFacts(
            namespaces=frozenset(self.namespaces),
            workload_sources={name: workload.image for name, workload in self.workload_images.items()},
            credential_hosts=frozenset(self.registry_credentials),
            secret_keys=secret_keys,
            sections={consumer.key: settings for consumer, settings in self.sections()},
        )

    def image_requests(self, policy: ImagePolicy | None = None) -> list[ImageRequest]:
        """Every image this stack's consumers need: its workload images, then each room's.
        ``policy``: the completed policy when the caller has it already."""
        requests = [
            ImageRequest(name=name, source=workload.image, namespace=workload.namespace)
            for name, workload in sorted(self.workload_images.items())
        ]
        facts = replace(self.facts(), policy=policy or self.effective_policy())
        for consumer, settings in self.sections():
            requests += consumer.requests(settings, facts)
        return requests

    def all_namespaces(self) -> dict[str, NamespaceSpec]:
        """Declared namespaces plus those consumers create (tenant host namespaces)."""
        namespaces = dict(self.namespaces)
        for consumer, settings in self.sections():
            for namespace in consumer.namespaces(settings):
                namespaces.setdefault(namespace, NamespaceSpec())
        return namespaces

    def effective_policy(self) -> ImagePolicy:
        """The stack's policy completed by its consumers (the registry's rules and trust)."""
        policy = self.images
        for consumer, settings in self.sections():
            policy = consumer.complete_policy(settings, policy)
        return policy

    def credential_registries(self) -> set[str]:
        """The one rule for credentials: registryCredentials plus the hosts consumers log in to."""
        hosts = set(self.registry_credentials)
        for consumer, settings in self.sections():
            hosts |= consumer.login_hosts(settings)
        return hosts

    def pull_through_prefixes(self) -> list[str]:
        """Locations that fetch images on demand and refuse pushes (the mirror skips them)."""
        return sorted(
            {p for consumer, settings in self.sections() for p in consumer.pull_through_prefixes(settings)}
        )


def _stack_model() -> type[StackConfig]:
    sections: dict[str, Any] = {
        consumer.key: (consumer.settings | None, Field(None, description=consumer.description))
        for consumer in CONSUMERS
    }
    model: type[StackConfig] = create_model("StackConfig", __base__=StackConfig, **sections)
    return model


_MODEL = _stack_model()


@dataclass(frozen=True)
class ConfigProblem:
    path: str
    value: object
    reason: str
    fix: str = ""

    def __str__(self) -> str:
        return self.render()

    def render(self, known: Iterable[str] = ()) -> str:
        """The problem as one line; ``known`` secret strings are scrubbed from everything but the
        path (a path is made of key names and hosts)."""
        last = self.path.rstrip("]").rsplit(".", 1)[-1].rsplit("[", 1)[-1].strip('"')
        text = f"{_show(redact(self.value, last))}: {self.reason}"
        return f"{self.path}: {scrub(f'{text}; {self.fix}' if self.fix else text, known)}"

    @property
    def key(self) -> str:
        """The config key the path is under (``airlock:registry`` for ``airlock:registry.tls``)."""
        return re.split(r"[.\[]", self.path, maxsplit=1)[0]


class ConfigError(ValueError):
    """Every problem of a stack configuration; nothing may be registered when this is raised."""

    def __init__(
        self, stack: str, problems: list[ConfigProblem], secrets: Mapping[str, Iterable[str]] | None = None
    ) -> None:
        """``secrets``: config key -> the values under it, for the keys that are secret config.
        A problem under such a key never quotes one of them (in its value, reason or fix)."""
        self.stack = stack
        self.problems = problems
        hidden = {key: list(values) for key, values in (secrets or {}).items()}
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        self.rendered = [problem.render(hidden.get(problem.key, ())) for problem in problems]
        """Each problem as one line, ``<path>: …``, with every secret scrubbed."""
        lines = [f"stack {stack!r}: {count} in the airlock configuration; nothing was deployed:"]
        lines += [f"  - {line}" for line in self.rendered]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class LoadedConfig:
    stack: str
    config: StackConfig
    lock: Lockfile
    table: ImageTable
    secret_keys: frozenset[str]
    not_mirrored: frozenset[str] = frozenset()
    """Final references a supplied verify report found missing from their registry."""


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "...'"


def _render_path(location: Iterable[object]) -> str:
    parts = list(location)
    text = f"{CONFIG_NAMESPACE}:{parts[0]}" if parts else CONFIG_NAMESPACE
    for part in parts[1:]:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, str) and _IDENTIFIER.fullmatch(part):
            text += f".{part}"
        else:
            text += f'["{part}"]'
    return text


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return options[0] if len(options) == 1 else annotation
    return annotation


def _allowed_keys(location: tuple[object, ...]) -> list[str]:
    """The keys a model accepts at ``location`` (for 'did you mean' fixes)."""
    annotation: Any = _MODEL
    for part in location:
        annotation = _unwrap(annotation)
        origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {(info.alias or name): info for name, info in annotation.model_fields.items()}
            fields.update(annotation.model_fields)
            if part not in fields:
                return []
            annotation = fields[str(part)].annotation
        elif origin is dict:
            annotation = typing.get_args(annotation)[1]
        elif origin in (list, tuple):
            annotation = typing.get_args(annotation)[0]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return sorted(info.alias or name for name, info in annotation.model_fields.items())
    return []


def _schema_words() -> frozenset[str]:
    """Every ``Literal`` value in the stack model (``external``, ``flatten``…): never secrets."""
    words: set[str] = set()
    seen: set[type] = set()

    def visit(annotation: Any) -> None:
        origin = typing.get_origin(annotation)
        if origin is Literal:
            words.update(str(arg) for arg in typing.get_args(annotation))
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel) and annotation not in seen:
            seen.add(annotation)
            for info in annotation.model_fields.values():
                visit(info.annotation)
        for arg in typing.get_args(annotation):
            visit(arg)

    visit(_MODEL)
    return frozenset(words)


def _problem_from_pydantic(error: Any, secret_top_keys: set[str]) -> ConfigProblem:
    location = tuple(error["loc"])
    path = _render_path(location)
    given = error.get("input")
    value = SECRET_MASK if location and location[0] in secret_top_keys else given
    kind = error["type"]
    message = str(error["msg"])
    if kind == "extra_forbidden":
        allowed = _allowed_keys(location[:-1])
        return ConfigProblem(
            path, location[-1], "unknown key", f"remove it or fix its spelling; allowed: {', '.join(allowed)}"
        )
    if kind == "missing":
        return ConfigProblem(path, None, "is required", "add it")
    if kind == "literal_error" and isinstance(value, bool):
        expected = error.get("ctx", {}).get("expected", "")
        return ConfigProblem(
            path,
            value,
            f"is a boolean, but {expected} is expected",
            'quote the word in the stack file (e.g. pin: "off"); YAML reads an unquoted '
            "true/false as a boolean",
        )
    if kind in ("tuple_type", "list_type") and isinstance(value, dict):
        return ConfigProblem(path, value, "is a mapping, but a list is expected", "write it as a YAML list")
    if kind in ("tuple_type", "list_type"):
        return ConfigProblem(path, value, "must be a list", "write it as a YAML list ('- item' lines)")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return ConfigProblem(
            path, value, "must be a mapping", "write it as a YAML mapping ('key: value' lines)"
        )
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    reason, _, fix = message.partition("; ")
    reason = reason.removeprefix(f"{given!r}: ")
    if any(is_secret_key(part) for part in location):
        value = SECRET_MASK
    return ConfigProblem(path, value, reason, fix)


def _raw_to_data(raw: Mapping[str, str], stack: str, problems: list[ConfigProblem]) -> dict[str, Any]:
    by_alias = {(info.alias or name): info for name, info in _MODEL.model_fields.items()}
    data: dict[str, Any] = {"environment": stack}
    prefix = f"{CONFIG_NAMESPACE}:"
    for full_key, text in sorted(raw.items()):
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix) :]
        if key not in by_alias:
            problems.append(
                ConfigProblem(
                    full_key,
                    key,
                    "unknown config key",
                    f"remove it or fix its spelling; known keys: {', '.join(sorted(by_alias))}",
                )
            )
            continue
        expects_text = _unwrap(by_alias[key].annotation) is str
        if expects_text:
            data[key] = text
            continue
        try:
            data[key] = json.loads(text)
        except json.JSONDecodeError as error:
            problems.append(
                ConfigProblem(
                    full_key,
                    text,
                    f"is not a structured value ({error.msg})",
                    "write it as a YAML mapping or list in the stack file",
                )
            )
    return data


def _cross_checks(config: StackConfig, secret_keys: frozenset[str]) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    credentials_key = f"{CONFIG_NAMESPACE}:registryCredentials"
    if config.registry_credentials and credentials_key not in secret_keys:
        problems.append(
            ConfigProblem(
                credentials_key,
                SECRET_MASK,
                "holds passwords but is not a secret config value",
                f"pulumi config set --secret --path '{credentials_key}[\"<host>\"].password' <password>",
            )
        )
    problems += _section_checks(config, secret_keys)
    for name, workload in sorted(config.workload_images.items()):
        path = _render_path(["workloadImages", name])
        if name in CATALOG:
            problems.append(
                ConfigProblem(path, name, "is a catalog image airlock deploys itself", "pick another name")
            )
        if workload.namespace not in config.namespaces:
            problems.append(
                ConfigProblem(
                    f"{path}.namespace",
                    workload.namespace,
                    "is not declared under airlock:namespaces",
                    f"add '{workload.namespace}: {{}}' (or '{{create: false}}' if it exists) "
                    "to airlock:namespaces",
                )
            )
    return problems


def _section_path(consumer: Consumer[StrictModel], location: tuple[str | int, ...]) -> str:
    """A consumer problem's config path: under its section, or ``@<key>`` for another key."""
    if location and isinstance(location[0], str) and location[0].startswith("@"):
        return _render_path([location[0][1:], *location[1:]])
    return _render_path([consumer.key, *location])


def _section_checks(config: StackConfig, secret_keys: frozenset[str]) -> list[ConfigProblem]:
    """Each configured section: password-shaped values only from secret config (one rule for
    every section: typed passwords, TLS keys and free-form chart values alike), then the
    consumer's own checks across keys."""
    problems: list[ConfigProblem] = []
    facts = config.facts(secret_keys)
    for consumer, settings in config.sections():
        key = f"{CONFIG_NAMESPACE}:{consumer.key}"
        if key not in secret_keys:
            for location in secret_paths(settings.model_dump(by_alias=True)):
                path = _render_path([consumer.key, *location])
                problems.append(
                    ConfigProblem(
                        path,
                        SECRET_MASK,
                        f"holds a password or key but {key} is not a secret config value",
                        f"pulumi config set --secret --path '{path}' <value> (values from secret "
                        "config stay secret in state and previews)",
                    )
                )
        problems += [
            ConfigProblem(
                _section_path(consumer, problem.path),
                SECRET_MASK if key in secret_keys else problem.value,
                problem.reason,
                problem.fix,
            )
            for problem in consumer.problems(settings, facts)
        ]
    return problems


def _table_checks(config: StackConfig, table: ImageTable, facts: StackFacts) -> list[ConfigProblem]:
    return [
        ConfigProblem(_section_path(consumer, problem.path), problem.value, problem.reason, problem.fix)
        for consumer, settings in config.sections()
        for problem in consumer.table_problems(settings, table, facts)
    ]


def _policy_problem(error: PolicyError, lock_file: str, workloads: Iterable[str] = ()) -> ConfigProblem:
    """Policy paths name the lockfile (``images.lock…``), a config field (``images.…``) or an
    image (``image <name>``), which for a workload image is its config entry."""
    path = error.path
    image_name = path.removeprefix("image ")
    if path.startswith("image ") and image_name in set(workloads):
        path = f'{CONFIG_NAMESPACE}:workloadImages["{image_name}"].image'
    elif path.startswith("images.lock"):
        path = lock_file + path[len("images.lock") :]
    elif path.startswith("images"):
        path = f"{CONFIG_NAMESPACE}:{path}"
    return ConfigProblem(path, error.value, error.reason, error.fix)


def load_stack_config(
    raw: Mapping[str, str],
    secret_keys: Iterable[str],
    *,
    stack: str,
    project_dir: str | Path = ".",
    ignore_lock: bool = False,
    lock: Lockfile | None = None,
) -> LoadedConfig:
    """Validate the raw config of ``stack``; raise :class:`ConfigError` with every problem.

    ``ignore_lock`` resolves without pinning (``pin: off``, no lockfile): what ``airlock images``
    uses to learn which source images a stack needs before the lock exists. ``lock``: the
    lockfile's content, given instead of read from ``lockFile`` (the component package).
    """
    secrets = frozenset(secret_keys)
    problems: list[ConfigProblem] = []
    data = _raw_to_data(raw, stack, problems)
    secret_top = {key.split(":", 1)[1] for key in secrets if key.startswith(f"{CONFIG_NAMESPACE}:")}
    # Every value under a secret key (but the schema's own words: modes, layouts…) stays out of
    # the messages about that key, wherever a check would quote it.
    words = _schema_words()
    hidden = {
        f"{CONFIG_NAMESPACE}:{key}": [text for text in leaves(data.get(key)) if text not in words]
        for key in secret_top
    }
    try:
        config = _MODEL.model_validate(data)
    except ValidationError as error:
        problems += [_problem_from_pydantic(item, secret_top) for item in error.errors()]
        raise ConfigError(stack, problems, hidden) from None
    problems += _cross_checks(config, secrets)

    given_lock, lock = lock, Lockfile()
    lock_path = Path(project_dir) / config.lock_file
    try:
        lock = given_lock if given_lock is not None else Lockfile.load(lock_path)
    except LockfileUnreadable as error:
        problems.append(
            ConfigProblem(f"{CONFIG_NAMESPACE}:lockFile", config.lock_file, error.reason, error.fix)
        )
    except PolicyErrors as error:
        problems += [_policy_problem(item, config.lock_file) for item in error.problems]
    except PolicyError as error:
        problems.append(_policy_problem(error, config.lock_file))
    not_mirrored: frozenset[str] = frozenset()
    if config.verify_report:
        not_mirrored, problem = _read_verify_report(Path(project_dir) / config.verify_report, stack)
        problems += [problem] if problem else []
    if problems:
        raise ConfigError(stack, problems, hidden)

    policy = config.effective_policy()
    if ignore_lock:
        policy = policy.model_copy(update={"pin": "off"})
    try:
        table = build_table(
            config.image_requests(policy),  # pin does not change what is requested
            policy,
            None if ignore_lock else lock,
            credential_registries=config.credential_registries(),
            pull_secret_name=config.pull_secret_name,
            known_names=CATALOG,
        )
    except PolicyErrors as error:
        problems = [
            _policy_problem(item, config.lock_file, config.workload_images) for item in error.problems
        ]
        raise ConfigError(stack, problems, hidden) from None
    facts = replace(config.facts(secrets), policy=policy)
    problems = _table_checks(config, table, facts) if not ignore_lock else []
    if problems:
        raise ConfigError(stack, problems, hidden)
    return LoadedConfig(
        stack=stack, config=config, lock=lock, table=table, secret_keys=secrets, not_mirrored=not_mirrored
    )


def _read_verify_report(path: Path, stack: str) -> tuple[frozenset[str], ConfigProblem | None]:
    """The not-mirrored images of a verify report; the plan stays offline (it only reads a file)."""
    where = f"{CONFIG_NAMESPACE}:verifyReport"
    fix = f"run 'airlock images verify --stack {stack} --report {path.name}' or unset it"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return frozenset(), ConfigProblem(where, str(path), "does not exist", fix)
    except (OSError, json.JSONDecodeError) as error:
        return frozenset(), ConfigProblem(where, str(path), f"is not a verify report ({error})", fix)
    if not isinstance(data, dict) or not isinstance(data.get("not_mirrored"), list):
        return frozenset(), ConfigProblem(
            where, str(path), "is not a verify report (no 'not_mirrored' list)", fix
        )
    if data.get("stack") != stack:
        return frozenset(), ConfigProblem(
            where, str(path), f"was written for stack {data.get('stack')!r}", fix
        )
    return frozenset(str(item) for item in data["not_mirrored"]), None
