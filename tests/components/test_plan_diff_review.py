"""Plan diffs reviewers can read: a summary, lists element by element, inputs of new resources in
short, only image rows whose pull changes, warnings added and resolved, replacements named, and a
markdown form that fits a pull-request comment.

Guards: one mirror rule, one workload image and one memory limit once gave a 26 KB diff with a
17 KB line (a list printed whole when its length changed), image rows listed because a rule's
index moved, and a PR comment past GitHub's 65,536-character cap.
"""

from __future__ import annotations

import copy
import json

from airlock.plan.diff import diff_plans
from airlock.plan.document import build_document
from airlock.plan.render import diff_lines, render_markdown
from tests.support.cli import run_cli

from .conftest import run_stack, stack_values


def realistic_change() -> tuple[dict, dict]:
    values, secrets = stack_values("staging")
    before = build_document(run_stack("staging", values, secrets))
    changed = copy.deepcopy(values)
    changed["airlock:images"]["mirrors"] = [
        {"source": "quay.io", "to": "quay-cache.example.com", "layout": "flatten"}
    ]
    changed["airlock:workloadImages"]["apps/api"] = {"image": "quay.io/team/api:2.0", "namespace": "apps"}
    changed["airlock:vcluster"]["tenants"][0]["resources"]["limits"]["memory"] = "3Gi"
    after = build_document(run_stack("staging", changed, secrets))
    return before, after


def test_a_realistic_change_is_a_short_readable_diff(tmp_path):
    before, after = realistic_change()
    (tmp_path / "old.json").write_text(json.dumps(before))
    (tmp_path / "new.json").write_text(json.dumps(after))
    result = run_cli("plan", "diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"))
    text = result.stdout
    assert result.exit_code == 0
    assert len(text.encode()) < 4096, len(text.encode())
    assert max(len(line) for line in text.splitlines()) <= 300
    summary = text.splitlines()[0]
    assert summary.startswith("+0 added, ~") and "image row" in summary
    assert "image apps/api (apps): (none) -> quay-cache.example.com/team/api:2.0" in text
    # the rule indices of the registry's caches moved (a rule was added before them): not a change
    assert "image apps/web" not in text
    assert "3Gi" in text


def test_lists_are_compared_element_by_element_and_by_name():
    old = {"resources": [{"urn": "u::a", "type": "kubernetes:apps/v1:Deployment", "name": "a", "inputs": {
        "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "a:1"}, {"name": "log", "image": "l:1"}]}}},
        "args": ["--a", "--b", "--c"],
    }}]}  # fmt: skip
    new = copy.deepcopy(old)
    inputs = new["resources"][0]["inputs"]
    inputs["spec"]["template"]["spec"]["containers"].insert(0, {"name": "init", "image": "i:1"})
    inputs["spec"]["template"]["spec"]["containers"][1]["image"] = "a:2"
    inputs["args"].insert(1, "--x")
    changes = {c.path: (c.old, c.new) for c in diff_plans(old, new).changed["u::a"]}
    assert changes == {
        "inputs.args[1]": (None, "--x"),
        "inputs.spec.template.spec.containers[name=web].image": ("a:1", "a:2"),
        "inputs.spec.template.spec.containers[name=init]": (None, {"name": "init", "image": "i:1"}),
    }


def test_replacements_are_named():
    old = {"resources": [
        {"urn": "u::d", "type": "kubernetes:apps/v1:Deployment", "name": "d",
         "inputs": {"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"a": "1"}}, "replicas": 1}}},
        {"urn": "u::c", "type": "kubernetes:core/v1:ConfigMap", "name": "c", "inputs": {"metadata": {"name": "c"}}},
    ]}  # fmt: skip
    new = copy.deepcopy(old)
    new["resources"][0]["inputs"]["spec"]["selector"]["matchLabels"]["a"] = "2"
    new["resources"][0]["inputs"]["spec"]["replicas"] = 2
    new["resources"][1]["inputs"]["metadata"]["name"] = "c2"
    difference = diff_plans(old, new)
    assert difference.replaced == {
        "u::d": ["inputs.spec.selector.matchLabels.a"],
        "u::c": ["inputs.metadata.name"],
    }
    assert difference.summary().startswith("+0 added, ~2 changed (±2 replaced), -0 removed")
    assert any(
        line.startswith("± u::d (replaced: inputs.spec.selector") for _, line in diff_lines(difference)
    )


def test_added_resources_show_their_inputs_in_short_and_warnings_are_diffed():
    old = {"resources": [], "warnings": ["old warning", "kept"]}
    new = {
        "resources": [{"urn": "a$kubernetes:core/v1:ConfigMap::x", "type": "kubernetes:core/v1:ConfigMap", "name": "x",
                       "inputs": {"data": {f"k{i}": "v" * 500 for i in range(20)}}}],
        "warnings": ["kept", "new warning"],
    }  # fmt: skip
    lines = [line for _, line in diff_lines(diff_plans(old, new))]
    assert "+ kubernetes:core/v1:ConfigMap::x" in lines
    assert "    … 8 more fields" in lines
    assert all(len(line) <= 300 for line in lines)
    assert "+ warning: new warning" in lines and "- warning (resolved): old warning" in lines


def test_markdown_stays_under_the_cap_for_500_changed_resources():
    old = {"resources": [
        {"urn": f"u$kubernetes:core/v1:ConfigMap::cm-{i}", "type": "kubernetes:core/v1:ConfigMap", "name": f"cm-{i}",
         "inputs": {"metadata": {"name": f"cm-{i}"}, "data": {"a": "1" * 200, "b": "x"}}}
        for i in range(500)
    ]}  # fmt: skip
    new = copy.deepcopy(old)
    for resource in new["resources"]:
        resource["inputs"]["data"] = {"a": "2" * 200, "b": "y"}
    markdown = render_markdown(diff_plans(old, new), "staging", 20_000, "the artifact airlock-plans")
    assert len(markdown) <= 20_000
    assert markdown.startswith("#### staging: +0 added, ~500 changed")
    assert "more lines: the full diff is the artifact airlock-plans" in markdown
    full = render_markdown(diff_plans(old, new), "staging", 65_536)
    assert len(full) <= 65_536


def test_markdown_from_the_command_line(tmp_path):
    before, after = realistic_change()
    (tmp_path / "old.json").write_text(json.dumps(before))
    (tmp_path / "new.json").write_text(json.dumps(after))
    result = run_cli(
        "plan", "diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--format", "markdown",
        "--max-chars", "3000", "--full-diff", "[artifact](https://example.invalid/run)",
    )  # fmt: skip
    assert result.exit_code == 0
    assert result.stdout.startswith("#### staging: +0 added")
    assert "```diff" in result.stdout and len(result.stdout) <= 3000


def test_reordering_named_items_is_a_change():
    old = {"resources": [{"urn": "u::j", "type": "kubernetes:batch/v1:Job", "name": "j", "inputs": {
        "initContainers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}}]}  # fmt: skip
    new = copy.deepcopy(old)
    new["resources"][0]["inputs"]["initContainers"].reverse()
    difference = diff_plans(old, new)
    assert not difference.empty
    assert [(c.path, c.old, c.new) for c in difference.changed["u::j"]] == [
        ("inputs.initContainers (order)", ["a", "b"], ["b", "a"])
    ]


def test_markdown_never_exceeds_the_cap_nor_escapes_its_block():
    old = {"resources": [], "warnings": []}
    new = {"resources": [], "warnings": ["a\n```\n# injected heading"]}
    markdown = render_markdown(diff_plans(old, new), "t" * 70_000, 20_000, "f" * 70_000)
    assert len(markdown) <= 20_000
    fence = markdown.split("\n")[2]
    assert fence.startswith("````") and fence.endswith("diff")  # longer than any backtick run inside
    assert "\n# injected heading" not in markdown
    assert len(render_markdown(diff_plans(old, old), "t" * 70_000, 1000)) <= 1000
