"""Typed views of Redis replies.

Every client of the package is made with ``decode_responses=True``, so the server's
strings arrive as ``str``. redis-py's annotations cannot know that and say ``bytes | str``;
these helpers narrow a reply to the ``str`` it is, in one place, so the rest of the code is
checked against the real type. A ``bytes`` value (a client built without decoding) is
decoded as UTF-8 rather than passed on as the wrong type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from redis.typing import EncodableT, FieldT


def text(value: bytes | str) -> str:
    """One reply string."""
    return value if isinstance(value, str) else value.decode()


def text_or_none(value: bytes | str | None) -> str | None:
    """One reply string, or None for a missing key or field."""
    return None if value is None else text(value)


def texts(values: Iterable[bytes | str]) -> list[str]:
    """A list (or set, or array) of reply strings, in order."""
    return [text(value) for value in values]


def text_map(values: Mapping[bytes | str, bytes | str]) -> dict[str, str]:
    """A hash or stream-entry reply as ``dict[str, str]``."""
    return {text(key): text(value) for key, value in values.items()}


def entry_fields(fields: Mapping[str, str]) -> dict[FieldT, EncodableT]:
    """Stream-entry fields for ``XADD``, whose parameter redis-py types as an invariant
    ``dict`` of its wider key and value types (a copy: meant for rare paths)."""
    return dict(fields.items())
