"""Value representation, clock/random functions, UTF-16 strings, frozen objects, cron.

JavaScript expectations here were checked with Node 20 (``node -e``).
"""

from __future__ import annotations

import copy
import math
import pickle
import time
from typing import Any

import pytest

from hotmesh_nb.errors import MappingError
from hotmesh_nb.mapping import (
    UNDEFINED,
    JSDate,
    compile_rule,
    function_names,
    is_undefined,
    resolve,
    to_js_string,
    to_json,
)
from hotmesh_nb.mapping.functions._cron_functions import is_valid_cron


def pipe(*rows: Any) -> Any:
    return resolve({"@pipe": list(rows)})


def test_undefined_singleton() -> None:
    assert repr(UNDEFINED) == "UNDEFINED"
    assert not UNDEFINED
    assert UNDEFINED is not None
    assert is_undefined(UNDEFINED) and not is_undefined(None)
    assert copy.deepcopy(UNDEFINED) is UNDEFINED
    assert pickle.loads(pickle.dumps(UNDEFINED)) is UNDEFINED
    assert type(UNDEFINED)() is UNDEFINED


def test_numbers_come_back_as_int_when_integral() -> None:
    assert pipe([2.5, 2], ["{@math.multiply}"]) == 5
    assert type(pipe([2.5, 2], ["{@math.multiply}"])) is int
    assert to_json(pipe([2.5, 2], ["{@math.multiply}"])) == "5"
    negzero = pipe([0], ["{@unary.negative}"])
    assert isinstance(negzero, float) and math.copysign(1, negzero) == -1
    assert to_js_string(negzero) == "0"
    assert type(pipe([2**53, 2], ["{@math.multiply}"])) is float  # outside the safe range
    assert to_json(float(2**60)) == "1152921504606847000"  # node: JSON.stringify(2**60)


def test_to_json_cycles_and_unknown_types_raise_mapping_error() -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    with pytest.raises(MappingError, match="circular"):
        to_json(cyclic)
    with pytest.raises(MappingError):
        to_json({1, 2})
    assert to_js_string(cyclic) == ""  # node: String(a) where a = [a]


def test_js_date_values() -> None:
    date = resolve("{@date.fromISOString}")
    assert isinstance(date, JSDate) and not date.is_valid()
    d = pipe(["2024-03-15T13:45:30.123Z"], ["{@date.fromISOString}"])
    assert repr(d) == "JSDate('2024-03-15T13:45:30.123Z')"
    assert to_json({"at": d}) == '{"at":"2024-03-15T13:45:30.123Z"}'
    assert d.to_datetime().isoformat() == "2024-03-15T13:45:30.123000+00:00"
    assert pipe([d], ["{@date.getUTCHours}"]) == 13
    import datetime as dt

    assert pipe([dt.datetime(2024, 3, 15, 1, 2, 3)], ["{@date.getTime}"]) == 1710464523000


def test_clock_functions() -> None:
    before = int(time.time() * 1000)
    now = resolve("{@date.now}")
    after = int(time.time() * 1000) + 1
    assert isinstance(now, int) and before <= now <= after
    stamp = resolve("{@symbol.date}")
    assert isinstance(stamp, JSDate) and before <= stamp.time <= after
    compact = pipe([0], ["{@date.toISOXString}"])  # falsy input: the current time
    assert len(compact) == 18 and compact[14] == "." and compact.startswith(time.strftime("%Y"))
    assert resolve("{@date.toISOXString}")[:8] == time.strftime("%Y%m%d", time.gmtime())


def test_random() -> None:
    values = {resolve("{@math.random}") for _ in range(20)}
    assert all(0 <= v < 1 for v in values) and len(values) > 1


@pytest.mark.parametrize(
    ("expression", "valid"),
    [
        ("* * * * *", True),
        ("0 12 * * 1-5", True),
        ("59 23 31 12 6", True),
        ("*/5 * * * *", False),  # steps are rejected by the original's check
        ("0 0 * * MON", False),
        ("60 * * * *", False),
        ("* * * *", False),
        (5, False),
    ],
)
def test_cron_validation(expression: Any, valid: bool) -> None:
    assert is_valid_cron(expression) is valid
    delay = pipe([expression], ["{@cron.nextDelay}"])
    if not valid:
        assert delay == -1
    else:
        assert isinstance(delay, int) and delay > 0


def test_cron_next_delay_is_clamped_to_fidelity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HMSH_FIDELITY_SECONDS", "5")
    assert 5 <= pipe(["* * * * *"], ["{@cron.nextDelay}"]) <= 60
    monkeypatch.setenv("HMSH_FIDELITY_SECONDS", "3600")
    assert pipe(["* * * * *"], ["{@cron.nextDelay}"]) == 3600
    assert pipe(["0 0 31 2 *"], ["{@cron.nextDelay}"]) == -1  # never fires (Feb 31)


def test_utf16_indexes() -> None:
    # node: 'a😀b'.length === 4, 'a😀b'.charAt(1) is a lone surrogate, slice(1, 3) is the emoji
    assert pipe(["a😀b"], ["{@array.length}"]) == 4
    assert pipe(["a😀b", 1, 3], ["{@string.slice}"]) == "😀"
    assert pipe(["a😀b", 1], ["{@string.charAt}"]) == "\ud83d"
    assert to_json(pipe(["a😀b", 1], ["{@string.charAt}"])) == '"\\ud83d"'
    assert pipe(["😀", 3, "x"], ["{@string.padStart}"]) == "x😀"


def test_frozen_objects() -> None:
    assert pipe([{"a": 1}], ["{@object.freeze}"], ["{@object.isFrozen}"]) is True
    assert pipe([{"a": 1}], ["{@object.seal}"], ["{@object.isSealed}"]) is True
    assert pipe([{"a": 1}], ["{@object.seal}"], ["{@object.isFrozen}"]) is False
    assert pipe([{}], ["{@object.preventExtensions}"], ["{@object.isFrozen}"]) is True
    assert pipe([[1]], ["{@object.preventExtensions}"], ["{@object.isExtensible}"]) is False
    with pytest.raises(MappingError, match="TypeError"):
        pipe([{"a": 1}], ["{@object.freeze}", "b", 2], ["{@object.set}"])
    with pytest.raises(MappingError, match="TypeError"):
        pipe([[1]], ["{@object.freeze}", 2], ["{@array.push}"])
    # A sealed object's existing properties stay writable (node: Object.seal).
    assert pipe([{"a": 1}], ["{@object.seal}", "a", 2], ["{@object.set}"]) == {"a": 2}
    assert (
        pipe([{"a": 1}], ["{@object.freeze}"], ["{@object.getOwnPropertyDescriptor}", "a"])
        is not None
    )


def test_integer_keys_come_first() -> None:
    # node: Object.keys({b: 1, 10: 2, 2: 3}) → ['2', '10', 'b']
    assert list(pipe(["b", 1, "10", 2, "2", 3], ["{@object.create}"])) == ["2", "10", "b"]
    assert to_json({"b": 1, "10": 2, "2": 3}) == '{"2":3,"10":2,"b":1}'


def test_function_names() -> None:
    names = function_names()
    assert names == sorted(names) and len(names) == len(set(names))
    assert "@string.concat" in names and "@cron.nextDelay" in names
    assert all(n.startswith("@") and n.count(".") == 1 for n in names)


def test_extra_arguments_are_ignored() -> None:
    assert pipe(["ab", 1, "extra", "more"], ["{@string.charAt}"]) == "b"


def test_compile_once_evaluate_many() -> None:
    rule = compile_rule(
        {"total": {"@pipe": [["{t1.output.data.a}", "{t1.output.data.b}"], ["{@math.add}"]]}}
    )
    for i in range(5):
        assert rule.evaluate({"t1": {"output": {"data": {"a": i, "b": 1}}}}) == {"total": i + 1}
    assert rule({"t1": {"output": {"data": {"a": "x", "b": 1}}}}) == {"total": "0x1"}


def test_regex_errors_are_mapping_errors() -> None:
    with pytest.raises(MappingError, match="SyntaxError"):
        pipe(["abc", "("], ["{@string.search}"])
    with pytest.raises(MappingError, match="SyntaxError"):
        pipe(["abc", "[a"], ["{@string.search}"])


def test_huge_strings_raise_range_error() -> None:
    with pytest.raises(MappingError, match="Invalid string length"):
        pipe(["ab", 2**30], ["{@string.repeat}"])
    with pytest.raises(MappingError, match="Invalid string length"):
        pipe(["ab", 2**30], ["{@string.padEnd}"])
