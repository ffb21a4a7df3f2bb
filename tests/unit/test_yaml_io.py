"""YAML is read as the Pulumi CLI reads it (gopkg.in/yaml.v3), in bounded time and memory.

Guards: ``pin: off`` read as ``False``, a repeated key silently replacing the first (it once
dropped ``pin: required``), a self-referencing anchor ending in RecursionError, a 757-byte
"billion laughs" file taking 76 s and then MemoryError, and error messages that quote a line
of the file (which may hold a password).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from airlock import yaml_io
from airlock.yaml_io import MAX_DEPTH, YamlError, load, load_bytes

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(
    [*ROOT.glob("Pulumi*.yaml"), ROOT / "images.lock", *ROOT.glob(".github/workflows/*.yml")], key=str
)

BILLION_LAUGHS = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{name}: &{name} [{','.join(['*' + previous] * 9)}]"
            for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ]
)


def test_the_c_parser_is_in_use():
    assert yaml.__with_libyaml__, "PyYAML without libyaml: stack and lock loading falls back to pure Python"
    assert any(base.__name__ == "CParser" for base in yaml_io._LOADER.__mro__)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_committed_files_read_as_with_yaml_12_booleans(path):
    """Same data as PyYAML's own loader, except that on/off/yes/no stay strings."""
    text = path.read_text(encoding="utf-8")
    expected = yaml.load(text, Loader=yaml.SafeLoader)
    if path.suffix == ".yml":  # workflows: PyYAML reads the key 'on' as True
        expected["on"] = expected.pop(True)
    assert load(text) == expected


def test_yaml_11_words_stay_strings_and_true_false_are_booleans():
    data = load("pin: off\nyes_: yes\nno_: No\non_: ON\nflag: true\nother: False\n")
    assert data == {"pin": "off", "yes_": "yes", "no_": "No", "on_": "ON", "flag": True, "other": False}


def test_a_repeated_key_is_an_error_naming_both_lines():
    with pytest.raises(YamlError) as caught:
        load("config:\n  airlock:images:\n    pin: required\n    pin: preferred\n", source="Pulumi.prod.yaml")
    assert str(caught.value) == (
        "Pulumi.prod.yaml:4:5: key 'pin' is already defined at line 3; the Pulumi CLI refuses a repeated "
        "key: keep one"
    )


def test_a_repeated_top_level_key_is_an_error():
    with pytest.raises(YamlError, match=r"x.yaml:2:1: key 'config' is already defined at line 1"):
        load("config: {}\nconfig: {}\n", source="x.yaml")


def test_merge_keys_may_repeat_a_merged_key():
    assert load("base: &b {x: 1, y: 1}\nother:\n  <<: *b\n  y: 2\n")["other"] == {"x": 1, "y": 2}


def test_a_self_referencing_anchor_is_refused():
    with pytest.raises(YamlError, match=r"s.yaml:1:4: an alias refers to a node that contains it"):
        load("a: &x [1, *x]\n", source="s.yaml")


def test_billion_laughs_is_refused_quickly():
    assert len(BILLION_LAUGHS) < 800
    started = time.perf_counter()
    with pytest.raises(YamlError, match=r"aliases expand this document past 1,000,000 nodes"):
        load(BILLION_LAUGHS, source="bomb.yaml")
    assert time.perf_counter() - started < 1.0  # measured: under 1 ms; the old loader took 76 s


def test_moderate_aliasing_is_still_allowed():
    text = "base: &b {image: nginx, tag: '1.27'}\n" + "".join(f"t{i}: *b\n" for i in range(500))
    assert load(text)["t499"] == {"image": "nginx", "tag": "1.27"}


def test_deep_nesting_is_refused_before_it_reaches_the_c_stack():
    depth = 100_000  # composing this with libyaml crashes the interpreter (C stack overflow)
    with pytest.raises(YamlError, match=f"nested deeper than {MAX_DEPTH} levels"):
        load("[" * depth + "]" * depth, source="deep.yaml")


def test_errors_never_quote_the_files_text():
    text = "config:\n  airlock:registry:\n    password: hunter2-in-clear\n    : bad\n"
    with pytest.raises(YamlError) as caught:
        load(text, source="Pulumi.dev.yaml")
    assert "hunter2" not in str(caught.value)
    assert str(caught.value).startswith("Pulumi.dev.yaml:4:")


def test_non_utf8_bytes_are_a_clear_error():
    with pytest.raises(YamlError) as caught:
        load_bytes("config:\n  airlock:environment: caf\xe9\n".encode("latin-1"), source="Pulumi.dev.yaml")
    assert (
        str(caught.value) == "Pulumi.dev.yaml: is not UTF-8 text (byte 0xe9 at offset 34); save it as UTF-8"
    )


def test_a_utf8_byte_order_mark_is_accepted():
    assert load_bytes("\ufeffa: 1\n".encode(), source="bom.yaml") == {"a": 1}


def test_unsafe_tags_are_refused():
    with pytest.raises(YamlError, match="could not determine a constructor"):
        load("!!python/object/apply:os.system ['true']")


def test_scalars_the_cli_passes_as_strings_stay_strings():
    assert load("env: 2024-01-01\nat: 10:30\nbad: 2020-13-45\nhex: 0x1F\n") == {
        "env": "2024-01-01",
        "at": "10:30",
        "bad": "2020-13-45",
        "hex": 31,
    }


@pytest.mark.parametrize("tag", ["!!binary aGk=", "!!set {a}", "!!omap [a: 1]", "!!timestamp 2024-01-01"])
def test_tags_outside_json_types_are_refused(tag):
    with pytest.raises(YamlError, match="could not determine a constructor"):
        load(f"a: {tag}\n")


def test_booleans_and_nulls_repeat_whatever_their_spelling():
    with pytest.raises(YamlError, match="key 'True' is already defined at line 1"):
        load("true: 1\nTrue: 2\n")
    with pytest.raises(YamlError, match="key '~' is already defined at line 1"):
        load("null: 1\n~: 2\n")


def test_one_long_string_aliased_many_times_is_refused():
    """About 11,000 nodes but 200 MB of text: json.dumps of it took 2.1 GB before."""
    text = "s: &s " + "x" * 200_000 + "\nl: [" + ",".join(["*s"] * 1_000) + "]\n"
    with pytest.raises(YamlError, match="16,777,216 characters"):
        load(text)


def test_a_scalar_its_tag_cannot_hold_is_a_clear_error():
    with pytest.raises(YamlError, match="a value cannot be read"):
        load("a: !!int abc\n", source="x.yaml")
