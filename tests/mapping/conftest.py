"""Shared fixtures of the mapping tests: a UTC process time zone and JS value decoding."""

from __future__ import annotations

import json
import math
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from original import install_original

from hotmesh_nb.mapping import UNDEFINED, JSDate

NODE_DIR = Path(__file__).parent / "node"


class Original:
    """The original's mapper in a long-running Node process (``node/oracle.js``)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            ["node", str(NODE_DIR / "oracle.js")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={
                "TZ": "UTC",
                "PATH": os.environ["PATH"],
                "HOTMESH_ORIGINAL": str(install_original()),
            },
        )

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        """One answer: ``{'result': tagged}`` or ``{'throws': 'TypeError'}``."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer: dict[str, Any] = json.loads(self.process.stdout.readline())
        return answer

    def close(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.process.stdout.close()


@pytest.fixture(scope="session")
def original() -> Iterator[Original]:
    """The original mapper, for differential tests (Node and npm are on every machine here)."""
    oracle = Original()
    try:
        yield oracle
    finally:
        oracle.close()


def encode(value: Any) -> Any:
    """Tagged JSON of a mapping value (the inverse of :func:`decode`)."""
    if value is UNDEFINED:
        return {"$u": 1}
    if isinstance(value, float):
        if value != value:
            return {"$n": "NaN"}
        if math.isinf(value):
            return {"$n": "Infinity" if value > 0 else "-Infinity"}
        if value == 0 and math.copysign(1, value) < 0:
            return {"$n": "-0"}
        return value
    if isinstance(value, JSDate):
        return {"$d": encode(value.time)}
    if isinstance(value, list):
        return {"$a": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"$o": [[k, encode(v)] for k, v in value.items()]}
    return value


@pytest.fixture(autouse=True)
def utc_timezone() -> Iterator[None]:
    """Run every mapping test with ``TZ=UTC`` (the Node tables were recorded so)."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


_NUMBERS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0": -0.0}


def decode(value: Any) -> Any:
    """Decode the tagged JSON written by ``node/gen_expected.js`` into mapping values."""
    if isinstance(value, dict):
        if "$u" in value:
            return UNDEFINED
        if "$n" in value:
            return _NUMBERS[value["$n"]]
        if "$d" in value:
            return JSDate(decode(value["$d"]))
        if "$a" in value:
            return [decode(v) for v in value["$a"]]
        return {k: decode(v) for k, v in value["$o"]}
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return float(value)  # JSON wrote the double's shortest form, not its exact value
    return value


def same(actual: Any, expected: Any) -> bool:
    """Deep JS SameValue, plus our representation rules (types, key order, ``int`` for
    integral numbers)."""
    if isinstance(expected, bool) or expected is None or expected is UNDEFINED:
        return actual is expected
    if isinstance(expected, (int, float)):
        if isinstance(actual, bool) or not isinstance(actual, (int, float)):
            return False
        if expected != expected:
            return actual != actual
        if expected == 0:
            return actual == 0 and math.copysign(1, actual) == math.copysign(1, expected)
        if isinstance(expected, int) and abs(expected) < 2**53 and not isinstance(actual, int):
            return False  # integral results must come back as int
        return actual == expected
    if isinstance(expected, str):
        return isinstance(actual, str) and actual == expected
    if isinstance(expected, JSDate):
        return isinstance(actual, JSDate) and same(actual.time, expected.time)
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same(a, e) for a, e in zip(actual, expected))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and list(actual) == list(expected)
            and all(same(actual[k], expected[k]) for k in expected)
        )
    return False
