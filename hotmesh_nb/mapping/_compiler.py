"""Compile mapping rules into evaluator closures.

A compiled node is a function ``ev(context, reducer_ctx) -> value``.
``reducer_ctx`` is ``None`` outside ``@reduce`` and a dict with ``$input``,
``$output``, ``$item``, ``$key`` and ``$index`` inside one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from hotmesh_nb.errors import MappingError

from ._function_registry import FUNCTIONS, MUTATING, MappingFunction, lookup
from ._jsregex import RegexTimeout
from ._objects import clone
from ._paths import lookup_path, make_getter
from ._values import JSThrow

__all__ = ["REDUCER_VARS", "Compiler", "Ev", "call_function", "function_error"]

Ev = Callable[[Any, "dict[str, Any] | None"], Any]
REDUCER_VARS = frozenset({"$input", "$output", "$item", "$key", "$index"})
_FUNCTION_RE = re.compile(r"@[A-Za-z_$][\w$]*\.[A-Za-z_$][\w$]*\Z")


def function_error(
    exc: Exception, entry: MappingFunction, rule: Any = None, path: str | None = None
) -> MappingError:
    """The :class:`MappingError` reporting that ``entry`` failed with ``exc``."""
    if isinstance(exc, MappingError):
        return exc
    if isinstance(exc, JSThrow):
        return MappingError(f"{{{entry.name}}} threw {exc}", rule=rule, path=path)
    if isinstance(exc, RegexTimeout):
        return MappingError(f"{{{entry.name}}}: {exc}", rule=rule, path=path)
    if isinstance(exc, RecursionError):
        return MappingError(
            f"{{{entry.name}}} failed: value nested too deeply", rule=rule, path=path
        )
    # A JS function never crashes the engine: anything else is reported the same way.
    return MappingError(
        f"{{{entry.name}}} failed: {type(exc).__name__}: {exc}", rule=rule, path=path
    )


def call_function(
    entry: MappingFunction, args: list[Any], rule: Any = None, path: str | None = None
) -> Any:
    """Call a mapping function JS-style, turning any failure into :class:`MappingError`."""
    if entry.max_args is not None and len(args) > entry.max_args:
        args = args[: entry.max_args]
    try:
        return entry.fn(*args)
    except Exception as exc:
        raise function_error(exc, entry, rule, path) from exc


def _uses_mutation(node: Any) -> bool:
    """True when a rule calls a function that mutates its argument (``@array.push``...)."""
    if isinstance(node, str):
        return node.startswith("{@") and node[1:-1] in MUTATING
    if isinstance(node, dict):
        return any(_uses_mutation(v) for v in node.values())
    if isinstance(node, list):
        return any(_uses_mutation(v) for v in node)
    return False


def _const(value: Any) -> Ev:
    if isinstance(value, (dict, list)):
        # A fresh copy per evaluation: functions may mutate it, and the result
        # must not alias the compiled rule.
        return lambda _c, _r: clone(value)
    return lambda _c, _r: value


class Compiler:
    """One compilation of one rule: remembers the root rule, references and copy policy."""

    def __init__(self, rule: Any, path: str | None, *, field: bool = False) -> None:
        self.rule = rule
        self.path = path
        self.field = field
        self.references: dict[str, None] = {}
        # Rules that mutate values read from the context evaluate against a
        # private deep copy of the parts they read (see Rule.evaluate), so the
        # job context is never changed by a mapping, while two reads of one
        # value inside the rule still see each other's mutations (as in JS).
        self.copy_refs = _uses_mutation(rule)

    def error(self, message: str, where: str | None) -> MappingError:
        return MappingError(f"{message} (rule {self.rule!r})", rule=self.rule, path=where)

    # -- strings --------------------------------------------------------------
    def function(self, text: str, where: str | None) -> MappingFunction:
        name = text[1:-1]
        if not _FUNCTION_RE.match(name):
            raise self.error(
                f"malformed function reference {text!r}; use '{{@family.name}}'", where
            )
        return lookup(name, rule=self.rule, path=where)

    def reducer_var(self, text: str) -> tuple[str, ...] | None:
        inner = text[1:-1]
        head = inner.partition(".")[0]
        return tuple(inner.split(".")) if head in REDUCER_VARS else None

    def string(self, text: str, where: str | None) -> Ev:
        """A cell string: function call, reducer variable, path reference or literal."""
        if len(text) < 2 or text[0] != "{" or text[-1] != "}":
            return lambda _c, _r: text
        if text.startswith("{@"):
            entry = self.function(text, where)
            rule, path = self.rule, where
            return lambda _c, _r: call_function(entry, [], rule, path)
        var = self.reducer_var(text)
        if var is not None:
            return _reducer_getter(var)
        dotted = text[1:-1]
        self.references.setdefault(dotted)
        return make_getter(tuple(dotted.split(".")))

    # -- structures -----------------------------------------------------------
    def node(self, rule: Any, where: str | None) -> Ev:
        """A rule at top level: a map value, or a single field (``self.field``)."""
        if self.field:
            return self.field_node(rule, where)
        return self.map_node(rule, where)

    def map_node(self, rule: Any, where: str | None) -> Ev:
        """A value of a ``maps`` object, resolved as the original's mapper does.

        Strings resolve; an object holding ``'@pipe'`` is a pipe (other keys are
        ignored); other objects resolve member by member, and so do arrays, which
        become objects keyed ``'0'``, ``'1'``... (an ``'@reduce'`` outside a pipe
        is such a plain object). ``null`` cannot be resolved: it raises.
        """
        if isinstance(rule, str):
            return self.string(rule, where)
        if isinstance(rule, dict):
            if "@pipe" in rule:
                return self.pipe_object(rule, where)
            items = [(k, self.map_node(v, _join(where, str(k)))) for k, v in rule.items()]
            return lambda c, r: {k: ev(c, r) for k, ev in items}
        if isinstance(rule, list):
            evs = [(str(i), self.map_node(v, f"{where or ''}[{i}]")) for i, v in enumerate(rule)]
            return lambda c, r: {k: ev(c, r) for k, ev in evs}
        if rule is None:
            error = self.error(
                "null cannot be a mapping rule (the original fails on it); "
                "write a pipe such as {'@pipe': [['{@symbol.null}']]} to map null",
                where,
            )

            def null_rule(_c: Any, _r: Any) -> Any:
                raise error

            return null_rule
        return _const(rule)

    def field_node(self, rule: Any, where: str | None) -> Ev:
        """A single field (``topic``, ``expire``, a condition's ``expected``...).

        Only a string or a pipe object resolves; any other object or array is a
        literal, returned as written (a fresh copy).
        """
        if isinstance(rule, str):
            return self.string(rule, where)
        if isinstance(rule, dict) and "@pipe" in rule:
            return self.pipe_object(rule, where)
        return _const(rule)

    def pipe_object(self, rule: dict[Any, Any], where: str | None) -> Ev:
        from ._pipe import compile_pipe

        return compile_pipe(self, rule["@pipe"], _join(where, "@pipe"))


def _join(where: str | None, key: str) -> str:
    return f"{where}.{key}" if where else key


def _reducer_getter(parts: tuple[str, ...]) -> Ev:
    from ._values import UNDEFINED

    if len(parts) == 1:
        name = parts[0]
        return lambda _c, r: UNDEFINED if r is None else r[name]
    return lambda _c, r: UNDEFINED if r is None else lookup_path(r, parts)


def function_names() -> list[str]:
    """Every ``@family.name`` the mapping language knows, sorted."""
    return sorted(FUNCTIONS)
