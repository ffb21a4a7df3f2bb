"""The libyaml loader reads every committed YAML file exactly as PyYAML's Python loader does."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components import yaml_io

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(
    [*ROOT.glob("Pulumi*.yaml"), ROOT / "images.lock", *ROOT.glob(".github/workflows/*.yml")], key=str
)


def test_the_c_loader_is_in_use():
    assert yaml.__with_libyaml__, "PyYAML without libyaml: stack and lock loading falls back to pure Python"
    assert yaml_io._LOADER is yaml.CSafeLoader


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_same_data_as_the_python_loader(path):
    text = path.read_text(encoding="utf-8")
    assert yaml_io.safe_load(text) == yaml.load(text, Loader=yaml.SafeLoader)


def test_unsafe_tags_are_refused_as_by_safe_load():
    with pytest.raises(yaml.YAMLError):
        yaml_io.safe_load("!!python/object/apply:os.system ['true']")
