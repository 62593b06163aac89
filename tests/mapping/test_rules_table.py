"""Whole rules against the original HotMesh 0.3.32: its mapper and its single-field resolver.

``node/cases.js`` lists the rules (references, literals, nested objects and
arrays, ``null``, pipes, nested pipes, ``@reduce`` in every position, rows that
alias a value a function mutates). ``node/gen_expected.js`` resolves each one
with the original's ``MapperService`` (how ``input.maps``, ``output.maps`` and
``job.maps`` values resolve) and with its ``Pipe.resolve`` (how single fields
such as ``topic`` or ``expire`` resolve), and records both answers. A rule the
original failed on must raise :class:`~hotmesh_nb.errors.MappingError` here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hotmesh_nb.errors import MappingError
from hotmesh_nb.mapping import compile_rule

from .conftest import decode, same

RULES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "node" / "expected.json").read_text()
)["rules"]


def _id(case: dict[str, Any]) -> str:
    return json.dumps(decode(case["rule"]), default=str)[:60]


def _check(case: dict[str, Any], answer: dict[str, Any], *, field: bool) -> None:
    rule, context = decode(case["rule"]), decode(case["context"])
    if "throws" in answer:
        with pytest.raises(MappingError):
            compile_rule(rule, "r", field=field).evaluate(context)
        return
    actual = compile_rule(rule, "r", field=field).evaluate(context)
    expected = decode(answer["result"])
    assert same(actual, expected), f"{rule!r}: {actual!r} != {expected!r}"


@pytest.mark.parametrize("case", RULES, ids=_id)
def test_map_value_matches_the_original_mapper(case: dict[str, Any]) -> None:
    _check(case, case["map"], field=False)


@pytest.mark.parametrize("case", RULES, ids=_id)
def test_field_matches_the_original_pipe_resolve(case: dict[str, Any]) -> None:
    _check(case, case["field"], field=True)


def test_mutating_rules_never_change_the_context() -> None:
    """Rows alias one value (as in JS), but the job context itself is never modified."""
    context = {"a": {"list": [3, 1, 2]}}
    rule = {"@pipe": [["{a.list}"], ["{@array.reverse}", "{a.list}"], ["{@array.concat}"]]}
    assert compile_rule(rule).evaluate(context) == [2, 1, 3, 2, 1, 3]
    assert context == {"a": {"list": [3, 1, 2]}}
