"""Junk in, ValidationError out: nothing else may escape ``load_app``."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotmesh_nb.errors import ValidationError
from hotmesh_nb.model import AppSpec, load_app

SETTINGS = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [
            "trigger",
            "worker",
            "hook",
            "cycle",
            "signal",
            "await",
            "interrupt",
            "activity",
            "t1",
            "w1",
            "h1",
            "and",
            "or",
            "one",
            "all",
            "200",
            "{t1.output.data.x}",
            "$ref",
            "#/app",
            "missing.yaml",
        ]
    ),
    st.text(max_size=8),
)
keys = st.one_of(
    st.sampled_from(
        [
            "type",
            "topic",
            "subtype",
            "to",
            "conditions",
            "code",
            "gate",
            "match",
            "expected",
            "actual",
            "maps",
            "input",
            "output",
            "job",
            "retry",
            "ancestor",
            "cycle",
            "stats",
            "id",
            "sleep",
            "$ref",
        ]
    ),
    st.text(max_size=6),
)
junk = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)


def skeleton() -> dict[str, Any]:
    return {
        "app": {
            "id": "fuzz",
            "version": "1",
            "graphs": [
                {
                    "subscribes": "fuzz.run",
                    "activities": {
                        "t1": {"type": "trigger"},
                        "w1": {"type": "worker", "topic": "w", "retry": {"500": [2]}},
                        "h1": {"type": "hook", "job": {"maps": {"done": True}}},
                        "c1": {"type": "cycle", "ancestor": "h1"},
                    },
                    "transitions": {
                        "t1": [{"to": "w1"}],
                        "w1": [{"to": "h1", "conditions": {"code": 200, "match": []}}],
                        "h1": [{"to": "c1"}],
                    },
                    "hooks": {"h.topic": [{"to": "h1"}]},
                }
            ],
        }
    }


def slots(tree: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into ``tree`` whose value can be replaced."""
    found = [path]
    if isinstance(tree, dict):
        for key, value in tree.items():
            found += slots(value, (*path, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found += slots(value, (*path, index))
    return found


SLOTS = slots(skeleton())[1:]


@pytest.fixture(scope="module")
def empty_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where junk ``$ref``s resolve: an empty folder, so they can only fail cleanly."""
    return tmp_path_factory.mktemp("fuzz")


def outcome(source: str, base_dir: Path) -> None:
    try:
        app = load_app(source, base_dir=base_dir)
    except ValidationError as exc:
        assert str(exc)
        return
    # Anything accepted must survive storage.
    assert AppSpec.from_dict(json.loads(json.dumps(app.to_dict()))) == app


@SETTINGS
@given(text=st.text(max_size=200))
def test_junk_text(text: str, empty_dir: Path) -> None:
    outcome(text + "\n", empty_dir)


@SETTINGS
@given(
    lines=st.lists(
        st.sampled_from(
            [
                "app:",
                "  id: x",
                "  version: 1",
                "  graphs:",
                "    - subscribes: a",
                "      activities:",
                "        t1: {type: trigger}",
                "        w1: {type: worker}",
                "      transitions:",
                "        t1: [{to: w1}]",
                "  - ",
                "- &a [*a]",
                "{",
                "]",
                "<<: *b",
                "!!binary x",
                "$ref: x.yaml",
                "  $ref: '#/app'",
                "\t",
                "? [1]",
                "---",
                "key: 'unterminated",
            ]
        ),
        max_size=14,
    )
)
def test_token_soup(lines: list[str], empty_dir: Path) -> None:
    outcome("\n".join(lines) + "\n", empty_dir)


@SETTINGS
@given(value=junk)
def test_junk_document(value: Any, empty_dir: Path) -> None:
    outcome(yaml.safe_dump(value) + "\n", empty_dir)


@SETTINGS
@given(
    replacements=st.lists(st.tuples(st.sampled_from(SLOTS), junk), min_size=1, max_size=3),
)
def test_junk_inside_a_valid_app(replacements: list[tuple[Any, Any]], empty_dir: Path) -> None:
    tree = skeleton()
    for path, value in replacements:
        node = tree
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = copy.deepcopy(value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier replacement removed this slot
    outcome(yaml.safe_dump(tree, sort_keys=False), empty_dir)


def test_the_skeleton_itself_is_valid(empty_dir: Path) -> None:
    app = load_app(yaml.safe_dump(skeleton(), sort_keys=False), base_dir=empty_dir)
    assert app.activity("h1").cycle and app.activity("h1").hook_topic == "h.topic"
