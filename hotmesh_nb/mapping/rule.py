"""Compiled rules: parse once with :func:`compile_rule`, evaluate for every job."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from hotmesh_nb.errors import MappingError

from .compiler import Compiler

__all__ = ["Rule", "compile_rule", "resolve"]

_EMPTY: dict[str, Any] = {}


class Rule:
    """A compiled mapping rule.

    ``references`` lists the context paths the rule reads (dotted strings such
    as ``'a1.output.data.total'``, ``'$job.metadata.jid'``), without functions
    or reducer variables, in order of first appearance.
    """

    __slots__ = ("_ev", "kind", "path", "references", "source")

    def __init__(self, source: Any, path: str | None = None) -> None:
        comp = Compiler(source, path)
        self._ev = comp.node(source, path)
        self.source = source
        self.path = path
        self.references: tuple[str, ...] = tuple(comp.references)
        self.kind = _kind(source)

    def evaluate(self, context: Any = None) -> Any:
        """The rule's value in ``context`` (the job context tree; ``None`` means empty)."""
        try:
            return self._ev(_EMPTY if context is None else context, None)
        except RecursionError as exc:
            raise MappingError(
                "value nested too deeply to evaluate", rule=self.source, path=self.path
            ) from exc

    __call__ = evaluate

    def __repr__(self) -> str:
        where = f", path={self.path!r}" if self.path else ""
        return f"Rule({self.source!r}{where})"


def _kind(source: Any) -> str:
    """``'reference'``, ``'function'``, ``'pipe'``, ``'object'``, ``'array'`` or ``'literal'``."""
    if isinstance(source, str) and len(source) >= 2 and source[0] == "{" and source[-1] == "}":
        return "function" if source.startswith("{@") else "reference"
    if isinstance(source, dict):
        return "pipe" if "@pipe" in source else "object"
    if isinstance(source, list):
        return "array"
    return "literal"


def compile_rule(rule: Any, path: str | None = None) -> Rule:
    """Compile ``rule`` once; evaluate it many times with ``Rule.evaluate(context)``.

    ``path`` names where the rule lives (e.g. ``'a1.job.maps.total'``) and is
    part of every :class:`~hotmesh_nb.errors.MappingError` it raises. A
    malformed rule (unknown function, bad ``@pipe`` shape) raises here.
    """
    try:
        return Rule(rule, path)
    except RecursionError as exc:
        raise MappingError("rule nested too deeply", rule=rule, path=path) from exc


@lru_cache(maxsize=4096)
def _cached(rule: str) -> Rule:
    return Rule(rule)


def resolve(rule: Any, context: Any = None) -> Any:
    """Evaluate a mapping rule against a job context — the mapping language's front door.

    ``rule`` is any YAML value: literals pass through; ``'{a.b.c}'`` reads a
    path (missing → ``UNDEFINED``); ``'{@family.fn}'`` calls a function with no
    arguments; ``{'@pipe': [...]}`` runs a pipe; other dicts and lists resolve
    member by member. ``context`` is the job context tree, e.g.
    ``{'t1': {'output': {'data': {...}}}, '$job': {...}, '$app': {'settings': {...}}}``.

    >>> resolve({'@pipe': [['{a.x}', 2], ['{@math.multiply}']]}, {'a': {'x': 21}})
    42
    """
    if isinstance(rule, str):
        if len(rule) < 2 or rule[0] != "{":
            return rule
        return _cached(rule).evaluate(context)
    if isinstance(rule, (dict, list)):
        return compile_rule(rule).evaluate(context)
    return rule
