"""Which job data a graph keeps: the paths its ``job.maps`` declare.

The original stores job data by path, one hash field per path its compiler
declared from the graph's ``job.maps`` keys, and a value is split along those
paths when it is written. So the job data a YAML app ends up with depends on
how its keys are written:

* ``name: <rule>`` declares ``name``: the value is kept whole (an object or an
  array as it is, empty strings inside it too);
* ``name: {a: <rule>, b: {c: <rule>}}`` (a literal object, or a literal list,
  whose members are indexed ``0``, ``1``, …) declares ``name.a`` and
  ``name.b.c``: each member is kept on its own, and an empty string there is not;
* ``name[N]: <rule>`` declares ``name.0`` … ``name.N-1``: an array keeps its
  first N items, an object its keys ``"0"`` … ``"N-1"``, and the job data
  holds an object with those keys;
* ``name[-]`` / ``name[_]`` declare nothing: they hoist their object's keys,
  and a hoisted key that another rule declares is kept along its paths.

One difference, on purpose: the original keeps a hoisted key only when it
starts with ``-`` or ``_`` or some rule declares it, and silently drops the
rest. We keep every hoisted key (MeshFlow's batches hoist keys known only at
run time into the job data they return).

We store a top-level key's kept value as one field (see ``_state``), so a
nested key written in several steps is merged with what the job holds: a step
that writes one reads the job first (``AppRuntime.needs_state``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..mapping import UNDEFINED


@dataclass
class DataPath:
    """A node of the declared job data paths."""

    leaf: bool = False
    """A value written here is kept whole."""
    children: dict[str, DataPath] = field(default_factory=dict)
    """Declared paths below this one, by member name (an array's index as text)."""


def job_map_name(key: str) -> str | None:
    """The job data key a ``job.maps`` key writes (None for a hoisting ``[-]``/``[_]``).

    ``name[N]`` writes ``name``, as the original's ``mapJobData`` renames it.
    """
    if key.endswith("]") and "[" in key:
        name, inside = key[:-1].split("[", 1)
        if inside in ("-", "_"):
            return None
        if inside == "" or inside.isdigit():
            return name
    return key


def declare(paths: dict[str, DataPath], maps: dict[str, Any]) -> None:
    """Add the paths one activity's ``job.maps`` declare to ``paths`` (the top level)."""
    for key, rule in maps.items():
        name = job_map_name(key)
        if name is None:
            continue
        node = paths.setdefault(name, DataPath())
        if name != key:  # name[N]
            for index in range(int(key[len(name) + 1 : -1] or 0)):
                node.children.setdefault(str(index), DataPath()).leaf = True
        else:
            _declare_value(node, rule)


def _declare_value(node: DataPath, rule: Any) -> None:
    if isinstance(rule, dict) and rule and not any(str(k).startswith("@") for k in rule):
        members: Any = rule.items()
    elif isinstance(rule, list) and rule:
        members = ((str(i), item) for i, item in enumerate(rule))
    else:
        node.leaf = True  # a reference, a literal or a pipe: its value is kept whole
        return
    for name, item in members:
        _declare_value(node.children.setdefault(str(name), DataPath()), item)


def kept(node: DataPath, value: Any) -> Any:
    """What of ``value``, written at ``node``, the job keeps (UNDEFINED: nothing).

    An empty string is not kept at a declared path (the original never stores
    one); inside a value kept whole it is.
    """
    if node.leaf:
        return UNDEFINED if isinstance(value, str) and not value else value
    if isinstance(value, dict):
        members: Any = value.items()
    elif isinstance(value, list):
        members = ((str(i), item) for i, item in enumerate(value))
    else:
        return UNDEFINED  # no declared path holds it
    out: dict[str, Any] = {}
    for name, item in members:
        child = node.children.get(name)
        if child is not None:
            item = kept(child, item)
            if item is not UNDEFINED:
                out[name] = item
    return out if out else UNDEFINED


def merged(node: DataPath, current: Any, new: Any) -> Any:
    """``new`` (a kept value) written over ``current``, path by declared path."""
    if node.leaf or not isinstance(current, dict) or not isinstance(new, dict):
        return new
    out = dict(current)
    for name, item in new.items():
        child = node.children[name]
        out[name] = merged(child, out[name], item) if name in out else item
    return out
