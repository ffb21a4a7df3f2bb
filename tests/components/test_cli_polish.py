"""The command line's rough edges, each with its exact exit code: an unknown stack lists the
stacks there are, a broken lockfile names its line, images list rows are the plan's rows, and
--version answers.

Guards the first minutes of a new user: ``--stack nope`` saying only that a file is missing, a
lockfile error without a line, two spellings of one image row.
"""

from __future__ import annotations

import json
import shutil

from airlock.plan.document import build_document
from tests.support.cli import run_cli

from .conftest import PROJECT_DIR, run_stack


def test_an_unknown_stack_lists_the_stacks_there_are():
    result = run_cli("plan", "--stack", "nope")
    assert result.exit_code == 2
    assert "stack 'nope' has no Pulumi.nope.yaml" in result.stderr
    assert "the stacks here: dev, prod, staging" in result.stderr
    listing = run_cli("images", "list", "--stack", "nope")
    assert listing.exit_code == 2 and "the stacks here: dev, prod, staging" in listing.stderr


def test_a_broken_lockfile_is_named_with_its_line(tmp_path):
    for name in ("Pulumi.yaml", "__main__.py", "Pulumi.dev.yaml"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    (tmp_path / "images.lock").write_text("version: 1\nimages: [\n")
    result = run_cli("images", "list", "--stack", "dev", "--project-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "airlock:lockFile: 'images.lock': is not a YAML lockfile (line 3:" in result.stderr
    assert "Traceback" not in result.stderr


def test_images_list_rows_are_the_plans_rows():
    listed = run_cli("images", "list", "--stack", "staging", "--format", "json")
    assert listed.exit_code == 0
    rows = sorted(json.loads(listed.stdout), key=lambda r: (r["consumer"], r["role"], r["namespace"] or ""))
    assert rows == build_document(run_stack("staging"))["images"]


def test_version():
    result = run_cli("--version")
    assert result.exit_code == 0 and result.stdout.startswith("airlock ")
