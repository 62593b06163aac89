"""Property tests: junk never crashes the evaluator with anything but ``MappingError``,
and evaluation is deterministic."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotmesh_nb.errors import MappingError
from hotmesh_nb.mapping import compile_rule, function_names, resolve, to_js_string, to_json

from .conftest import same

# Functions whose result depends on time or randomness.
_VOLATILE = {"@date.now", "@math.random", "@symbol.date", "@cron.nextDelay", "@date.toISOXString"}
_FUNCTIONS = [n for n in function_names() if n not in _VOLATILE]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=5), children, max_size=4),
    ),
    max_leaves=12,
)
paths = st.lists(
    st.sampled_from(["a", "b", "0", "length", "$job", "$item", "x"]), min_size=1, max_size=4
)
cells = st.one_of(
    json_scalars,
    paths.map(lambda p: "{" + ".".join(p) + "}"),
    st.sampled_from(
        ["{$item}", "{$output}", "{$key}", "{$index}", "{$input}", "{$item.a}", "{@nope.x}"]
    ),
    st.sampled_from(_FUNCTIONS).map(lambda n: "{" + n + "}"),
)
rows = st.one_of(
    st.lists(cells, max_size=4),
    st.sampled_from(_FUNCTIONS).flatmap(
        lambda n: st.lists(cells, max_size=3).map(lambda rest: ["{" + n + "}", *rest])
    ),
)


def _pipes(children: Any) -> Any:
    return st.one_of(
        st.lists(st.one_of(rows, children), min_size=1, max_size=4).map(lambda r: {"@pipe": r}),
        st.lists(st.one_of(rows, children), min_size=1, max_size=3).map(lambda r: {"@reduce": r}),
    )


rules = st.recursive(
    st.one_of(cells, st.lists(rows, min_size=1, max_size=4).map(lambda r: {"@pipe": r})),
    lambda children: st.one_of(
        _pipes(children),
        st.dictionaries(st.text(max_size=4), children, max_size=3),
        st.lists(children, max_size=3),
    ),
    max_leaves=10,
)
contexts = st.dictionaries(st.sampled_from(["a", "b", "$job", "0", "x"]), json_values, max_size=4)

# HOTMESH_HYPOTHESIS_EXAMPLES raises the budget for a long local run.
SETTINGS = settings(
    max_examples=int(os.environ.get("HOTMESH_HYPOTHESIS_EXAMPLES", "250")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(rule=rules, context=contexts)
def test_rules_raise_only_mapping_error(rule: Any, context: dict[str, Any]) -> None:
    try:
        compiled = compile_rule(rule, "prop.rule")
    except MappingError:
        return
    try:
        first = compiled.evaluate(context)
    except MappingError:
        return
    # Deterministic: the same rule on the same input gives the same output.
    assert same(compiled.evaluate(context), first)
    try:
        to_json(first)
        to_js_string(first)
    except MappingError:
        pass


@SETTINGS
@given(name=st.sampled_from(_FUNCTIONS), args=st.lists(json_values, max_size=4))
def test_functions_raise_only_mapping_error(name: str, args: list[Any]) -> None:
    rule = {"@pipe": [args, ["{" + name + "}"]]} if args else {"@pipe": [["{" + name + "}"]]}
    try:
        first = resolve(rule, {})
    except MappingError:
        return
    assert same(resolve(rule, {}), first)


@SETTINGS
@given(value=json_values)
def test_json_round_trip(value: Any) -> None:
    text = to_json(value)
    parsed = resolve({"@pipe": [["{text}"], ["{@json.parse}"]]}, {"text": text})
    assert to_json(parsed) == text


@SETTINGS
@given(context=contexts, path=paths)
def test_references_never_raise(context: dict[str, Any], path: list[str]) -> None:
    rule = "{" + ".".join(path) + "}"
    assert same(resolve(rule, context), compile_rule(rule).evaluate(context))
