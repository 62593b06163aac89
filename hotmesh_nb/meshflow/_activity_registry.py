"""Activities registered in this process, by name (callables by object, never by path)."""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..errors import HotMeshError

ACTIVITIES: dict[str, Callable[..., Any]] = {}
"""Activity name → function. Re-registering a name (a re-run notebook cell) replaces it."""


def collect(activities: Any) -> dict[str, Callable[..., Any]]:
    """Name → function for functions, a list of them, a dict or a module."""
    if activities is None:
        return {}
    if isinstance(activities, Mapping):
        found = dict(activities)
    elif isinstance(activities, types.ModuleType):
        found = {
            name: value
            for name, value in vars(activities).items()
            if not name.startswith("_")
            and inspect.isfunction(value)
            and value.__module__ == activities.__name__
        }
    elif callable(activities):
        found = {activities.__name__: activities}
    elif isinstance(activities, Iterable):
        found = {fn.__name__: fn for fn in activities}
    else:
        raise HotMeshError(
            "activities must be a function, a list of functions, a dict {name: function} "
            f"or a module, not {type(activities).__name__}"
        )
    for name, fn in found.items():
        if not callable(fn):
            raise HotMeshError(f"activity '{name}' is not callable")
    return found


def register(activities: Mapping[str, Callable[..., Any]]) -> None:
    """Make activities callable by workers of this process."""
    ACTIVITIES.update(activities)


def lookup(name: str) -> Callable[..., Any]:
    """The activity registered as ``name``."""
    fn = ACTIVITIES.get(name)
    if fn is None:
        raise HotMeshError(
            f"activity '{name}' is not registered in this process; pass it to "
            "workflow.proxy_activities(...) in code this worker imports or runs"
        )
    return fn
