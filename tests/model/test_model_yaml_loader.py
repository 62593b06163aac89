"""The YAML layer: marks, duplicate keys, scalar resolution, unsupported constructs."""

from __future__ import annotations

import math

import pytest

from hotmesh_nb.errors import ValidationError
from hotmesh_nb.model._located import LDict, LList, line_of, to_plain
from hotmesh_nb.model._yaml_loader import parse_yaml


def test_lines_of_keys_and_items() -> None:
    tree = parse_yaml("a:\n  b: 1\n  c:\n    - x\n    - y\n", "f.yaml")
    assert isinstance(tree, LDict) and tree.file == "f.yaml"
    assert line_of(tree, "a") == 1
    assert line_of(tree["a"], "b") == 2 and line_of(tree["a"], "c") == 3
    assert isinstance(tree["a"]["c"], LList)
    assert line_of(tree["a"]["c"], 1) == 5
    assert line_of(tree["a"], "missing") == tree["a"].line == 2
    assert line_of("scalar") is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("True", True),
        ("FALSE", False),
        ("1:30", "1:30"),
        ("1e3", 1000.0),
        ("-2.5E-1", -0.25),
        (".5", 0.5),
        ("1_000", 1000),
        ("0x1F", 31),
        ("0o17", 15),
        ("017", 15),
        ("0b101", 5),
        ("-7", -7),
        ("2024-01-01", "2024-01-01"),
        ("2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z"),
        ("~", None),
        ("null", None),
        ("'42'", "42"),
        ("!!str 42", "42"),
        ("!!float 1", 1.0),
        ("!!int '12'", 12),
        ("!!bool true", True),
    ],
)
def test_scalars_follow_yaml_1_2_core(text: str, value: object) -> None:
    assert parse_yaml(f"v: {text}\n")["v"] == value


def test_special_floats() -> None:
    tree = parse_yaml("a: .inf\nb: -.Inf\nc: .nan\n")
    assert tree["a"] == math.inf and tree["b"] == -math.inf and math.isnan(tree["c"])


def test_keys_become_strings_like_javascript() -> None:
    tree = parse_yaml("500: a\ntrue: b\n~: c\n1.0: d\n")
    assert list(tree) == ["500", "true", "null", "1"]


def test_duplicate_keys_name_both_lines() -> None:
    with pytest.raises(ValidationError) as info:
        parse_yaml("a: 1\nb:\n  c: 1\n  c: 2\n", "f.yaml")
    assert info.value.line == 4 and info.value.file == "f.yaml"
    assert "first defined at line 3, again at line 4" in str(info.value)


def test_number_and_string_keys_collide() -> None:
    with pytest.raises(ValidationError, match="duplicate key '500'"):
        parse_yaml("500: a\n'500': b\n")


def test_merge_keys_may_be_overridden() -> None:
    tree = parse_yaml("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nboth:\n  <<: [*b, {z: 9}]\n")
    assert tree["use"] == {"x": 1, "y": 3}
    assert tree["both"] == {"x": 1, "y": 2, "z": 9}


def test_bad_merge() -> None:
    with pytest.raises(ValidationError, match="merge key"):
        parse_yaml("a:\n  <<: 3\n")


def test_aliases_share_values() -> None:
    tree = parse_yaml("a: &x {k: [1]}\nb: *x\n")
    assert to_plain(tree) == {"a": {"k": [1]}, "b": {"k": [1]}}


@pytest.mark.parametrize("text", ["a: &x [*x]\n", "a: &x {b: *x}\n"])
def test_recursive_alias_is_rejected(text: str) -> None:
    with pytest.raises(ValidationError, match="recursive"):
        parse_yaml(text)


def test_recursive_plain_structure_is_rejected() -> None:
    loop: dict[str, object] = {}
    loop["self"] = loop
    with pytest.raises(ValidationError, match="recursive"):
        to_plain(loop)


def test_syntax_error_has_a_line() -> None:
    with pytest.raises(ValidationError, match="YAML syntax error") as info:
        parse_yaml("a: 1\nb: [1, 2\nc: 3\n", "f.yaml")
    assert info.value.file == "f.yaml" and info.value.line == 3


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a: !!binary aGk=\n", "unsupported YAML tag"),
        ("a: !custom 1\n", "unsupported YAML tag"),
        ("a: !!set {x}\n", "unsupported YAML tag"),
        ("a: !!omap [{x: 1}]\n", "unsupported YAML tag"),
        ("? [1, 2]\n: x\n", "mapping keys must be plain scalars"),
        ("a: !!int abc\n", "not a valid int"),
        ("a: !!bool maybe\n", "not a boolean"),
        ("a: 1\n---\nb: 2\n", "YAML"),
    ],
)
def test_unsupported_constructs(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        parse_yaml(text)


def test_empty_document_is_none() -> None:
    assert parse_yaml("") is None
    assert parse_yaml("# nothing\n") is None


def test_deep_nesting_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        parse_yaml("[" * 5000 + "]" * 5000)
