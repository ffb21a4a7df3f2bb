"""``airlock nodes render`` (pure): a stack's node plan as the files one runtime reads.

Runtimes: ``containerd`` (2.x) and ``containerd1`` (1.6/1.7) get the hosts.toml tree under
``certs.d/`` and the CRI snippet ``containerd-config.toml``; ``cri-o`` gets ``registries.conf``
(v2) and ``certs.d/<host:port>/ca.crt`` (for ``/etc/containers``); ``kind`` gets the tree, the
cluster config ``kind-config.yaml`` that mounts it on every node, and the KEP-1755 ConfigMap
``local-registry-hosting.yaml`` when the stack runs kind's local registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from ..config import StackConfig
from ..images.policy import check_pem_bundle
from ..images.table import ImageTable
from ..registry.settings import RegistrySettings
from ..yaml_io import dump_document
from .consumer import bootstrap_problems, exclude_problems, problem_at, stack_node_plan
from .containerd import ContainerdVersion, config_snippet, hosts_tree
from .kind import KIND_NETWORK, kind_config, local_registry_configmap
from .plan import NodePlan
from .registries_conf import certs_files, registries_conf
from .settings import NodesSettings

__all__ = ["RUNTIMES", "NodeRenderError", "Rendered", "Runtime", "render_files"]

Runtime = Literal["containerd", "containerd1", "cri-o", "kind"]
RUNTIMES: tuple[str, ...] = get_args(Runtime)


@dataclass(frozen=True)
class RenderProblem:
    path: str
    value: object
    reason: str
    fix: str

    def __str__(self) -> str:
        shown = "" if self.value is None else f"{self.value!r} "
        return f"{self.path}: {shown}{self.reason}; {self.fix}"


class NodeRenderError(ValueError):
    def __init__(self, problems: list[RenderProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def _path(parts: tuple[str | int, ...]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _registry_cas(
    registry: RegistrySettings | None, plan: NodePlan, registry_ca: str | None, stack: str
) -> tuple[dict[str, str], list[RenderProblem]]:
    """The platform registry's CA for the hosts it serves: provided in the stack, or passed in."""
    hosts = sorted(plan.platform_ca_hosts)
    if not hosts or registry is None:
        return {}, []
    ca = registry_ca or (registry.tls.ca if registry.tls.mode == "provided" else None)
    if ca is None:
        return {}, [
            RenderProblem(
                "--registry-ca",
                None,
                f"is needed: the in-cluster registry's CA is generated at deploy (airlock:registry.tls"
                f".mode generated) and nodes must trust it for {', '.join(hosts)}",
                f"pulumi stack output registry --stack {stack} --json | jq -r .caBundle > registry-ca.pem; "
                "then pass --registry-ca registry-ca.pem",
            )
        ]
    return {host: ca for host in hosts}, []


@dataclass(frozen=True)
class Rendered:
    files: dict[str, str]
    """Path relative to the output directory -> text."""
    warnings: list[str]


def render_files(
    config: StackConfig,
    runtime: Runtime,
    out_dir: Path,
    *,
    stack: str,
    registry_ca: str | None = None,
    table: ImageTable | None = None,
) -> Rendered:
    """Every file for ``runtime``, by path relative to ``out_dir`` (absolute ``out_dir``: the
    kind config mounts ``<out_dir>/certs.d``), and what the files cannot do (a registry that
    needs a login the files do not carry). ``table``: the stack's resolved images, for the
    bootstrap check. Raises NodeRenderError listing every problem."""
    if runtime not in RUNTIMES:
        raise NodeRenderError(
            [
                RenderProblem(
                    "--runtime",
                    runtime,
                    "is not a runtime airlock renders for",
                    f"use one of: {', '.join(RUNTIMES)}",
                )
            ]
        )
    if registry_ca is not None:
        try:
            check_pem_bundle(registry_ca)
        except ValueError as error:
            reason, _, fix = str(error).removeprefix("ca_bundle ").partition("; ")
            raise NodeRenderError([RenderProblem("--registry-ca", "<file>", reason, fix)]) from None
    settings = getattr(config, "nodes", None) or NodesSettings()
    registry = getattr(config, "registry", None)
    registry = registry if isinstance(registry, RegistrySettings) else None
    policy = config.effective_policy()
    plan = stack_node_plan(settings, policy, registry, config.registry_credentials)
    found = [*plan.problems, *(bootstrap_problems(plan, table) if table is not None else [])]
    if runtime != "cri-o":
        found += plan.containerd_problems
    problems = [
        RenderProblem(_path(("nodes", *p.path)), p.value, p.reason, p.fix)
        for p in exclude_problems(settings, policy)
    ]
    for node_problem in found:
        problem = problem_at(node_problem, registry, policy)
        key, *rest = problem.path
        path = (str(key).removeprefix("@"), *rest)
        problems.append(RenderProblem(_path(path), problem.value, problem.reason, problem.fix))
    if (
        runtime == "kind"
        and registry is not None
        and registry.mode == "docker"
        and registry.network != KIND_NETWORK
    ):
        problems.append(
            RenderProblem(
                "registry.network",
                registry.network,
                f"is not kind's network: kind's nodes reach {registry.endpoint_address} as "
                f"{registry.node_addresses()[registry.endpoint_address]} on the "
                f"'{KIND_NETWORK}' Docker network",
                f"set airlock:registry.network: {KIND_NETWORK}",
            )
        )
    cas = {host: pem for host, trust in policy.registries.items() if (pem := trust.ca_bundle)}
    platform, missing = _registry_cas(registry, plan, registry_ca, stack)
    cas.update(platform)
    problems += missing
    if problems:
        raise NodeRenderError(problems)
    warnings = [
        f"{host} needs a login, which these files do not carry (it is secret, or generated at deploy): "
        "nodes pulling upstream names through it get 401 (the kubelet hands containerd only the "
        "login of the image's own registry). NodeRegistryConfig writes the Authorization header "
        "from the stack's login; elsewhere allow anonymous pulls there, or add "
        f'[host."https://{host}".header] Authorization = "Basic <base64 user:password>" yourself'
        for host in sorted(plan.login_hosts)
    ]

    if runtime == "cri-o":
        files = {"registries.conf": registries_conf(plan)}
        files.update({f"certs.d/{path}": text for path, text in certs_files(plan, cas).items()})
        return Rendered(files, warnings)
    files = {f"certs.d/{path}": text for path, text in hosts_tree(plan, cas).items()}
    if runtime in ("containerd", "containerd1"):
        version: ContainerdVersion = "1" if runtime == "containerd1" else "2"
        files["containerd-config.toml"] = config_snippet(version, settings.daemon_set.certs_dir)
        return Rendered(files, warnings)
    header = (
        "# Generated by airlock (airlock nodes render --runtime kind); edits are overwritten.\n"
        f"# kind create cluster --config {out_dir / 'kind-config.yaml'}\n"
    )
    files["kind-config.yaml"] = header + dump_document(kind_config(settings.kind, str(out_dir / "certs.d")))
    if registry is not None and registry.mode == "docker":
        ((host, address),) = registry.node_addresses().items()
        files["local-registry-hosting.yaml"] = (
            "# KEP-1755; the dev stack creates it too (airlock:registry mode docker).\n"
            + dump_document(local_registry_configmap(host, address))
        )
    return Rendered(files, warnings)
