"""Errors of the image core. Every message says where, what, why and how to fix it."""

from __future__ import annotations

__all__ = ["PolicyError", "PolicyErrors", "UnpinnedImageError"]


class PolicyError(ValueError):
    """A policy, override or lockfile problem, tied to the field path that causes it.

    ``str(error)`` reads ``<path>: <value>: <why>; <fix>``; the parts stay available as
    attributes so that callers (the stack config loader, the CLI) can re-prefix the path.
    """

    def __init__(self, path: str, value: object, reason: str, fix: str = "") -> None:
        self.path = path
        self.value = value
        self.reason = reason
        self.fix = fix
        text = f"{path}: {value!r}: {reason}" if path else f"{value!r}: {reason}"
        if fix:
            text += f"; {fix}"
        super().__init__(text)


class UnpinnedImageError(PolicyError):
    """``pin: required`` and no digest for an image: the lockfile needs an entry."""


class PolicyErrors(PolicyError):
    """Several problems found at once; ``problems`` keeps each, in the order found."""

    def __init__(self, problems: list[PolicyError]) -> None:
        self.problems = problems
        first = problems[0]
        super().__init__(first.path, first.value, first.reason, first.fix)
        self.args = ("\n".join(str(problem) for problem in problems),)

    def __str__(self) -> str:
        return str(self.args[0])
