"""Typed views of Redis replies.

Every client of the package is made with ``decode_responses=True``, so the server's
strings arrive as ``str``. redis-py's annotations cannot know that and say ``bytes | str``
(and its stream replies allow ``None`` where the server sends none). These helpers state the
real type in one place, so that the code using a reply is checked against it. They do nothing
at run time: each returns its argument as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import cast

from redis.typing import EncodableT, FieldT

Entries = list[tuple[str, dict[str, str]]]
"""Stream entries as ``XRANGE``/``XREVRANGE``/``XCLAIM`` return them: ``(id, fields)``."""


def text(value: bytes | str) -> str:
    """One reply string."""
    return cast(str, value)


def text_or_none(value: bytes | str | None) -> str | None:
    """One reply string, or None for a missing key or field."""
    return cast("str | None", value)


def texts(values: Sequence[object]) -> list[str]:
    """A list reply of strings (``HKEYS``, ``LRANGE``, ``SSCAN``'s members, and ``ZRANGE``
    and friends without scores, whose annotation also covers the forms with scores)."""
    return cast("list[str]", values)


def texts_or_none(values: list[bytes | str | None]) -> list[str | None]:
    """A list reply with holes (``HMGET``, ``MGET``)."""
    return cast("list[str | None]", values)


def text_set(values: set[bytes | str]) -> set[str]:
    """A set reply of strings (``SMEMBERS``, ``SUNION``, ...)."""
    return cast("set[str]", values)


def text_map(values: Mapping[bytes | str, bytes | str]) -> dict[str, str]:
    """A hash reply (``HGETALL``)."""
    return cast("dict[str, str]", values)


def entries(reply: Iterable[object] | None) -> Entries:
    """A stream-entries reply (``XRANGE``, ``XREVRANGE``, ``XCLAIM`` without ``justid``)."""
    return cast(Entries, reply)


def as_fields(fields: Mapping[str, str]) -> dict[FieldT, EncodableT]:
    """String fields and values as ``XADD``'s fields or ``HSET``'s mapping, which redis-py
    types as an invariant ``dict`` (or ``Mapping``) of its wider key and value types."""
    return cast("dict[FieldT, EncodableT]", fields)
