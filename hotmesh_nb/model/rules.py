"""Check mapping rules with the mapping compiler, at deploy time.

The mapping package (``hotmesh_nb.mapping``) owns the rule language; the model
only asks it whether each rule is well formed, so that a typo in a ``@pipe``
fails ``deploy`` with a file and line instead of failing a job later.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hotmesh_nb.errors import MappingError, ValidationError

_UNSET: Any = object()
_compiler: Any = _UNSET


def _compile_rule() -> Callable[..., Any] | None:
    """``hotmesh_nb.mapping.compile_rule``, imported on first use.

    Imported lazily to keep ``hotmesh_nb.model`` importable on its own (and to
    avoid an import cycle should the mapping package ever read the model).
    None while the mapping package is not available: rules are then accepted
    unchecked.
    """
    global _compiler
    if _compiler is _UNSET:
        try:
            from hotmesh_nb.mapping import compile_rule
        except ImportError:
            _compiler = None
        else:
            _compiler = compile_rule
    return _compiler


def check_rule(
    rule: Any,
    path: str,
    *,
    file: str | None,
    line: int | None,
    activity: str | None,
) -> ValidationError | None:
    """Return a :class:`ValidationError` if ``rule`` is malformed, else None.

    ``path`` names the rule for the message (``w1.job.maps.total``).
    """
    compile_rule = _compile_rule()
    if compile_rule is None:
        return None
    try:
        compile_rule(rule, path)
    except MappingError as exc:
        detail = str(exc)
        if not detail.startswith(path):
            detail = f"{path}: {detail}"
        return ValidationError(
            f"malformed mapping rule {detail}; see the mapping guide for the "
            "'{a.b.c}', '@pipe' and '@reduce' forms",
            file=file,
            line=line,
            activity=activity,
        )
    return None
