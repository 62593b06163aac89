"""A catastrophic regular expression fails with a clear error instead of freezing the process.

``@string.search`` turns its argument into a regular expression. A pattern
with nested, overlapping repetition backtracks exponentially on a near-miss
input; unbounded, it would hold the interpreter and stop every engine of the
process. The match is bounded in time (``REGEX_TIMEOUT_SECONDS``) and fails
with a :class:`~hotmesh_nb.errors.MappingError` naming the pattern.
"""

from __future__ import annotations

import pytest

from hotmesh_nb.errors import MappingError
from hotmesh_nb.mapping import resolve
from hotmesh_nb.mapping._jsregex import REGEX_TIMEOUT_SECONDS, js_search

NEAR_MISS = "a" * 5000 + "!"


def search(text: str, pattern: str) -> object:
    return resolve({"@pipe": [["{d.text}", "{d.pattern}"], ["{@string.search}"]]},
                   {"d": {"text": text, "pattern": pattern}})  # fmt: skip


@pytest.mark.timeout(60)
@pytest.mark.parametrize("pattern", ["(a+)+$", "(a|a)+$", "(a|aa|a)+$"])
def test_catastrophic_search_raises_a_clear_error(pattern: str) -> None:
    with pytest.raises(MappingError) as caught:
        search(NEAR_MISS, pattern)
    message = str(caught.value)
    assert "@string.search" in message
    assert pattern in message
    assert "catastrophic backtracking" in message
    assert f"{REGEX_TIMEOUT_SECONDS:g} s" in message


@pytest.mark.timeout(60)
def test_a_short_near_miss_still_gets_the_javascript_answer() -> None:
    """On a short input the same pattern finishes, with the original's answer (-1)."""
    assert search("a" * 18 + "!", "(a+)+$") == -1


@pytest.mark.timeout(60)
def test_the_engine_rule_error_names_the_rule_path() -> None:
    from hotmesh_nb.mapping import compile_rule

    rule = compile_rule(
        {"@pipe": [["{a.output.data.s}", "(a|a)+$"], ["{@string.search}"]]}, "a1.output.maps.at"
    )
    with pytest.raises(MappingError) as caught:
        rule.evaluate({"a": {"output": {"data": {"s": NEAR_MISS}}}})
    assert caught.value.path is not None


def test_ordinary_patterns_keep_their_answers() -> None:
    assert js_search("l+", "hello") == 2
    assert js_search("(\\w+\\s?)+!$", "abc abc!") == 0
    assert js_search("z", "hello") == -1


def test_a_new_array_index_extends_the_array_whatever_its_flags() -> None:
    # Found by the property test against the original: JSON writes every index of an
    # array below its length, so a non-enumerable index property still shows.
    from hotmesh_nb.mapping import UNDEFINED, resolve

    assert resolve({"@pipe": [[[], [[]]], ["{@object.defineProperties}"]]}, {}) == [UNDEFINED]
    rule = {"@pipe": [[[1], "3", {"value": 5}], ["{@object.defineProperty}"]]}
    assert resolve(rule, {}) == [1, UNDEFINED, UNDEFINED, 5]
