"""Searchable fields of a workflow, read and written from workflow code.

Fields live in the workflow's job hash as ``_<name>`` strings (what MeshData
and ``FT.SEARCH`` index). Writes are durable calls: each runs once, its
result recorded in the ledger, so a replay neither repeats an ``incr`` nor
loses it. Reads (``get``, ``mget``) are live: they see writes of concurrent
hook threads, which makes them the one non-replayed input of a workflow —
branch on them only when that is what you want.
"""

from __future__ import annotations

from typing import Any

from ..mapping import to_js_string
from ._context import Run, next_index
from ._ledger import result_field


def _field(name: str) -> str:
    return name if name.startswith("_") else f"_{name}"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else to_js_string(value)


class WorkflowSearch:
    """Searchable fields of the running workflow (or, in a hook thread, its target)."""

    def __init__(self, run: Run) -> None:
        self._run = run

    async def _mutate(self, op: str, args: list[str]) -> str:
        run = self._run
        index = next_index()
        run.info.counter += 1
        field = result_field("search", index)
        stored = run.ledger.search.get(field)
        if stored is not None:
            return stored
        result = await run.bridge(
            run.services.search_op(run.info.workflow_id, run.info.search_id, field, op, args)
        )
        run.ledger.search[field] = result  # what a parked run knows
        return result

    async def set(self, *pairs: Any, **fields: Any) -> int:
        """Set fields: ``set({'a': 1})``, ``set('a', 1, 'b', 2)`` or ``set(a=1)``.

        Returns how many fields were new.
        """
        values: dict[str, Any] = {}
        if len(pairs) == 1 and isinstance(pairs[0], dict):
            values.update(pairs[0])
        else:
            values.update(zip(pairs[::2], pairs[1::2], strict=True))
        values.update(fields)
        args: list[str] = []
        for name, value in values.items():
            args += [_field(str(name)), _text(value)]
        return int(await self._mutate("set", args))

    async def get(self, name: str) -> str | None:
        """A field's current value (a live read)."""
        run = self._run
        values = await run.bridge(run.services.search_get(run.info.search_id, [_field(name)]))
        return values[0]

    async def mget(self, *names: str) -> list[str | None]:
        """Several fields' current values (a live read)."""
        run = self._run
        return await run.bridge(
            run.services.search_get(run.info.search_id, [_field(n) for n in names])
        )

    async def delete(self, *names: str) -> int:
        """Delete fields; returns how many existed."""
        return int(await self._mutate("del", [_field(n) for n in names]))

    async def incr(self, name: str, amount: float = 1) -> float:
        """Add ``amount`` to a numeric field (atomic, once); returns the new value."""
        return _number(await self._mutate("incr", [_field(name), _text(amount)]))

    async def mult(self, name: str, factor: float) -> float:
        """Multiply a numeric field by ``factor`` (atomic, once); returns the new value."""
        return _number(await self._mutate("mult", [_field(name), _text(factor)]))


def _number(text: str) -> float:
    value = float(text)
    return int(value) if value.is_integer() else value
