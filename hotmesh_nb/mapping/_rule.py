"""Compiled rules: parse once with :func:`compile_rule`, evaluate for every job."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from hotmesh_nb.errors import MappingError

from ._compiler import Compiler
from ._objects import clone

__all__ = ["Rule", "compile_rule", "resolve"]

_EMPTY: dict[str, Any] = {}


class Rule:
    """A compiled mapping rule.

    ``references`` lists the context paths the rule reads (dotted strings such
    as ``'a1.output.data.total'``, ``'$job.metadata.jid'``), without functions
    or reducer variables, in order of first appearance.
    """

    __slots__ = ("_copied", "_ev", "field", "kind", "path", "references", "source")

    def __init__(self, source: Any, path: str | None = None, *, field: bool = False) -> None:
        comp = Compiler(source, path, field=field)
        self._ev = comp.node(source, path)
        self.source = source
        self.path = path
        self.field = field
        self.references: tuple[str, ...] = tuple(comp.references)
        self.kind = _kind(source)
        # Top-level context keys a mutating rule reads: copied once per evaluation.
        self._copied: tuple[str, ...] | None = (
            tuple(dict.fromkeys(r.partition(".")[0] for r in self.references))
            if comp.copy_refs
            else None
        )

    def evaluate(self, context: Any = None) -> Any:
        """The rule's value in ``context`` (the job context tree; ``None`` means empty)."""
        if context is None:
            context = _EMPTY
        if self._copied and isinstance(context, dict):
            context = _with_copies(context, self._copied)
        try:
            return self._ev(context, None)
        except RecursionError as exc:
            raise MappingError(
                "value nested too deeply to evaluate", rule=self.source, path=self.path
            ) from exc

    __call__ = evaluate

    def __repr__(self) -> str:
        where = f", path={self.path!r}" if self.path else ""
        return f"Rule({self.source!r}{where})"


def _with_copies(context: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """``context`` with fresh copies of the entries ``names`` (a mutating rule's reads).

    A function of its own: a comprehension inside ``evaluate`` would make every
    evaluation allocate a cell for the context, copies or not.
    """
    return {**context, **{k: clone(context[k]) for k in names if k in context}}


def _kind(source: Any) -> str:
    """``'reference'``, ``'function'``, ``'pipe'``, ``'object'``, ``'array'`` or ``'literal'``."""
    if isinstance(source, str) and len(source) >= 2 and source[0] == "{" and source[-1] == "}":
        return "function" if source.startswith("{@") else "reference"
    if isinstance(source, dict):
        return "pipe" if "@pipe" in source else "object"
    if isinstance(source, list):
        return "array"
    return "literal"


def compile_rule(rule: Any, path: str | None = None, *, field: bool = False) -> Rule:
    """Compile ``rule`` once; evaluate it many times with ``Rule.evaluate(context)``.

    ``path`` names where the rule lives (e.g. ``'a1.job.maps.total'``) and is
    part of every :class:`~hotmesh_nb.errors.MappingError` it raises. A
    malformed rule (unknown function, bad ``@pipe`` shape) raises here.

    By default ``rule`` is a value of a ``maps`` object (``input.maps``,
    ``output.maps``, ``job.maps``), resolved as the original's mapper resolves
    maps: nested objects and arrays resolve member by member, arrays become
    objects keyed by index, and ``null`` raises when evaluated. With
    ``field=True`` it is a single field (``topic``, ``expire``, ``sleep``, a
    condition's ``actual``/``expected``), resolved as the original resolves
    those: only a string or a ``@pipe`` object resolves, anything else is a literal.
    """
    try:
        return Rule(rule, path, field=field)
    except RecursionError as exc:
        raise MappingError("rule nested too deeply", rule=rule, path=path) from exc


@lru_cache(maxsize=4096)
def _cached(rule: str) -> Rule:
    return Rule(rule)


def resolve(rule: Any, context: Any = None, *, field: bool = False) -> Any:
    """Evaluate a mapping rule against a job context — the mapping language's front door.

    ``rule`` is any YAML value: literals pass through; ``'{a.b.c}'`` reads a
    path (missing → ``UNDEFINED``); ``'{@family.fn}'`` calls a function with no
    arguments; ``{'@pipe': [...]}`` runs a pipe; other dicts and lists resolve
    member by member. ``context`` is the job context tree, e.g.
    ``{'t1': {'output': {'data': {...}}}, '$job': {...}, '$app': {'settings': {...}}}``.
    ``field`` chooses single-field resolution (see :func:`compile_rule`).

    >>> resolve({'@pipe': [['{a.x}', 2], ['{@math.multiply}']]}, {'a': {'x': 21}})
    42
    """
    if isinstance(rule, str):
        if len(rule) < 2 or rule[0] != "{":
            return rule
        return _cached(rule).evaluate(context)
    if isinstance(rule, (dict, list)) or (rule is None and not field):
        return compile_rule(rule, field=field).evaluate(context)
    return rule
