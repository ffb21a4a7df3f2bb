"""docs/upgrading.md, walked for one version change: a chart version the catalog does not know is
refused naming what to add; with the release added, the plan moves the chart and its images
together, and the diff shows both.

Guards: ``vcluster.chart.version: 0.37.0`` planning fine while the control plane and the proxy
stayed on 0.36.1 images.
"""

from __future__ import annotations

import copy

import pytest

from airlock.images.catalog import CatalogImage
from airlock.plan.diff import diff_plans
from airlock.plan.document import build_document
from airlock.plan.engine import PlanError
from airlock.plan.render import diff_lines
from airlock.vcluster.images import RELEASES, VERSION

from .conftest import PROJECT_DIR, run_stack, stack_values

NEW = "0.36.2"


def bumped(values: dict) -> dict:
    changed = copy.deepcopy(values)
    changed["airlock:vcluster"]["chart"] = {"version": NEW}
    return changed


def test_a_chart_version_without_a_catalog_entry_is_refused_naming_what_to_add():
    values, secrets = stack_values("staging")
    with pytest.raises(PlanError) as caught:
        run_stack("staging", bumped(values), secrets)
    message = str(caught.value)
    assert f"airlock:vcluster.chart.version: '{NEW}': has no catalog entry" in message
    assert f"vcluster {VERSION} deploys" in message
    assert "add the release's images to RELEASES in airlock/vcluster/images.py" in message
    assert "docs/upgrading.md" in message and (PROJECT_DIR / "docs" / "upgrading.md").is_file()
    assert caught.value.recording.resources == []


def test_with_the_release_added_the_chart_and_its_images_move_together(monkeypatch):
    # step 2 of docs/upgrading.md: the new release's images (here a test release, one patch
    # version on: the vcluster images move with the chart, the others stay)
    release = tuple(
        CatalogImage(image.name, image.source.replace(VERSION, NEW), image.description)
        for image in RELEASES.images(VERSION)
    )
    monkeypatch.setitem(RELEASES.releases, NEW, release)
    values, secrets = stack_values("staging")
    before = build_document(run_stack("staging", values, secrets))
    after = build_document(run_stack("staging", bumped(values), secrets))  # step 3
    difference = diff_plans(before, after)  # step 6
    moved = {c.key.split(" ")[0]: c.new_final for c in difference.images}
    assert moved["vcluster/control-plane"].endswith(f"vcluster-oss:{NEW}")
    assert moved["vcluster/background-proxy"].endswith(f"vcluster-pro:{NEW}")
    assert "vcluster/etcd" not in moved  # not part of this release's change
    lines = "\n".join(line for _, line in diff_lines(difference))
    assert f"'{VERSION}' -> '{NEW}'" in lines  # the chart's version, beside its images
    # step 4: until 'airlock images lock' ran, every moved image is unpinned and says so
    assert any(f"vcluster-oss:{NEW}" in warning for warning in difference.warnings_added)


def test_a_component_used_on_its_own_refuses_an_unknown_chart_version_too():
    from airlock.gateway.images import image_requests
    from airlock.gateway.settings import GatewaySettings

    settings = GatewaySettings.model_validate(
        {"chart": {"version": "9.9.9"}, "classes": [{"name": "eg"}], "gateways": []}
    )
    with pytest.raises(ValueError, match="gateway-helm chart version '9.9.9' has no catalog entry"):
        image_requests(settings)


def test_a_pre_release_ranks_below_its_release():
    from airlock.images.catalog import ChartReleases

    releases = ChartReleases("x", "x", {"1.9.0-rc.1": (), "1.9.0": (), "1.10.0": ()})
    assert releases.newest == "1.10.0"
    assert ChartReleases("x", "x", {"1.9.0-rc.1": (), "1.9.0": ()}).newest == "1.9.0"
