"""Path lookups (``{a.b.c}``) in the job context, with a fast path for plain dicts.

Semantics of the original: split on ``.``, and at each step the current value
must be a non-null object that *owns* the next key (so ``{x.list.0}`` and
``{x.list.length}`` work on arrays, but nothing is read from strings).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._objects import has_own, is_index_key
from ._values import UNDEFINED

__all__ = ["Getter", "lookup_path", "make_getter"]

Getter = Callable[[Any, Any], Any]


def lookup_path(root: Any, parts: tuple[str, ...]) -> Any:
    """The value at ``parts`` under ``root``, or ``UNDEFINED`` when any step is missing."""
    cur = root
    for part in parts:
        if isinstance(cur, dict):
            if part in cur:
                cur = cur[part]
            elif is_index_key(part) and int(part) in cur:
                cur = cur[int(part)]
            else:
                return UNDEFINED
        elif isinstance(cur, list) and has_own(cur, part):
            cur = len(cur) if part == "length" else cur[int(part)]
        else:
            return UNDEFINED
    return cur


_MISS = (KeyError, TypeError, IndexError)


def make_getter(parts: tuple[str, ...]) -> Getter:
    """A fast ``(root, _) → value`` function for a fixed path.

    Plain-dict hits skip every check; any miss (or a list/str on the way) falls
    back to the careful :func:`lookup_path`. The unused second parameter lets
    the compiler use the getter directly as an evaluator.
    """
    # Specialized closures: the engine evaluates plain references for every job.
    # Indexing a list/str/None/number with a str key raises TypeError, so only
    # dicts (or dict subclasses) can produce a value on the fast path.
    n = len(parts)
    if n == 1:
        (a,) = parts

        def get1(root: Any, _r: Any = None) -> Any:
            try:
                return root[a] if type(root) is dict else lookup_path(root, parts)
            except _MISS:
                return lookup_path(root, parts)

        return get1
    if n == 2:
        a, b = parts

        def get2(root: Any, _r: Any = None) -> Any:
            try:
                return root[a][b]
            except _MISS:
                return lookup_path(root, parts)

        return get2
    if n == 3:
        a, b, c = parts

        def get3(root: Any, _r: Any = None) -> Any:
            try:
                return root[a][b][c]
            except _MISS:
                return lookup_path(root, parts)

        return get3
    if n == 4:
        a, b, c, d = parts

        def get4(root: Any, _r: Any = None) -> Any:
            try:
                return root[a][b][c][d]
            except _MISS:
                return lookup_path(root, parts)

        return get4

    def get_n(root: Any, _r: Any = None) -> Any:
        cur = root
        try:
            for part in parts:
                cur = cur[part]
        except _MISS:
            return lookup_path(root, parts)
        return cur

    return get_n
