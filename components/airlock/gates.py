"""Deploy gates (pure): what ``pulumi up`` refuses although ``pulumi preview`` only warns.

A preview shows a stack as it would be; an update makes it so. Three things a plan can show
with warnings must not reach a cluster:

- an **offline placeholder digest** (``airlock images placeholders``) lets a ``pin: required``
  stack be planned without registry access, but no registry serves it: every pod by it would
  fail to pull;
- an image a **verify report** lists as not mirrored would not be in its registry when the pod
  starts (unless ``airlock:allowUnmirrored``, for pull-through caches that fetch on first use);
- **two objects with one identity** are refused at every run already (object claims), before
  anything registers.

The program checks these when ``pulumi.runtime.is_dry_run()`` is False (``airlock.stack``);
``airlock plan --as-update`` runs the same path offline.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import LoadedConfig
from .images.lock import placeholder_entry
from .images.reference import parse

__all__ = ["DeployGateError", "GateProblem", "deploy_problems"]


@dataclass(frozen=True)
class GateProblem:
    image: str
    """The logical image name."""
    reason: str
    fix: str

    def __str__(self) -> str:
        return f"{self.image}: {self.reason}; {self.fix}"


class DeployGateError(ValueError):
    def __init__(self, stack: str, problems: list[GateProblem]) -> None:
        self.stack = stack
        self.problems = problems
        count = f"{len(problems)} image{'s' if len(problems) != 1 else ''}"
        lines = [
            f"stack {stack!r}: this update would deploy {count} that cannot be pulled (a preview only "
            "warns about them); nothing was deployed:"
        ]
        lines += [f"  - {problem}" for problem in problems]
        super().__init__("\n".join(lines))


def deploy_problems(loaded: LoadedConfig) -> list[GateProblem]:
    """Every image an update must not deploy, each with the command that fixes it."""
    stack = loaded.stack
    problems: list[GateProblem] = []
    reported = loaded.not_mirrored if not loaded.config.allow_unmirrored else frozenset()
    missing = {str(parse(reference).without_digest()) for reference in reported}
    seen: set[str] = set()
    for entry in loaded.table.entries:
        name, image = entry.request.name, entry.resolved
        if name in seen:
            continue
        seen.add(name)
        if image.digest_from == "placeholder" or image.final.digest == placeholder_entry(image.source).digest:
            where = (
                loaded.config.lock_file
                if image.digest_from == "placeholder"
                else "an images.overrides digest"
            )
            problems.append(
                GateProblem(
                    name,
                    f"{where} holds an offline placeholder digest for {image.source.without_digest()}, "
                    "which no registry serves",
                    f"run 'airlock images lock --stack {stack}' with registry access and commit "
                    f"{loaded.config.lock_file} (and drop a placeholder from the override)",
                )
            )
        elif str(image.final.without_digest()) in missing:
            problems.append(
                GateProblem(
                    name,
                    f"{image.final} is not in its registry (verify report {loaded.config.verify_report})",
                    f"run 'airlock images mirror --stack {stack}', then 'airlock images verify --stack "
                    f"{stack} --report {loaded.config.verify_report}' (or set airlock:allowUnmirrored: true "
                    "when a pull-through cache serves it)",
                )
            )
    return problems
