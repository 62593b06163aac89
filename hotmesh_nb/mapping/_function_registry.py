"""The function registry: ``{@family.name}`` → a Python implementation.

Each family module creates a :class:`Family` and decorates its functions. A
function's Python signature mirrors the original's declared parameters: every
optional parameter defaults to ``UNDEFINED`` (the original passes them all
explicitly), extra arguments are dropped unless the function takes ``*args``.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from hotmesh_nb.errors import MappingError

__all__ = ["FUNCTIONS", "MUTATING", "Family", "MappingFunction", "lookup"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class MappingFunction:
    """A registered mapping function."""

    name: str  # '@family.fn'
    fn: Callable[..., Any]
    max_args: int | None  # None: takes any number of arguments
    mutates: bool  # mutates its first argument in place (like Array.prototype.push)


FUNCTIONS: dict[str, MappingFunction] = {}
"""Every function, keyed by its full name without braces (``'@math.add'``)."""

MUTATING: set[str] = set()


def _max_args(fn: Callable[..., Any]) -> int | None:
    params = inspect.signature(fn).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


class Family:
    """A function family such as ``@math``; use :meth:`register` as a decorator."""

    def __init__(self, name: str) -> None:
        self.name = name

    def register(
        self, name: str | None = None, *, mutates: bool = False, max_args: int | None = -1
    ) -> Callable[[F], F]:
        """Register the decorated function as ``@<family>.<name>`` (default: its own name).

        ``max_args`` overrides the arity read from the signature (``None``: any).
        """

        def decorate(fn: F) -> F:
            full = f"@{self.name}.{name or fn.__name__.rstrip('_')}"
            arity = _max_args(fn) if max_args == -1 else max_args
            FUNCTIONS[full] = MappingFunction(full, fn, arity, mutates)
            if mutates:
                MUTATING.add(full)
            return fn

        return decorate


def lookup(name: str, *, rule: Any = None, path: str | None = None) -> MappingFunction:
    """The function called ``name`` (``'@math.add'``); :class:`MappingError` if unknown.

    The error names the nearest valid names, so a typo is easy to fix.
    """
    found = FUNCTIONS.get(name)
    if found is not None:
        return found
    near = difflib.get_close_matches(name, list(FUNCTIONS), n=3, cutoff=0.6)
    family = name.partition(".")[0]
    if not near:
        near = sorted(n for n in FUNCTIONS if n.partition(".")[0] == family)[:5]
    hint = f"; did you mean {', '.join('{' + n + '}' for n in near)}?" if near else ""
    known = sorted({n.partition(".")[0] for n in FUNCTIONS})
    if family not in known:
        hint += f" (families: {', '.join(known)})"
    raise MappingError(f"unknown function {{{name}}} in rule {rule!r}{hint}", rule=rule, path=path)
