"""Every mapping function against the answers of the original HotMesh 0.3.32.

``node/cases.js`` lists hand-written cases and edge-value sweeps (every
function with each of ``undefined``, ``null``, ``''``, ``0``, ``-0``, ``NaN``,
``Infinity``, big integers, numeric strings, unicode, arrays, objects and a
date in each of its first argument positions). ``node/gen_expected.js`` runs
them through the original's own mapper under Node 20 with ``TZ=UTC`` and
records the answers in ``node/expected.json``; ``test_expected_json_is_current``
re-runs it. Each case is resolved here exactly as the original resolved it: a
``@pipe`` whose first row reads the arguments from the context. A case whose
original call threw must raise :class:`~hotmesh_nb.errors.MappingError` here
(the engine's convention for a failing rule).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from original import install_original

from hotmesh_nb.errors import MappingError
from hotmesh_nb.mapping import function_names, resolve, strict_equals, to_js_string, to_json, truthy
from hotmesh_nb.mapping._compiler import call_function
from hotmesh_nb.mapping._function_registry import FUNCTIONS

from .conftest import decode, same

NODE_DIR = Path(__file__).parent / "node"
TABLE = json.loads((NODE_DIR / "expected.json").read_text())
CASES: list[dict[str, Any]] = TABLE["cases"]
# Functions whose result depends on the clock or randomness: tested in test_functions_misc.
NONDETERMINISTIC = {"@date.now", "@math.random", "@symbol.date", "@cron.nextDelay"}


def _ids() -> list[str]:
    seen: Counter[str] = Counter()
    ids = []
    for case in FUNCTION_CASES:
        seen[case["name"]] += 1
        ids.append(f"{case['name']}#{seen[case['name']]}")
    return ids


HELPERS: dict[str, Any] = {
    "helper.to_js_string": to_js_string,
    "helper.to_json": to_json,
    "helper.truthy": truthy,
    "helper.strict_equals": strict_equals,
}
FUNCTION_CASES = [c for c in CASES if not c["name"].startswith("helper.")]
HELPER_CASES = [c for c in CASES if c["name"].startswith("helper.")]


@pytest.mark.parametrize("case", HELPER_CASES, ids=lambda c: c["name"])
def test_helper_matches_node(case: dict[str, Any]) -> None:
    args = decode(case["args"])
    actual = HELPERS[case["name"]](*args)
    assert same(actual, decode(case["result"])), f"{case['name']}{tuple(args)!r}: {actual!r}"


def pipe_call(name: str, args: list[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The rule and context the recorder gave the original for ``name(*args)``."""
    if not args:
        return {"@pipe": [[f"{{@{name}}}"]]}, {}
    row = [f"{{d.a{i}}}" for i in range(len(args))]
    return {"@pipe": [row, [f"{{@{name}}}"]]}, {"d": {f"a{i}": a for i, a in enumerate(args)}}


@pytest.mark.parametrize("case", FUNCTION_CASES, ids=_ids())
def test_function_matches_the_original(case: dict[str, Any]) -> None:
    rule, context = pipe_call(case["name"], decode(case["args"]))
    if "throws" in case:
        with pytest.raises(MappingError, match=case["name"].split(".")[1]):
            resolve(rule, context)
        return
    expected = decode(case["result"])
    actual = resolve(rule, context)
    assert same(actual, expected), (
        f"{case['name']}{tuple(context.get('d', {}).values())!r}: {actual!r} != {expected!r}"
    )


@pytest.mark.parametrize("case", [c for c in FUNCTION_CASES if not c.get("sweep")][:300])
def test_direct_call_matches_the_pipe(case: dict[str, Any]) -> None:
    """``call_function`` (used by nullary ``'{@fn}'`` cells) agrees with a pipe row."""
    entry = FUNCTIONS["@" + case["name"]]
    args = decode(case["args"])
    if "throws" in case:
        with pytest.raises(MappingError):
            call_function(entry, args)
        return
    assert same(call_function(entry, args), decode(case["result"]))


def test_every_function_has_two_cases() -> None:
    counts = Counter("@" + c["name"] for c in FUNCTION_CASES)
    lacking = [n for n in function_names() if n not in NONDETERMINISTIC and counts[n] < 2]
    assert lacking == []


def test_tables_cover_only_known_functions() -> None:
    assert {"@" + c["name"] for c in FUNCTION_CASES} <= set(function_names())


def test_function_count() -> None:
    families = {n.split(".")[0] for n in function_names()}
    assert families == {
        "@array", "@bitwise", "@conditional", "@cron", "@date", "@json", "@logical",
        "@math", "@number", "@object", "@string", "@symbol", "@unary",
    }  # fmt: skip


def _pipeable(case: dict[str, Any]) -> bool:
    # An argument that looks like '{...}' would be read as a reference inside a pipe.
    args = decode(case["args"])
    return not any(isinstance(a, str) and a.startswith("{") for a in args)


@pytest.mark.parametrize(
    "case",
    [
        c
        for c in FUNCTION_CASES
        if "throws" not in c and c["name"].startswith(("string.", "math.")) and _pipeable(c)
    ][:40],
)
def test_same_results_through_a_pipe(case: dict[str, Any]) -> None:
    """Calling through ``@pipe`` rows gives what the direct call gives."""
    args = decode(case["args"])
    rule = (
        {"@pipe": [args, [f"{{@{case['name']}}}"]]}
        if args
        else {"@pipe": [[f"{{@{case['name']}}}"]]}
    )
    assert same(resolve(rule, {}), decode(case["result"]))


@pytest.mark.skipif(shutil.which("npm") is None, reason="node/npm are not installed")
def test_expected_json_is_current(tmp_path: Path) -> None:
    """Re-running the original reproduces ``expected.json`` (the tables are not hand-edited)."""
    original = install_original()
    for name in ("cases.js", "gen_expected.js"):
        shutil.copy(NODE_DIR / name, tmp_path / name)
    subprocess.run(
        ["node", "gen_expected.js"],
        cwd=tmp_path,
        env={"TZ": "UTC", "PATH": os.environ["PATH"], "HOTMESH_ORIGINAL": str(original)},
        check=True,
        capture_output=True,
        timeout=120,
    )
    fresh = json.loads((tmp_path / "expected.json").read_text())
    assert fresh == TABLE


def test_to_json_of_table_results_matches_node_stringify() -> None:
    """``to_json`` of every JSON-able result equals the ``@json.stringify`` rows' style."""
    for case in CASES:
        if case["name"] == "json.stringify" and "result" in case:
            value = decode(case["args"])[0]
            if len(decode(case["args"])) == 1:
                assert to_json(value) == decode(case["result"])
