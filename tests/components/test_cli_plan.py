"""The `airlock plan` command: text and JSON output, errors with exit code 2, and plan diff."""

from __future__ import annotations

import copy
import json

from airlock.plan.diff import diff_plans
from tests.support.cli import run_cli

from .conftest import PROJECT_DIR


def plan_json(tmp_path, stack: str) -> dict:
    out = tmp_path / f"{stack}.json"
    result = run_cli(
        "plan", "--stack", stack, "--format", "json", "--out", str(out), "--project-dir", str(PROJECT_DIR)
    )
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())


def test_plan_text_shows_tree_and_image_table():
    result = run_cli("plan", "--stack", "prod", "--project-dir", str(PROJECT_DIR))
    assert result.exit_code == 0, result.output
    assert "airlock:index:Platform" in result.output
    assert "registry.prod.example.com/team/web:1.4.2@sha256:" in result.output


def test_plan_json_matches_golden(tmp_path):
    assert plan_json(tmp_path, "prod") == json.loads((PROJECT_DIR / "tests/golden/prod.json").read_text())


def test_invalid_stack_exits_2_with_the_config_path(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py", "images.lock"):
        (project / name).write_text((PROJECT_DIR / name).read_text())
    (project / "Pulumi.bad.yaml").write_text(
        "config:\n  airlock:environment: bad\n  airlock:images:\n    pin: always\n"
    )
    result = run_cli("plan", "--stack", "bad", "--project-dir", str(project))
    assert result.exit_code == 2
    assert "airlock:images.pin" in result.output


def test_missing_stack_file_exits_2():
    result = run_cli("plan", "--stack", "nope", "--project-dir", str(PROJECT_DIR))
    assert result.exit_code == 2
    assert "stack 'nope' has no Pulumi.nope.yaml" in result.output


def test_diff_reports_field_paths_and_images_and_exit_code(tmp_path):
    old = plan_json(tmp_path, "prod")
    new = copy.deepcopy(old)
    namespace = next(r for r in new["resources"] if r["type"] == "kubernetes:core/v1:Namespace")
    namespace["inputs"]["metadata"]["labels"]["team"] = "web"
    new["images"][0]["final"] = "registry.prod.example.com/team/web:1.4.3"
    new["resources"].pop()
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(new))

    difference = diff_plans(old, new)
    assert difference.removed == [old["resources"][-1]["urn"]]
    changes = difference.changed[namespace["urn"]]
    assert [(c.path, c.old, c.new) for c in changes] == [("inputs.metadata.labels.team", None, "web")]
    assert [(i.old_final, i.new_final) for i in difference.images] == [
        (old["images"][0]["final"], "registry.prod.example.com/team/web:1.4.3")
    ]

    result = run_cli("plan", "diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--exit-code")
    assert result.exit_code == 1
    assert "inputs.metadata.labels.team" in result.output
    assert "registry.prod.example.com/team/web:1.4.3" in result.output
    same = run_cli("plan", "diff", str(tmp_path / "old.json"), str(tmp_path / "old.json"), "--exit-code")
    assert same.exit_code == 0 and "no changes" in same.output
    as_json = run_cli(
        "plan", "diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--format", "json"
    )
    assert json.loads(as_json.output)["images"][0]["new"] == "registry.prod.example.com/team/web:1.4.3"


def test_diff_rejects_a_file_that_is_not_a_plan(tmp_path):
    (tmp_path / "x.json").write_text("[]")
    result = run_cli("plan", "diff", str(tmp_path / "x.json"), str(tmp_path / "x.json"))
    assert result.exit_code == 2 and "is not an airlock plan" in result.output


def test_usage_errors_exit_2_and_name_the_option(tmp_path):
    missing = run_cli("plan", "--project-dir", str(PROJECT_DIR))
    assert missing.exit_code == 2 and "--stack is required" in missing.stderr
    bad_format = run_cli("plan", "--stack", "prod", "--format", "yaml")
    assert bad_format.exit_code == 2 and "--format" in bad_format.stderr and "'yaml'" in bad_format.stderr
    workers = run_cli("images", "copy", "a/b:1", "c/d:1", "--workers", "0")
    assert workers.exit_code == 2 and "--workers" in workers.stderr and "1 to 64" in workers.stderr
    ca = run_cli("images", "copy", "a/b:1", "c/d:1", "--ca-file", "no-equals-sign")
    assert ca.exit_code == 2 and "expected HOST=PATH" in ca.stderr
    reference = run_cli("images", "copy", "a/b:-bad", "c/d:1")
    assert reference.exit_code == 2 and "a/b:-bad" in reference.stderr


def test_the_installed_entry_point_runs_without_loading_heavy_libraries():
    """`airlock --help` and a copy's argument parsing must not import pydantic, rich or pulumi:
    start-up time is most of a re-copy (README, Performance)."""
    import subprocess
    import sys

    probe = (
        "import sys; from airlock.cli import build_parser; "
        "build_parser().parse_args(['images', 'copy', 'a/b:1', 'c/d:1']); "
        "print(sorted(m for m in ('pydantic', 'rich', 'pulumi', 'urllib3', 'yaml') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
    help_text = subprocess.run(
        [sys.executable, "-m", "airlock.cli", "images", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "copy" in help_text.stdout and "mirror" in help_text.stdout


def test_the_console_script_flushes_its_output_and_keeps_exit_codes(tmp_path):
    """`run()` leaves through os._exit: what was written must still arrive, whole, through a pipe."""
    import subprocess
    import sys

    plan = tmp_path / "prod.json"
    script = [sys.executable, "-c", "from airlock.cli import run; run()"]
    made = subprocess.run(
        [*script, "plan", "--stack", "prod", "--format", "json", "--project-dir", str(PROJECT_DIR)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    plan.write_text(made.stdout)
    assert json.loads(made.stdout) == json.loads((PROJECT_DIR / "tests/golden/prod.json").read_text())
    changed = json.loads(made.stdout)
    changed["images"][0]["final"] = "registry.prod.example.com/team/web:9"
    (tmp_path / "new.json").write_text(json.dumps(changed))
    diff = subprocess.run(
        [*script, "plan", "diff", str(plan), str(tmp_path / "new.json"), "--exit-code"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert diff.returncode == 1 and "registry.prod.example.com/team/web:9" in diff.stdout
    bad = subprocess.run([*script, "plan", "diff", str(plan)], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "the following arguments are required: new" in bad.stderr
