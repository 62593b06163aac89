"""The fast JSON path (orjson, when installed) writes and reads exactly what the standard one does.

Both paths run in the same process: the standard one is the codec with its fast
functions switched off. Whatever orjson would write differently must fall back,
so stored text never depends on which extras are installed.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from hotmesh_nb import _codec as codec
from hotmesh_nb.mapping import UNDEFINED

keys = hs.one_of(
    hs.text(max_size=6),
    hs.sampled_from(["0", "1", "10", "01", "-1", "4294967295", "2e3", "a1"]),
)
leaves = hs.one_of(
    hs.none(),
    hs.booleans(),
    hs.integers(),
    hs.integers(min_value=-(2**70), max_value=2**70),
    hs.floats(allow_nan=True, allow_infinity=True),
    hs.sampled_from([1e16, 1e-5, 1.5e-7, 0.0001, -0.0, 1e300, 5e-324, 123.0]),
    hs.text(),
)
values = hs.recursive(
    leaves,
    lambda inner: hs.one_of(
        hs.lists(inner, max_size=4),
        hs.dictionaries(keys, inner, max_size=4),
    ),
    max_leaves=20,
)


def _both(fn: Any, value: Any) -> tuple[Any, Any]:
    fast = fn(value)
    saved = codec._fast_dumps, codec._fast_loads
    codec._fast_dumps = codec._fast_loads = None
    try:
        plain = fn(value)
    finally:
        codec._fast_dumps, codec._fast_loads = saved
    return fast, plain


def _same(a: Any, b: Any) -> bool:
    # Equal, with NaN equal to NaN and the sign of zero and int/float kept apart.
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return bool(a == b)


@settings(max_examples=400, deadline=None)
@given(values)
def test_dumps_writes_the_same_text_on_both_paths(value: Any) -> None:
    fast, plain = _both(codec.dumps, value)
    assert fast == plain


@settings(max_examples=400, deadline=None)
@given(values)
def test_loads_reads_the_same_values_on_both_paths(value: Any) -> None:
    text = codec.dumps(value)
    fast, plain = _both(codec.loads, text)
    assert _same(fast, plain)
    fast_bytes, plain_bytes = _both(codec.loads, text.encode())
    assert _same(fast_bytes, plain_bytes)


@settings(max_examples=200, deadline=None)
@given(hs.dictionaries(hs.text(max_size=6), values, max_size=4))
def test_check_value_accepts_and_refuses_the_same_on_both_paths(value: Any) -> None:
    def check(v: Any) -> Any:
        try:
            return codec.check_value(v, "data")
        except codec.PayloadError as exc:
            return ("refused", str(exc))

    fast, plain = _both(check, value)
    assert fast == plain


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "2": 2, "1": 1},
        {"when": UNDEFINED, "n": [UNDEFINED, 1]},
        [float("nan"), float("inf"), 1e16],
        {"big": 2**64, "small": -(2**63)},
        "\ud800",
        {1: "int key"},
    ],
)
def test_values_orjson_would_write_differently_take_the_standard_path(value: Any) -> None:
    fast, plain = _both(codec.dumps, value)
    assert fast == plain


def test_text_orjson_would_read_differently_takes_the_standard_path() -> None:
    for text in ['{"n":18446744073709551616}', '"\\ud800"', "NaN", "[1E400]", '{"n":-0.0}']:
        with_fast = _both(codec.loads, text)
        assert _same(*with_fast), text
    assert codec.loads("18446744073709551616") == 2**64


@settings(max_examples=1000, deadline=None)
@given(hs.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_float_writes_the_same_text_on_both_paths(value: float) -> None:
    # The exponent forms are where orjson and Python part ways (1e-7 against 1e-07).
    for wrapped in ([value], {"x": value}):
        fast, plain = _both(codec.dumps, wrapped)
        assert fast == plain


@pytest.mark.parametrize("exponent", range(-330, 310))
def test_floats_of_every_exponent_write_the_same_text_on_both_paths(exponent: int) -> None:
    for mantissa in (1.0, -1.5, 9.999999):
        try:
            value = mantissa * 10.0**exponent
        except OverflowError:
            continue
        fast, plain = _both(codec.dumps, [value])
        assert fast == plain


@pytest.mark.skipif(codec._fast_dumps is None, reason="the fast path needs orjson")
def test_ids_with_a_digit_before_an_e_keep_the_fast_path() -> None:
    # Random ids hold "1e", "9eK"…: those are not float exponents and must not send a
    # stream message down the standard path.
    message = {"g": "HVfIePZi1YIBEJ1eKLfRyjQ", "j": "Hb2e-x3E_Q", "ts": 1796362274655}
    assert codec._fast_text(message) == codec._encode(message)


@pytest.mark.parametrize(
    "text",
    [
        b'{"1":"a"}',  # a key starting with a digit, first in its object
        b'[{"5":1}]',
        b'{"a":1,"2":2}',  # ... or after another key
        b'{"x":1e-7}',  # exponents orjson writes otherwise
        b"[-1e-7]",
        b"[1e16]",
        b"[2.5e300]",
        b"[0.00001]",  # four zeros after the point
        b"[-0.00001]",
    ],
)
def test_every_form_orjson_may_write_otherwise_is_flagged(text: bytes) -> None:
    assert codec._differs(text)


@pytest.mark.parametrize(
    "text",
    [
        b'{"k":"work","g":"Abc123xyz0","j":"H8fK3eQ2x9Lm","ts":1733310000123,"d":",0"}',
        b'{"data":{"args":"[5]","n":-12,"f":1.25},"code":200}',
        b'["a-1","on 2024-01-02",-3,0.5]',
    ],
)
def test_common_messages_keep_the_fast_path(text: bytes) -> None:
    assert not codec._differs(text)


def test_a_user_value_without_floats_needs_no_second_look(monkeypatch: pytest.MonkeyPatch) -> None:
    assert codec._fast_dumps is not None, "the dev extra installs orjson: the fast path"
    looked: list[bytes] = []
    real = codec._differs
    monkeypatch.setattr(codec, "_differs", lambda raw: looked.append(raw) or real(raw))
    plain = {"id": "Ab1e5", "n": [1, -2, 2**62], "ok": True, "none": None, "1a": "x"}
    assert codec.check_value(plain, "data") == codec._encode(plain)
    assert looked == []
    # A float is the one thing orjson may write in another form: that text is looked at.
    assert codec.check_value({"f": 1e-7}, "data") == '{"f":1e-07}'
    assert looked == [b'{"f":1e-7}']
