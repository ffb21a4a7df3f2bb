"""Secret changes are visible in plans and plan diffs; secret values never are.

Guards: adding a registry login or rotating a ``secure:`` password gave ``plan diff`` → "no
changes" (every Secret's content was rendered ``"[secret]"``), while ``pulumi preview`` would
show the Secret updated; and the opposite failure, a plan that lets a reviewer recover a value.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest

from airlock.plan.document import build_document, dumps
from tests.support.cli import run_cli

from .conftest import PROJECT_DIR, run_stack, stack_values

QUAY = """  airlock:registryCredentials:
    quay.io:
      username: robot-quay
      password:
        secure: {cipher}
"""
WORKLOAD = """    apps/tool:
      image: quay.io/team/tool:1.0
      namespace: apps
"""


def project(tmp_path: Path, name: str, extra: str = "", workload: bool = False) -> Path:
    root = tmp_path / name
    root.mkdir()
    for file in ("Pulumi.yaml", "__main__.py", "images.lock"):
        shutil.copy(PROJECT_DIR / file, root / file)
    stack = (PROJECT_DIR / "Pulumi.staging.yaml").read_text()
    if workload:  # pulled from quay.io itself (kept in place), with the login when there is one
        stack = stack.replace("  airlock:workloadImages:\n", "  airlock:workloadImages:\n" + WORKLOAD, 1)
        stack = stack.replace(
            "  airlock:images:\n",
            "  airlock:images:\n    mirrors:\n      - {source: quay.io, to: quay.io, layout: replace}\n",
            1,
        )
    (root / "Pulumi.staging.yaml").write_text(stack + extra)
    return root


def plan(root: Path) -> dict:
    out = root / "plan.json"
    result = run_cli(
        "plan", "--stack", "staging", "--project-dir", str(root), "--format", "json", "--out", str(out)
    )
    assert result.exit_code == 0, result.stderr
    return json.loads(out.read_text())


def pull_secrets(document: dict) -> dict[str, dict]:
    return {
        r["inputs"]["metadata"]["namespace"]: r["inputs"]
        for r in document["resources"]
        if r["type"] == "kubernetes:core/v1:Secret"
        and r["inputs"].get("type") == "kubernetes.io/dockerconfigjson"
    }


def diff(tmp_path: Path, old: dict, new: dict) -> str:
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(new))
    result = run_cli("plan", "diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--exit-code")
    assert result.exit_code == 1, "the plans differ"
    return result.stdout


def test_rotating_a_secure_value_changes_only_the_secrets_it_reaches(tmp_path):
    before = plan(project(tmp_path, "a", QUAY.format(cipher="v1:AAAAfirst"), workload=True))
    after = plan(project(tmp_path, "b", QUAY.format(cipher="v1:BBBBsecond"), workload=True))
    old, new = pull_secrets(before), pull_secrets(after)

    def holds_quay(inputs: dict) -> bool:
        return "quay.io" in json.loads(inputs["metadata"]["annotations"]["airlock/logins"])

    reached = sorted(ns for ns in old if holds_quay(old[ns]))
    assert "apps" in reached
    for namespace in old:
        changed = old[namespace]["stringData"] != new[namespace]["stringData"]
        assert changed == (namespace in reached), namespace
        assert old[namespace]["stringData"].startswith("[secret ")
        assert len(old[namespace]["stringData"]) == len("[secret ]") + 16
    assert len(reached) < len(old)  # some Secrets hold other logins only, and stay as they were
    text = diff(tmp_path, before, after)
    assert "Secret::airlock-images-pull-apps" in text and "stringData" in text


def test_adding_a_registry_login_shows_the_registry_and_user_but_no_secret(tmp_path):
    before = plan(project(tmp_path, "a", workload=True))
    after = plan(project(tmp_path, "b", QUAY.format(cipher="v1:AAAAfirst"), workload=True))
    old, new = pull_secrets(before), pull_secrets(after)
    logins = json.loads(new["apps"]["metadata"]["annotations"]["airlock/logins"])
    assert logins["quay.io"] == "robot-quay"
    assert "quay.io" not in json.loads(old["apps"]["metadata"]["annotations"]["airlock/logins"])
    assert old["apps"]["stringData"] != new["apps"]["stringData"]
    assert "robot-quay" in diff(tmp_path, before, after)


def test_the_fingerprint_is_stable_between_runs():
    first = build_document(run_stack("staging"))
    second = build_document(run_stack("staging"))
    assert dumps(first) == dumps(second)


@pytest.mark.parametrize("password", ["hunter2", "Sup3r-Secret-Value-41"])
def test_a_real_secret_value_appears_nowhere(tmp_path, password):
    values, secrets = stack_values("staging")
    values["airlock:registryCredentials"] = {"quay.io": {"username": "robot-quay", "password": password}}
    values["airlock:workloadImages"]["apps/tool"] = {"image": "quay.io/team/tool:1.0", "namespace": "apps"}
    values["airlock:images"]["overrides"] = {"apps/tool": {"image": "quay.io/team/tool:1.0"}}
    recording = run_stack("staging", values, secrets | {"airlock:registryCredentials"})
    text = dumps(build_document(recording))
    forms = [
        password,
        base64.b64encode(password.encode()).decode(),
        base64.b64encode(f"robot-quay:{password}".encode()).decode(),
    ]
    assert not [form for form in forms if form in text]
    # the fingerprint does not depend on the real value, so it cannot be guessed from it
    other = dict(
        values,
        **{
            "airlock:registryCredentials": {"quay.io": {"username": "robot-quay", "password": "x" + password}}
        },
    )
    again = dumps(build_document(run_stack("staging", other, secrets | {"airlock:registryCredentials"})))
    assert again == text
    assert (
        '"airlock/logins": "{\\"quay.io\\": \\"robot-quay\\"' in text.replace('\\\\"', '\\"')
        or "robot-quay" in text
    )
