"""Stack files the Pulumi CLI would refuse, or that crashed the plan: exit 2, the file and line
named, and the program never run (so nothing can be registered).

Guards: 'config:' as a list or string (AttributeError), a Latin-1 file (UnicodeDecodeError),
a self-referencing anchor (RecursionError), a 757-byte alias bomb (76 s, then MemoryError),
a repeated key silently dropping 'pin: required', and 'pin: off' read as False.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from airlock.plan import engine
from tests.support.cli import run_cli
from tests.unit.test_yaml_io import BILLION_LAUGHS

PROJECT_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the project whose dev stack file each test writes; records program runs."""
    for name in ("Pulumi.yaml", "__main__.py", "images.lock"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    runs: list[str] = []
    real = engine.runpy.run_path

    def run_path(path, *args, **kwargs):
        runs.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(engine.runpy, "run_path", run_path)
    return tmp_path, runs


def plan(directory: Path, text: str | bytes):
    target = directory / "Pulumi.dev.yaml"
    if isinstance(text, bytes):
        target.write_bytes(text)
    else:
        target.write_text(text)
    return run_cli("plan", "--stack", "dev", "--project-dir", str(directory))


@pytest.mark.parametrize(
    ("case", "text", "message"),
    [
        (
            "config-is-a-list",
            "config:\n  - airlock:environment\n",
            "'config:' must be a mapping of config keys",
        ),
        (
            "config-is-a-string",
            "config: airlock:environment=dev\n",
            "'config:' must be a mapping of config keys",
        ),
        ("config-key-not-a-string", "config:\n  1: x\n", "config key 1 must be a string; quote it"),
        ("top-level-is-a-list", "- config\n", "the top level must be a mapping (found a list)"),
        (
            "latin-1",
            "config:\n  airlock:environment: caf\xe9\n".encode("latin-1"),
            "is not UTF-8 text (byte 0xe9 at offset 34); save it as UTF-8",
        ),
        (
            "self-referencing-anchor",
            "config:\n  airlock:images: &x {mirrors: [*x]}\n",
            ":2:19: an alias refers to a node that contains it",
        ),
        ("alias-bomb", BILLION_LAUGHS, "aliases expand this document past 1,000,000 nodes"),
        (
            "repeated-key",
            "config:\n  airlock:images:\n    pin: required\n  airlock:images:\n    pin: preferred\n",
            ":4:3: key 'airlock:images' is already defined at line 2",
        ),
        ("invalid-yaml", "config:\n  airlock:images: {pin: [\n", "Pulumi.dev.yaml:3:1:"),
    ],
    ids=lambda item: item if isinstance(item, str) and item.islower() and "\n" not in item else "",
)
def test_a_broken_stack_file_exits_2_naming_the_file_and_runs_nothing(project, case, text, message):
    directory, runs = project
    result = plan(directory, text)
    assert result.exit_code == 2, result.output
    assert f"{directory / 'Pulumi.dev.yaml'}" in result.stderr
    assert message in result.stderr, result.stderr
    assert runs == []  # the program never ran: nothing registered


def test_pin_off_unquoted_is_the_string_off_as_the_pulumi_cli_reads_it(project):
    directory, runs = project
    stack = (PROJECT_DIR / "Pulumi.dev.yaml").read_text().replace('pin: "off"', "pin: off")
    assert "pin: off\n" in stack
    result = plan(directory, stack)
    assert result.exit_code == 0, result.output
    assert len(runs) == 1


def test_a_lockfile_in_a_missing_folder_is_an_error_not_a_traceback(project):
    directory, _ = project
    stack = (PROJECT_DIR / "Pulumi.dev.yaml").read_text() + "  airlock:lockFile: no-such-folder/images.lock\n"
    (directory / "Pulumi.dev.yaml").write_text(stack)
    result = run_cli("images", "placeholders", "--stack", "dev", "--project-dir", str(directory))
    assert result.exit_code == 2, result.output
    assert "no-such-folder/images.lock" in result.stderr and "cannot be written" in result.stderr
