"""Run the real __main__.py under the recording engine, per stack, with config overrides."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airlock.plan.engine import Recording, record_program
from airlock.plan.stackfiles import read_stack_files

PROJECT_DIR = Path(__file__).resolve().parents[2]
STACKS = ("dev", "staging", "prod")


def stack_values(stack: str) -> tuple[dict[str, Any], set[str]]:
    """A stack's merged config as Python values (JSON decoded) and its secret keys."""
    files = read_stack_files(PROJECT_DIR, stack)
    values: dict[str, Any] = {}
    for key, text in files.config.items():
        try:
            values[key] = json.loads(text)
        except json.JSONDecodeError:
            values[key] = text
    return values, set(files.secret_keys)


def encode(values: dict[str, Any]) -> dict[str, str]:
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in values.items()}


def run_stack(
    stack: str, values: dict[str, Any] | None = None, secret_keys: set[str] | None = None
) -> Recording:
    if values is None:
        return record_program(PROJECT_DIR, stack)
    return record_program(PROJECT_DIR, stack, config=encode(values), secret_keys=secret_keys or set())


@pytest.fixture(scope="session")
def recordings() -> dict[str, Recording]:
    return {stack: record_program(PROJECT_DIR, stack) for stack in STACKS}


@dataclass
class PlanRun:
    """``airlock plan`` run in-process on injected config, with what the engine recorded."""

    exit_code: int
    stdout: str
    stderr: str
    recording: Recording | None
    """What reached the engine (also when the program failed); None if it never ran."""


def plan_with_cli(
    monkeypatch: pytest.MonkeyPatch,
    stack: str,
    values: dict[str, Any],
    secret_keys: set[str],
    *cli_args: str,
) -> PlanRun:
    """The real CLI path (``airlock plan --stack S``), with the stack's config replaced by
    ``values`` as the engine passes it: decrypted, with the secret keys marked."""
    from airlock.plan import engine
    from tests.support.cli import run_cli

    captured: dict[str, Recording] = {}
    real = engine.record_program

    def record(project_dir: Any, stack_name: str, **options: Any) -> Recording:
        try:
            recording = real(project_dir, stack_name, config=encode(values), secret_keys=secret_keys)
        except engine.PlanError as error:
            captured["recording"] = error.recording
            raise
        captured["recording"] = recording
        return recording

    monkeypatch.setattr(engine, "record_program", record)
    result = run_cli("plan", "--stack", stack, "--project-dir", str(PROJECT_DIR), *cli_args)
    monkeypatch.setattr(engine, "record_program", real)
    return PlanRun(result.exit_code, result.stdout, result.stderr, captured.get("recording"))
