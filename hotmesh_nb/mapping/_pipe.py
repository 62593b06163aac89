"""``@pipe`` and ``@reduce``: rows of cells evaluated left to right, top to bottom.

* Row 0 (a list) is resolved cell by cell.
* A later list row calls its first cell (a function, or a reducer variable
  that simply yields its value) with the previous row's values; the row's
  remaining cells are resolved and *appended* to the result.
* A nested ``@pipe`` row is evaluated on its own and queued; the previous
  values pass through. The next list row takes the queue as its arguments
  (fan-out / fan-in).
* A ``@reduce`` row walks ``values[0]`` (array, object or string) starting
  from a deep copy of ``values[1]`` (``null`` by default), running its body
  as a pipe seeded with ``[$output]`` for every item. As the first row of a
  pipe it has no values to walk: it is skipped, and the next row gets none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._compiler import Compiler, Ev, function_error
from ._objects import clone, dict_get, own_keys
from ._utf16 import units
from ._values import UNDEFINED

__all__ = ["compile_pipe"]

# A step maps (context, reducer ctx, resolved values, queue) to the new values.
Step = Callable[[Any, "dict[str, Any] | None", "list[Any] | None", list[Any]], "list[Any] | None"]


def _kind(row: Any) -> str:
    if isinstance(row, list):
        return "row"
    if isinstance(row, dict) and len(row) == 1 and "@pipe" in row:
        return "pipe"
    if isinstance(row, dict) and len(row) == 1 and "@reduce" in row:
        return "reduce"
    return "bad"


def _rows(comp: Compiler, rows: Any, where: str) -> list[Any]:
    if not isinstance(rows, list) or not rows:
        raise comp.error("'@pipe' / '@reduce' needs a non-empty list of rows", where)
    for i, row in enumerate(rows):
        if _kind(row) == "bad":
            raise comp.error(
                f"row {i} must be a list of cells or a nested '@pipe' / '@reduce' (got {row!r})",
                f"{where}[{i}]",
            )
    return rows


def compile_pipe(comp: Compiler, rows: Any, where: str) -> Ev:
    """Compile the rows of a ``@pipe`` into an evaluator."""
    run = _compile_program(comp, rows, where, seeded=False)
    return lambda c, r: run(c, r, None)


def _compile_program(
    comp: Compiler, rows: Any, where: str, *, seeded: bool
) -> Callable[[Any, Any, list[Any] | None], Any]:
    rows = _rows(comp, rows, where)
    first: list[Ev] | None = None
    start = 0
    if not seeded and _kind(rows[0]) == "row":
        first = [
            comp.string(c, f"{where}[0]") if isinstance(c, str) else _literal(c) for c in rows[0]
        ]
        start = 1
    elif not seeded and _kind(rows[0]) == "reduce":
        # The original reads a first row as cells, and a '@reduce' there has
        # none: it is skipped and the pipe goes on with no values.
        first = []
        start = 1
    # Static check of what the original would throw on at run time.
    has_values = seeded or first is not None
    steps: list[Step] = []
    for i in range(start, len(rows)):
        row, at = rows[i], f"{where}[{i}]"
        kind = _kind(row)
        if kind == "reduce":
            if not has_values:
                raise comp.error("'@reduce' needs a list row before it (its input values)", at)
            steps.append(_reduce_step(comp, row["@reduce"], f"{at}.@reduce"))
        elif kind == "pipe":
            steps.append(_pipe_step(comp, row["@pipe"], f"{at}.@pipe"))
        else:
            steps.append(_call_step(comp, row, at))
            has_values = True
    if not has_values:
        raise comp.error("a '@pipe' made only of nested pipes has no value; add a list row", where)

    def run(ctx: Any, rctx: dict[str, Any] | None, seed: list[Any] | None) -> Any:
        values = seed if first is None else [ev(ctx, rctx) for ev in first]
        queue: list[Any] = []
        for step in steps:
            values = step(ctx, rctx, values, queue)
        return values[0] if values else UNDEFINED

    return run


def _literal(value: Any) -> Ev:
    if isinstance(value, (dict, list)):
        return lambda _c, _r: clone(value)
    return lambda _c, _r: value


def _cells(comp: Compiler, cells: list[Any], where: str) -> list[Ev]:
    return [comp.string(c, where) if isinstance(c, str) else _literal(c) for c in cells]


def _call_step(comp: Compiler, row: list[Any], where: str) -> Step:
    if not row:
        raise comp.error("an empty row has no function to call", where)
    head, params = row[0], _cells(comp, row[1:], where)
    rule = comp.rule
    var = comp.reducer_var(head) if isinstance(head, str) and head.startswith("{$") else None
    if isinstance(head, str) and head.endswith("}") and var is not None:
        # A reducer variable in function position yields its value (no call).
        get = comp.string(head, where)

        def var_step(ctx: Any, rctx: Any, values: Any, queue: list[Any]) -> list[Any]:
            if queue:
                queue.clear()
            return [get(ctx, rctx), *(p(ctx, rctx) for p in params)]

        return var_step
    if not (isinstance(head, str) and head.startswith("{@") and head.endswith("}")):
        raise comp.error(
            "the first cell of a row after the first must be a function like "
            f"'{{@string.concat}}' or a reducer variable (got {head!r})",
            where,
        )
    entry = comp.function(head, where)
    fn, max_args = entry.fn, entry.max_args

    def call_step(ctx: Any, rctx: Any, values: Any, queue: list[Any]) -> list[Any]:
        if queue:
            args = queue.copy()
            queue.clear()
        else:
            args = values
        if max_args is not None and len(args) > max_args:
            args = args[:max_args]
        try:
            result = fn(*args)
        except Exception as exc:
            raise function_error(exc, entry, rule, where) from exc
        if not params:
            return [result]
        return [result, *(p(ctx, rctx) for p in params)]

    return call_step


def _pipe_step(comp: Compiler, rows: Any, where: str) -> Step:
    run = _compile_program(comp, rows, where, seeded=False)

    def pipe_step(ctx: Any, rctx: Any, values: Any, queue: list[Any]) -> Any:
        queue.append(run(ctx, rctx, None))
        return values

    return pipe_step


def _reduce_step(comp: Compiler, rows: Any, where: str) -> Step:
    body = _compile_program(comp, rows, where, seeded=True)

    def reduce_step(ctx: Any, rctx: Any, values: Any, queue: list[Any]) -> list[Any]:
        source = values[0] if values else UNDEFINED
        initial = values[1] if len(values) > 1 else UNDEFINED
        output = None if initial is None or initial is UNDEFINED else clone(initial)
        for index, key, item in _walk(source):
            scope = {
                "$input": source,
                "$output": output,
                "$item": item,
                "$key": key,
                "$index": index,
            }
            output = body(ctx, scope, [output])
        return [output]

    return reduce_step


def _walk(source: Any) -> list[tuple[int, str, Any]]:
    """(index, key, item) triples of a reduce input: array, object or string (by index)."""
    if isinstance(source, list):
        return [(i, str(i), item) for i, item in enumerate(source)]
    if isinstance(source, dict):
        return [(i, k, dict_get(source, k)) for i, k in enumerate(own_keys(source))]
    if isinstance(source, str):
        return [(i, str(i), ch) for i, ch in enumerate(units(source))]
    return []
