"""Record ids and the call options an entity function receives.

A record is the MeshFlow workflow that ran (or runs) an entity function:
its id is ``<entity>-<id>`` when the caller names it (``exec(..., id='jsmith')``
→ ``user-jsmith``), else ``<entity>`` followed by a random guid (no dash), as
in the original. Record ids are job ids, so they cannot hold ``:``, ``$`` or
spaces.
"""

from __future__ import annotations

from typing import Any

from .._ids import guid

CALL_TYPE = "$type"
"""Key marking the trailing call-options dict appended to an entity's arguments."""

_FORBIDDEN = (":", "$", " ")


def check_id(value: str, what: str = "id") -> str:
    """Return ``value`` or raise ``ValueError`` naming the forbidden character."""
    text = str(value)
    if not text:
        raise ValueError(f"a record {what} cannot be empty")
    for char in _FORBIDDEN:
        if char in text:
            raise ValueError(
                f"invalid record {what} {text!r}: it may not contain {char!r} "
                "(':', '$' and spaces are reserved in job ids)"
            )
    return text


def record_id(entity: str, id: str | None = None) -> str:
    """``<entity>-<id>``, or ``<entity><guid>`` when ``id`` is None."""
    check_id(entity, "entity")
    if id is None:
        return f"{entity}{guid()}"
    return f"{entity}-{check_id(id)}"


def split_call(args: list[Any]) -> tuple[list[Any], dict[str, Any]]:
    """Separate the trailing call options (``{'$type': 'exec' | 'hook', ...}``) from args."""
    if args and isinstance(args[-1], dict) and CALL_TYPE in args[-1]:
        return args[:-1], dict(args[-1])
    return args, {}
