"""References, literals, ``@pipe`` rows, nested fan-out/fan-in pipes and ``@reduce``.

Pipe semantics follow spec §2.9 and the behaviour measured in §12.1; the
JavaScript built-ins involved were checked with Node 20.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest

from hotmesh_nb.errors import MappingError
from hotmesh_nb.mapping import UNDEFINED, compile_rule, resolve

CTX: dict[str, Any] = {
    "a": {
        "output": {
            "data": {
                "first_name": "Luke",
                "last_name": "Birdeau",
                "workflowDimension": ",0,0,1",
                "index": 13,
                "duration": 1000,
                "items": [10, 20, 30],
                "people": [{"full_name": "Luke Birdeau"}, {"full_name": "Jan Doe"}],
                "prices": {"tea": 2, "cake": 3.5},
                "nested": {"deep": {"er": {"est": "bottom"}}},
                "nothing": None,
                "2": "two",
            },
            "metadata": {"aid": "a", "atp": "worker"},
        }
    },
    "$self": {"output": {"data": {"response": {"x": {"type": "sleep"}, "y": {"type": "wait"}}}}},
    "$job": {"data": {"name": "Ada Lovelace"}, "metadata": {"jid": "job-1", "js": 1}},
    "$app": {"settings": {"region": "eu", "limits": {"max": 5}}},
    "worker": {"output": {"data": {"workflowDimension": ",0", "index": 3}}},
}


# ---------------------------------------------------------------- references


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("{a.output.data.first_name}", "Luke"),
        ("{a.output.data.nested.deep.er.est}", "bottom"),
        ("{a.output.data.items}", [10, 20, 30]),
        ("{a.output.data.items.1}", 20),
        ("{a.output.data.items.length}", 3),
        ("{a.output.data.2}", "two"),
        ("{a.output.data.nothing}", None),
        ("{a.output.metadata.atp}", "worker"),
        ("{$self.output.data.response.x.type}", "sleep"),
        ("{$job.metadata.jid}", "job-1"),
        ("{$job.data.name}", "Ada Lovelace"),
        ("{$app.settings.region}", "eu"),
        ("{$app.settings.limits.max}", 5),
    ],
)
def test_reference_reads_the_context(rule: str, expected: Any) -> None:
    assert resolve(rule, CTX) == expected
    assert compile_rule(rule).evaluate(CTX) == expected


@pytest.mark.parametrize(
    "rule",
    [
        "{a.output.data.missing}",
        "{nobody.output.data.x}",
        "{a.output.data.first_name.length}",  # strings are not objects: nothing is read
        "{a.output.data.items.3}",
        "{a.output.data.items.01}",
        "{a.output.data.nothing.x}",
        "{$app.settings.nope}",
        "{}",
    ],
)
def test_missing_path_is_undefined(rule: str) -> None:
    assert resolve(rule, CTX) is UNDEFINED


def test_reducer_variables_outside_reduce_are_undefined() -> None:
    for var in ("{$input}", "{$output}", "{$item}", "{$key}", "{$index}", "{$item.name}"):
        assert resolve(var, CTX) is UNDEFINED


def test_context_none_is_empty() -> None:
    assert resolve("{a.b}", None) is UNDEFINED
    assert resolve("{a.b}") is UNDEFINED


# ------------------------------------------------------------------ literals


@pytest.mark.parametrize(
    "literal",
    [
        "plain text",
        "",
        "{unclosed",
        "closed}",
        "text {a.output.data.first_name} inside",
        42,
        -0.5,
        1e300,
        True,
        False,
        dt.date(2024, 3, 15),
        dt.datetime(2024, 3, 15, 13, 45, tzinfo=dt.timezone.utc),
    ],
)
def test_literals_pass_through(literal: Any) -> None:
    assert resolve(literal, CTX) == literal
    assert compile_rule(literal).evaluate(CTX) == literal


def test_null_fails_as_a_map_value_and_passes_as_a_field() -> None:
    """The original's mapper fails on ``null`` (at any depth); its field resolver keeps it."""
    for rule in (None, {"k": None}, [None]):
        with pytest.raises(MappingError, match="null cannot be a mapping rule"):
            resolve(rule, CTX)
        assert resolve(rule, CTX, field=True) == rule
    # A null cell inside a pipe is an ordinary value.
    assert resolve({"@pipe": [[None, "d"], ["{@conditional.nullish}"]]}) == "d"


def test_nan_and_infinity_literals_pass_through() -> None:
    assert math.isnan(resolve(math.nan, CTX))
    assert resolve(math.inf, CTX) == math.inf


def test_dicts_and_lists_resolve_recursively() -> None:
    """As map values, arrays resolve member by member into objects keyed by index."""
    rule = {
        "name": "{a.output.data.first_name}",
        "tags": ["fixed", "{$job.metadata.jid}", {"n": "{a.output.data.index}"}],
        "missing": "{a.output.data.nope}",
        "count": 3,
        "flag": False,
        "empty": {},
        "region": "{$app.settings.region}",
    }
    assert resolve(rule, CTX) == {
        "name": "Luke",
        "tags": {"0": "fixed", "1": "job-1", "2": {"n": 13}},
        "missing": UNDEFINED,
        "count": 3,
        "flag": False,
        "empty": {},
        "region": "eu",
    }
    # As a single field, an object or array is a literal.
    assert resolve(rule, CTX, field=True) == rule


def test_compiled_results_are_fresh_objects() -> None:
    rule = compile_rule({"obj": {}, "list": [1]})
    first = rule.evaluate({})
    first["obj"]["x"] = 1
    first["list"]["1"] = 2
    assert rule.evaluate({}) == {"obj": {}, "list": {"0": 1}}
    field = compile_rule({"obj": {}, "list": [1]}, field=True)
    second = field.evaluate({})
    second["list"].append(2)
    assert field.evaluate({}) == {"obj": {}, "list": [1]}


def test_nullary_function_cell() -> None:
    assert resolve("{@symbol.whitespace}") == " "
    assert resolve("{@symbol.undefined}") is UNDEFINED
    assert resolve({"x": "{@symbol.array}"}) == {"x": []}


# --------------------------------------------------------------------- pipes


def test_spec_user_name_pipe() -> None:
    rule = {
        "@pipe": [
            ["{a.output.data.first_name}", 0],
            ["{@string.charAt}", "{a.output.data.last_name}"],
            ["{@string.concat}"],
            ["{@string.toLowerCase}"],
        ]
    }
    assert resolve(rule, CTX) == "lbirdeau"


def test_cells_after_the_function_are_appended_not_passed() -> None:
    # ['{@math.add}', 100] adds the previous row (1 + 2) and *appends* 100.
    rule = {"@pipe": [[1, 2], ["{@math.add}", 100], ["{@math.subtract}"]]}
    assert resolve(rule, CTX) == 3 - 100


def test_multi_row_pipe_with_literals_and_references() -> None:
    rule = {
        "@pipe": [
            ["{$job.data.name}", " "],
            ["{@string.split}", 1],
            ["{@array.get}"],
            ["{@string.toUpperCase}", "-", "{$app.settings.region}"],
            ["{@string.concat}"],
        ]
    }
    assert resolve(rule, CTX) == "LOVELACE-eu"


def test_first_row_only() -> None:
    assert resolve({"@pipe": [["{a.output.data.index}", "ignored"]]}, CTX) == 13
    assert resolve({"@pipe": [[]]}, CTX) is UNDEFINED


def test_nested_pipes_fan_out_and_fan_in() -> None:
    rule = {
        "@pipe": [
            {
                "@pipe": [
                    [
                        "-sleep",
                        "{a.output.data.workflowDimension}",
                        "-",
                        "{a.output.data.index}",
                        "-",
                    ],
                    ["{@string.concat}"],
                ]
            },
            {"@pipe": [["{a.output.data.duration}"]]},
            ["{@object.create}"],
        ]
    }
    assert resolve(rule, CTX) == {"-sleep,0,0,1-13-": 1000}


def test_nested_pipes_after_a_row_pass_values_through() -> None:
    # The row values [5] pass the nested pipes unchanged; the queue feeds the next row.
    rule = {
        "@pipe": [
            [5],
            {"@pipe": [[2]]},
            {"@pipe": [[3]]},
            ["{@math.multiply}"],
        ]
    }
    assert resolve(rule, CTX) == 6


def test_spec_retry_condition() -> None:
    rule = {
        "@pipe": [
            {"@pipe": [["{cycle_hook.output.data.retryCount}"]]},
            {"@pipe": [["{trigger.output.data.maximumAttempts}", 5], ["{@conditional.nullish}"]]},
            ["{@conditional.less_than}"],
        ]
    }
    assert resolve(rule, {"cycle_hook": {"output": {"data": {"retryCount": 2}}}}) is True
    ctx = {
        "cycle_hook": {"output": {"data": {"retryCount": 2}}},
        "trigger": {"output": {"data": {"maximumAttempts": 2}}},
    }
    assert resolve(rule, ctx) is False


def test_deeply_nested_pipes() -> None:
    rule = {
        "@pipe": [
            {"@pipe": [{"@pipe": [["a"]]}, {"@pipe": [["b"]]}, ["{@string.concat}"]]},
            {"@pipe": [["c"], ["{@string.toUpperCase}"]]},
            ["{@string.concat}"],
        ]
    }
    assert resolve(rule) == "abC"


# -------------------------------------------------------------------- reduce


def test_spec_reduce_example() -> None:
    rule = {
        "@pipe": [
            ["{a.output.data.people}", []],
            {
                "@reduce": [
                    {"@pipe": [["{$output}"]]},
                    {
                        "@pipe": [
                            {"@pipe": [["first"]]},
                            {
                                "@pipe": [
                                    ["{$item.full_name}", " "],
                                    ["{@string.split}", 0],
                                    ["{@array.get}"],
                                ]
                            },
                            {"@pipe": [["last"]]},
                            {
                                "@pipe": [
                                    ["{$item.full_name}", " "],
                                    ["{@string.split}", 1],
                                    ["{@array.get}"],
                                ]
                            },
                            ["{@object.create}"],
                        ]
                    },
                    ["{@array.push}"],
                ]
            },
        ]
    }
    assert resolve(rule, CTX) == [
        {"first": "Luke", "last": "Birdeau"},
        {"first": "Jan", "last": "Doe"},
    ]
    # The context is never modified by a mapping, even with a mutating function.
    assert CTX["a"]["output"]["data"]["people"] == [
        {"full_name": "Luke Birdeau"},
        {"full_name": "Jan Doe"},
    ]


def test_reduce_sums_an_array() -> None:
    rule = {
        "@pipe": [
            ["{a.output.data.items}", 0],
            {"@reduce": [{"@pipe": [["{$output}"]]}, {"@pipe": [["{$item}"]]}, ["{@math.add}"]]},
        ]
    }
    assert resolve(rule, CTX) == 60


def test_reduce_over_an_object_with_keys() -> None:
    rule = {
        "@pipe": [
            ["{a.output.data.prices}", {}],
            {
                "@reduce": [
                    {"@pipe": [["{$output}"]]},
                    {"@pipe": [["{$key}"]]},
                    {"@pipe": [["{$item}", 2], ["{@math.multiply}"]]},
                    ["{@object.set}"],
                ]
            },
        ]
    }
    assert resolve(rule, CTX) == {"tea": 4, "cake": 7}
    assert CTX["a"]["output"]["data"]["prices"] == {"tea": 2, "cake": 3.5}


def test_reduce_walks_a_string_by_index() -> None:
    rule = {
        "@pipe": [
            ["abc", ""],
            {
                "@reduce": [
                    {"@pipe": [["{$item}"]]},
                    {"@pipe": [["{$output}"]]},
                    ["{@string.concat}"],
                ]
            },
        ]
    }
    assert resolve(rule) == "cba"


def test_reduce_index_key_and_input() -> None:
    rule = {
        "@pipe": [
            [["x", "y"], []],
            {
                "@reduce": [
                    {"@pipe": [["{$output}"]]},
                    {
                        "@pipe": [
                            ["{$key}", ":", "{$index}", "/", "{$input.length}"],
                            ["{@string.concat}"],
                        ]
                    },
                    ["{@array.push}"],
                ]
            },
        ]
    }
    assert resolve(rule) == ["0:0/2", "1:1/2"]


def test_reduce_body_of_a_single_nested_pipe_leaves_output_unchanged() -> None:
    rule = {
        "@pipe": [
            [[1, 2, 3], "start"],
            {"@reduce": [{"@pipe": [["{$item}"]]}]},
        ]
    }
    assert resolve(rule) == "start"


def test_reduce_default_output_is_null_and_initial_is_copied() -> None:
    assert resolve({"@pipe": [[[1, 2]], {"@reduce": [{"@pipe": [["{$item}"]]}]}]}) is None
    initial: list[Any] = []
    ctx = {"init": initial}
    rule = {
        "@pipe": [
            [[1], "{init}"],
            {"@reduce": [{"@pipe": [["{$output}"]]}, {"@pipe": [["{$item}"]]}, ["{@array.push}"]]},
        ]
    }
    assert resolve(rule, ctx) == [1]
    assert initial == []


def test_reduce_over_nothing_returns_the_initial_value() -> None:
    for source in (None, UNDEFINED, 5, True):
        rule = {"@pipe": [[source, "init"], {"@reduce": [["{$output}"]]}]}
        assert resolve(rule) == "init"


def test_reducer_variable_in_function_position_yields_its_value() -> None:
    rule = {
        "@pipe": [
            [[1, 2, 3], 0],
            {"@reduce": [["{$item}", "{$output}"], ["{@math.add}"]]},
        ]
    }
    assert resolve(rule) == 6


def test_nested_reduce() -> None:
    # Sum of the lengths of each row, each computed by an inner reduce.
    inner = {"@reduce": [{"@pipe": [["{$output}"]]}, {"@pipe": [[1]]}, ["{@math.add}"]]}
    rule = {
        "@pipe": [
            [[[1, 2], [3], [4, 5, 6]], 0],
            {
                "@reduce": [
                    {"@pipe": [["{$output}"]]},
                    {"@pipe": [["{$item}", 0], inner]},
                    ["{@math.add}"],
                ]
            },
        ]
    }
    assert resolve(rule) == 6


def test_spec_collator_reduce() -> None:
    rule = {
        "@pipe": [
            ["{$self.output.data.response}", {}],
            {
                "@reduce": [
                    {"@pipe": [["{$output}"]]},
                    {
                        "@pipe": [
                            {"@pipe": [["-"]]},
                            {"@pipe": [["{$item}", "type"], ["{@object.get}"]]},
                            {"@pipe": [["{worker.output.data.workflowDimension}"]]},
                            {"@pipe": [["-"]]},
                            {
                                "@pipe": [
                                    {"@pipe": [["{worker.output.data.index}"]]},
                                    {"@pipe": [["{$index}"]]},
                                    ["{@math.add}"],
                                ]
                            },
                            {"@pipe": [["-"]]},
                            ["{@string.concat}"],
                        ]
                    },
                    {"@pipe": [["{$item}"]]},
                    ["{@object.set}"],
                ]
            },
        ]
    }
    assert resolve(rule, CTX) == {
        "-sleep,0-3-": {"type": "sleep"},
        "-wait,0-4-": {"type": "wait"},
    }


# -------------------------------------------------------- malformed rules


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ({"@pipe": [{"@pipe": [["a"]]}, {"@pipe": [["b"]]}]}, "only of nested pipes"),
        ({"@pipe": []}, "non-empty list"),
        ({"@pipe": "x"}, "non-empty list"),
        ({"@pipe": [["a"], "{@string.concat}"]}, "row 1"),
        ({"@pipe": [["a"], []]}, "empty row"),
        ({"@pipe": [["a"], ["not a function"]]}, "first cell"),
        ({"@pipe": [["a"], ["{$job.data.x}"]]}, "first cell"),
        (
            {"@pipe": [{"@pipe": [["a"]]}, {"@reduce": [["{$output}"]]}, ["{@string.concat}"]]},
            "list row before",
        ),
        ("{@string.nope}", "unknown function"),
        ("{@strng.concat}", "did you mean {@string.concat}"),
        ("{@math}", "malformed function"),
        ({"x": {"@pipe": [["a"], ["{@math.ad}"]]}}, "@math.add"),
    ],
)
def test_malformed_rules_raise_mapping_error(rule: Any, fragment: str) -> None:
    with pytest.raises(MappingError, match=fragment.replace("{", r"\{").replace("$", r"\$")):
        compile_rule(rule, "a1.job.maps.total")


def test_mapping_error_names_path_and_rule() -> None:
    with pytest.raises(MappingError) as info:
        compile_rule({"total": {"@pipe": [["a"], ["{@math.ad}"]]}}, "a1.job.maps")
    err = info.value
    assert err.path is not None and err.path.startswith("a1.job.maps.total")
    assert "a1.job.maps.total" in str(err)
    assert err.rule == {"total": {"@pipe": [["a"], ["{@math.ad}"]]}}
    assert "{@math.add}" in str(err)


def test_runtime_errors_name_the_function_and_path() -> None:
    rule = compile_rule({"@pipe": [["ab", -1], ["{@string.repeat}"]]}, "w1.output.maps.x")
    with pytest.raises(MappingError, match=r"w1\.output\.maps\.x.*string\.repeat.*RangeError"):
        rule.evaluate({})


def test_references_list_the_paths_read() -> None:
    rule = compile_rule(
        {
            "a": "{t1.output.data.a}",
            "b": {
                "@pipe": [
                    ["{$job.data.x}", "{@date.now}", "{$item}"],
                    ["{@math.add}", "{$app.settings.y}"],
                    {
                        "@reduce": [
                            {"@pipe": [["{t1.output.data.a}"]]},
                            ["{@math.add}", "{w1.hook.data.z}"],
                        ]
                    },
                ]
            },
            "c": ["{$self.output.data.q}", "literal"],
        }
    )
    assert rule.references == (
        "t1.output.data.a",
        "$job.data.x",
        "$app.settings.y",
        "w1.hook.data.z",
        "$self.output.data.q",
    )
    assert compile_rule("{a.b}").references == ("a.b",)
    assert compile_rule(5).references == ()


def test_rule_kind_and_repr() -> None:
    assert compile_rule("{a.b}").kind == "reference"
    assert compile_rule("{@date.now}").kind == "function"
    assert compile_rule({"@pipe": [[1]]}).kind == "pipe"
    assert compile_rule({"a": 1}).kind == "object"
    assert compile_rule([1]).kind == "array"
    assert compile_rule("x").kind == "literal"
    assert "a1.x" in repr(compile_rule("{a.b}", "a1.x"))


def test_mutating_rules_do_not_change_the_context() -> None:
    ctx = {"t": {"items": [1, 2], "obj": {"a": 1}}}
    assert resolve({"@pipe": [["{t.items}", 3], ["{@array.push}"]]}, ctx) == [1, 2, 3]
    assert resolve({"@pipe": [["{t.obj}", "b", 2], ["{@object.set}"]]}, ctx) == {"a": 1, "b": 2}
    assert resolve({"@pipe": [["{t.items}"], ["{@array.pop}"]]}, ctx) == 2
    assert ctx == {"t": {"items": [1, 2], "obj": {"a": 1}}}


def test_literal_cells_are_not_shared_between_evaluations() -> None:
    rule = compile_rule({"@pipe": [[{}, "k", "{v}"], ["{@object.set}"]]})
    assert rule.evaluate({"v": 1}) == {"k": 1}
    assert rule.evaluate({}) == {"k": UNDEFINED}


def test_non_dict_context_roots() -> None:
    assert resolve("{0}", ["zero"]) == "zero"  # type: ignore[arg-type]
    assert resolve("{a}", "text") is UNDEFINED  # type: ignore[arg-type]


# Found by sweeping names against the original: its families are JavaScript objects, so
# the names they inherit from Object.prototype resolve too — `toString` answers
# '[object Undefined]', the others throw when called. They are no functions of the
# language: ours refuses them when the rule is compiled (a deliberate difference, see
# FIDELITY.md), except the object family's own hasOwnProperty, isPrototypeOf and
# propertyIsEnumerable.
@pytest.mark.parametrize("family", ["array", "math", "string", "number", "json", "symbol"])
@pytest.mark.parametrize(
    "name", ["toString", "toLocaleString", "valueOf", "constructor", "hasOwnProperty"]
)
def test_names_inherited_by_the_originals_families_are_no_functions(family: str, name: str) -> None:
    with pytest.raises(MappingError, match="unknown function"):
        compile_rule({"@pipe": [["x"], [f"{{@{family}.{name}}}"]]}, "a1.job.maps.v")


def test_the_object_familys_own_property_functions_remain() -> None:
    rule = {"@pipe": [[{"a": 1}, "a"], ["{@object.hasOwnProperty}"]]}
    assert compile_rule(rule, "a1.job.maps.v").evaluate({}) is True
