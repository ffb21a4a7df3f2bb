"""Text output prints data as written: rich never reads a value as markup.

Guards: '[fd00::1]:5000/team/web' printed as ':5000/team/web', and a label value '[/red]'
crashing 'plan diff' (the job that posts the PR comment)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.support.cli import run_cli

PROJECT_DIR = Path(__file__).resolve().parents[2]


def plan_file(path: Path, label: str, final: str) -> Path:
    document = {
        "project": "airlock",
        "stack": "dev",
        "resources": [
            {
                "urn": "urn:pulumi:dev::airlock::kubernetes:core/v1:Namespace::[bold]ns",
                "type": "kubernetes:core/v1:Namespace",
                "name": "[bold]ns",
                "parent": None,
                "dependencies": [],
                "inputs": {"metadata": {"labels": {"team": label}}},
            }
        ],
        "images": [{"name": "apps/web", "namespace": "apps", "final": final}],
        "outputs": {},
        "warnings": [],
    }
    path.write_text(json.dumps(document))
    return path


def test_plan_diff_prints_markup_like_values_verbatim(tmp_path):
    old = plan_file(tmp_path / "old.json", "web", "[fd00::1]:5000/team/web:1.0")
    new = plan_file(tmp_path / "new.json", "[/red]", "[fd00::1]:5000/team/web:1.1")
    result = run_cli("plan", "diff", str(old), str(new))
    assert result.exit_code == 0, result.output
    assert "inputs.metadata.labels.team: 'web' -> '[/red]'" in result.stdout
    assert "~ urn:pulumi:dev::airlock::kubernetes:core/v1:Namespace::[bold]ns" in result.stdout
    assert "[fd00::1]:5000/team/web:1.0" in result.stdout and "[fd00::1]:5000/team/web:1.1" in result.stdout


def test_images_list_prints_an_ipv6_registry_verbatim(tmp_path):
    for name in ("Pulumi.yaml", "__main__.py", "images.lock"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    stack = (PROJECT_DIR / "Pulumi.dev.yaml").read_text()
    stack = stack.replace("image: nginx:1.27", "image: '[fd00::1]:5000/team/web:1.0'")
    (tmp_path / "Pulumi.dev.yaml").write_text(stack)
    result = run_cli("images", "list", "--stack", "dev", "--project-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "[fd00::1]:5000/team/web:1.0" in result.stdout
    plan = run_cli("plan", "--stack", "dev", "--project-dir", str(tmp_path))
    assert plan.exit_code == 0 and "localhost:5001/fd00__1_5000/team/web:1.0" in plan.stdout
