"""Deploy gates: ``pulumi up`` (and ``airlock plan --as-update``) refuses what a preview only warns
about — offline placeholder digests and images a verify report lists as not mirrored — naming
every one with the command that fixes it; ``--strict`` makes warnings fail CI.

Guards: a prod update that deploys digests no registry serves although the plan showed six
warnings, an image missing from its registry deployed anyway, and warnings CI never notices.
"""

from __future__ import annotations

import json
import shutil

import pytest

from airlock.images.lock import Lockfile, is_placeholder
from tests.support.cli import run_cli

from .conftest import PROJECT_DIR, run_stack


def placeholder_images() -> set[str]:
    """The prod images the committed images.lock pins by an offline placeholder."""
    lock = Lockfile.load(PROJECT_DIR / "images.lock")
    document = json.loads((PROJECT_DIR / "tests" / "golden" / "prod.json").read_text())
    names = set()
    for row in document["images"]:
        entry = lock.get(row["source"])
        if entry is not None and is_placeholder(row["source"], entry):
            names.add(row["name"])
    return names


def test_prod_as_an_update_names_every_placeholder_and_registers_nothing():
    expected = placeholder_images()
    assert len(expected) >= 5, "the committed lock pins prod's upstream images by placeholders"
    result = run_cli("plan", "--stack", "prod", "--as-update")
    assert result.exit_code == 2
    assert f"this update would deploy {len(expected)} images that cannot be pulled" in result.stderr
    for name in expected:
        assert f"  - {name}: images.lock holds an offline placeholder digest" in result.stderr
    assert result.stderr.count("run 'airlock images lock --stack prod' with registry access") == len(expected)


def test_the_gate_runs_inside_the_program_before_anything_registers():
    from airlock.plan.engine import PlanError, record_program

    with pytest.raises(PlanError, match="this update would deploy") as caught:
        record_program(PROJECT_DIR, "prod", preview=False)
    assert caught.value.recording.resources == []


def test_a_preview_of_prod_only_warns_and_strict_fails_it():
    preview = run_cli("plan", "--stack", "prod")
    assert preview.exit_code == 0
    assert "offline placeholder digest" in preview.stderr and "offline placeholder" not in preview.stdout
    strict = run_cli("plan", "--stack", "prod", "--strict")
    assert strict.exit_code == 1 and "with --strict: exit 1" in strict.stderr
    # a stack without warnings passes --strict
    assert run_cli("plan", "--stack", "dev", "--strict").exit_code == 0


def test_images_list_marks_placeholder_and_unpinned_rows():
    listed = run_cli("images", "list", "--stack", "prod", "--format", "json")
    rows = json.loads(listed.stdout)
    marked = {row["name"] for row in rows if row["digestFrom"] == "placeholder"}
    assert marked == placeholder_images()
    text = run_cli("images", "list", "--stack", "prod")
    placeholder_rows = sum(1 for row in rows if row["digestFrom"] == "placeholder")  # one per namespace
    assert text.stdout.count("PLACEHOLDER") == placeholder_rows + 1  # the rows and the note under the table
    assert "offline placeholder digest" not in text.stdout  # warnings go to stderr
    assert "PLACEHOLDER: an offline stand-in digest no registry serves" in text.stdout
    staging = run_cli("images", "list", "--stack", "staging")
    assert "unpinned (tag only)" in staging.stdout
    assert run_cli("images", "list", "--stack", "prod", "--strict").exit_code == 1


@pytest.fixture
def staging_with_report(tmp_path):
    for name in ("Pulumi.yaml", "__main__.py", "images.lock", "Pulumi.staging.yaml"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    final = next(
        row["final"]
        for row in json.loads((PROJECT_DIR / "tests" / "golden" / "staging.json").read_text())["images"]
        if row["name"] == "apps/web"
    )
    (tmp_path / "verify.json").write_text(json.dumps({"stack": "staging", "not_mirrored": [final]}))
    stack = (tmp_path / "Pulumi.staging.yaml").read_text()
    (tmp_path / "Pulumi.staging.yaml").write_text(
        stack.replace("config:\n", "config:\n  airlock:verifyReport: verify.json\n", 1)
    )
    return tmp_path, final


def test_an_unmirrored_image_stops_an_update_unless_the_stack_allows_it(staging_with_report):
    root, final = staging_with_report
    preview = run_cli("plan", "--stack", "staging", "--project-dir", str(root))
    assert preview.exit_code == 0 and f"apps/web: {final} is not in its registry yet" in preview.stderr
    update = run_cli("plan", "--stack", "staging", "--project-dir", str(root), "--as-update")
    assert update.exit_code == 2
    assert f"  - apps/web: {final} is not in its registry (verify report verify.json)" in update.stderr
    assert (
        "run 'airlock images mirror --stack staging', then 'airlock images verify --stack staging"
        in update.stderr
    )
    stack = (root / "Pulumi.staging.yaml").read_text()
    (root / "Pulumi.staging.yaml").write_text(
        stack.replace("config:\n", "config:\n  airlock:allowUnmirrored: true\n", 1)
    )
    allowed = run_cli("plan", "--stack", "staging", "--project-dir", str(root), "--as-update")
    assert allowed.exit_code == 0, allowed.stderr


def test_the_staging_update_passes_the_gates():
    recording = run_stack("staging")
    assert recording.resources
    from airlock.plan.engine import record_program

    assert record_program(PROJECT_DIR, "staging", preview=False).resources


def test_plan_out_creates_its_folder_and_reports_an_unwritable_path_with_exit_2(tmp_path):
    out = tmp_path / "missing" / "folder" / "plan.json"
    result = run_cli("plan", "--stack", "dev", "--format", "json", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert json.loads(out.read_text())["stack"] == "dev"
    (tmp_path / "file").write_text("x")
    blocked = run_cli("plan", "--stack", "dev", "--out", str(tmp_path / "file" / "plan.txt"))
    assert blocked.exit_code == 2 and "--out" in blocked.stderr and "Traceback" not in blocked.stderr


def test_a_placeholder_digest_set_as_an_override_is_refused_too(tmp_path):
    from airlock.images.lock import placeholder_entry

    for name in ("Pulumi.yaml", "__main__.py", "images.lock", "Pulumi.staging.yaml"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    digest = placeholder_entry("docker.io/library/nginx:1.27").digest
    stack = (tmp_path / "Pulumi.staging.yaml").read_text()
    stack = stack.replace(
        "  airlock:images:\n",
        f"  airlock:images:\n    overrides:\n      apps/web: {{digest: '{digest}'}}\n",
        1,
    )
    (tmp_path / "Pulumi.staging.yaml").write_text(stack)
    update = run_cli("plan", "--stack", "staging", "--project-dir", str(tmp_path), "--as-update")
    assert update.exit_code == 2
    assert "  - apps/web: an images.overrides digest holds an offline placeholder digest" in update.stderr
