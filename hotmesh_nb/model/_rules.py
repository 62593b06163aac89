"""Check mapping rules with the mapping compiler, at deploy time.

The mapping package (``hotmesh_nb.mapping``) owns the rule language; the model
only asks it whether each rule is well formed, so that a typo in a ``@pipe``
fails ``deploy`` with a file and line instead of failing a job later.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

from hotmesh_nb.errors import MappingError, ValidationError

log = logging.getLogger("hotmesh_nb.model")

# '{' and a path, and nothing else: a reference whose '}' was forgotten (not literal JSON).
_UNCLOSED = re.compile(r"\{[$A-Za-z_][\w$.-]*\Z")

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
    for warning in lint_rule(rule):
        # The original deploys these and so do we (apps must run unchanged); a warning
        # tells the author what the rule really does.
        where = ValidationError(warning, file=file, line=line, activity=activity)
        log.warning("%s (in %s)", where, path)
    return None


def lint_rule(rule: Any) -> list[str]:
    """What is suspicious, though accepted, about ``rule``: broken references.

    The original keeps ``'{t1.output.data.x'`` (no closing brace) as literal
    text and resolves ``'{t1..x}'`` (an empty path segment) to undefined; both
    are almost always typos.
    """
    found = []
    for text in _strings(rule):
        if _UNCLOSED.match(text):
            found.append(
                f"'{text}' opens a reference with '{{' but has no closing '}}': it is kept "
                "as literal text, as the original does; close it to read a value"
            )
        elif len(text) >= 2 and text[0] == "{" and text[-1] == "}" and text[1:2] != "@":
            inner = text[1:-1]
            if "{" in inner or "}" in inner:
                found.append(
                    f"'{text}' has stray braces inside the reference: it always reads "
                    "undefined (as in the original); write '{a.b.c}'"
                )
            elif "" in inner.split("."):
                found.append(
                    f"'{text}' has an empty path segment: it always reads undefined (as in "
                    "the original); write '{a.b.c}' with no '..' and no leading or "
                    "trailing '.'"
                )
    return found


def _strings(rule: Any) -> Iterator[str]:
    if isinstance(rule, str):
        yield rule
    elif isinstance(rule, dict):
        for value in rule.values():
            yield from _strings(value)
    elif isinstance(rule, list):
        for value in rule:
            yield from _strings(value)
