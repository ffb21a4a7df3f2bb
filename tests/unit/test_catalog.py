"""The catalog: every default is a valid, tagged, non-latest source reference."""

from __future__ import annotations

import pytest

from airlock.catalog import CATALOG, catalog_image
from airlock.images import ImagePolicy, parse, resolve


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_catalog_entries_are_pinned_versions(name):
    entry = CATALOG[name]
    ref = parse(entry.source)
    assert str(ref) == entry.source, "catalog sources are written canonically"
    assert ref.tag and ref.tag != "latest"
    assert entry.consumer and entry.role and "/" not in entry.role
    resolve(ref, ImagePolicy(pin="off"), name=name)  # passes the default tag rules


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="the catalog knows .*vcluster/control-plane"):
        catalog_image("vcluster/syncer")
