"""examples/platform-stack: airlock's components composed into another team's Pulumi program,
planned the way the Python language host runs it.

Guards: a consumer program importing a module beside it (helpers.py) failing under the plan,
a StackReference ending the plan in AttributeError instead of naming --stack-reference, and
components that could not be used without Platform's wiring.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "platform-stack"
REFERENCE = f"org/airlock/prod={EXAMPLE / 'platform-outputs.json'}"


def plan(*extra: str):
    return run_cli("plan", "--project-dir", str(EXAMPLE), "--stack", "dev", "--format", "json", *extra)


def test_the_example_composes_image_config_and_a_tenant_from_another_stacks_outputs():
    result = plan("--stack-reference", REFERENCE)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    types = {(r["name"], r["type"]) for r in document["resources"]}
    assert ("team-c-images", "airlock:index:ImageConfig") in types
    assert ("team-c", "airlock:index:VirtualCluster") in types
    assert ("team-c-chart", "kubernetes:helm.sh/v4:Chart") in types
    assert ("org/airlock/prod", "pulumi:pulumi:StackReference") in types
    secrets = {
        r["inputs"]["metadata"]["namespace"]
        for r in document["resources"]
        if r["name"].startswith("team-c-images-pull-")
    }
    assert secrets == {"team-c-apps", "vcluster-team-c"}
    outputs = document["outputs"]
    assert outputs["platformEnvironment"] == "prod"  # read through the StackReference file
    assert outputs["apiImage"] == "registry.prod.example.com/ghcr.io/example/team-c-api:2.3.1"
    assert outputs["pullSecrets"] == {"team-c-apps": "airlock-pull", "vcluster-team-c": "airlock-pull"}
    assert (
        "registry.prod.example.com/ghcr.io/loft-sh/vcluster-pro:0.36.1" in outputs["connectCommand"]["flag"]
    )
    chart = next(r for r in document["resources"] if r["name"] == "team-c-chart")
    image = chart["inputs"]["values"]["controlPlane"]["statefulSet"]["image"]
    assert image == {
        "registry": "registry.prod.example.com",
        "repository": "ghcr.io/loft-sh/vcluster-oss",
        "tag": "0.36.1",
    }


def test_a_stack_reference_without_its_outputs_names_the_flag():
    result = plan()
    assert result.exit_code == 2
    assert "StackReference 'org/airlock/prod'" in result.stderr
    assert "--stack-reference org/airlock/prod=FILE.json" in result.stderr
    assert "AttributeError" not in result.stderr


def test_a_program_imports_its_own_module_and_a_second_program_gets_its_own(tmp_path):
    for name, text in (("a", "A"), ("b", "B")):
        project = tmp_path / name
        project.mkdir()
        (project / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
        (project / "Pulumi.dev.yaml").write_text("config: {}\n")
        (project / "helpers.py").write_text(f"VALUE = {text!r}\n")
        (project / "__main__.py").write_text(
            "import pulumi\nfrom helpers import VALUE\npulumi.export('value', VALUE)\n"
        )
        result = run_cli("plan", "--project-dir", str(project), "--stack", "dev", "--format", "json")
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["outputs"] == {"value": text}


def test_pulumi_yaml_main_names_the_program_folder(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "Pulumi.yaml").write_text("name: nested\nruntime: python\nmain: src/\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "src" / "__main__.py").write_text("import pulumi\npulumi.export('where', 'src')\n")
    result = run_cli("plan", "--project-dir", str(tmp_path), "--stack", "dev", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["outputs"] == {"where": "src"}


def test_a_bad_stack_reference_file_is_a_usage_error(tmp_path):
    (tmp_path / "outputs.json").write_text("[1, 2]")
    result = plan("--stack-reference", f"org/airlock/prod={tmp_path / 'outputs.json'}")
    assert result.exit_code == 2 and "expected a JSON object of outputs" in result.stderr
    result = plan("--stack-reference", "org/airlock/prod")
    assert result.exit_code == 2 and "expected NAME=FILE.json" in result.stderr


def test_a_fresh_process_plans_the_project_twice():
    """The program's own modules are forgotten after a run, but never the installed airlock
    package (it lives below the project folder too, under components/)."""
    import subprocess
    import sys

    code = (
        "from airlock.plan.engine import record_program\n"
        f"print([len(record_program({str(ROOT)!r}, 'dev').resources) for _ in range(2)])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    first, second = json.loads(result.stdout)
    assert first == second and first > 20  # every resource, both times
