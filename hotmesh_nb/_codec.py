"""JSON for job state and stream messages: exact for Python values, JS rules for JS-only ones.

Two doors lead into storage:

* :func:`check_value` guards every value a *user* hands us (job data for
  ``pub``, a worker's result, MeshFlow arguments and results, MeshCall
  arguments and results). It refuses, before anything is queued, what JSON
  cannot hold exactly — NaN and infinities, dates, sets, bytes, non-``str``
  dict keys, arbitrary objects — with a :class:`~hotmesh_nb.errors.PayloadError`
  naming the field (``data.items[2].when``), and it enforces the payload size
  limit.
* :func:`dumps` writes whatever is in a job's state, including what mapping
  rules computed. Python values come back exactly as they went in (``0.0``
  stays a float, ``-0.0`` keeps its sign, big ints keep every digit); the
  JavaScript-only values the mapping language can produce follow
  ``JSON.stringify``: ``UNDEFINED`` is dropped from objects and ``null`` in
  arrays, NaN/±Infinity become ``null``, dates ISO strings. Objects with
  integer-like keys list them first, as JavaScript objects do.

The conversions that remain are listed in ``docs/values.md``.

When ``orjson`` is installed (the ``fast`` extra), it writes and reads the
common values, several times faster than the standard library; whatever it
would write or read differently (exponent floats, integer-like keys, integers
beyond 64 bits, NaN, lone surrogates…) is detected and takes the standard path,
so the text stored is the same either way.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Callable
from typing import Any

from .errors import PayloadError
from .mapping import UNDEFINED, JSDate

DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024
"""Bytes of JSON one value may take when no config says otherwise (64 MiB)."""

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_decode = json.JSONDecoder().decode

_fast_dumps: Callable[[Any], bytes] | None = None
_fast_loads: Callable[[str | bytes], Any] | None = None
try:  # optional (the ``fast`` extra): the standard library does the same, slower
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    pass
else:
    # Subclasses, dates and dataclasses go to ``default``, which refuses them: they take
    # the standard path, as do non-str keys, integers beyond 64 bits and deep nesting.
    _OPTIONS = (
        _orjson.OPT_PASSTHROUGH_SUBCLASS
        | _orjson.OPT_PASSTHROUGH_DATETIME
        | _orjson.OPT_PASSTHROUGH_DATACLASS
    )

    def _refuse(value: Any) -> Any:
        raise TypeError

    def _orjson_dumps(value: Any) -> bytes:
        return _orjson.dumps(value, default=_refuse, option=_OPTIONS)

    _fast_dumps = _orjson_dumps
    _fast_loads = _orjson.loads

_DIGITS = bytes.maketrans(b"123456789", b"000000000")
"""Every digit becomes ``0``: the checks below then look for a few fixed byte strings
(``in`` on bytes is far cheaper than a regular expression with alternatives)."""

_SHAPES = bytes.maketrans(b"123456789{", b"000000000,")
"""As ``_DIGITS``, and ``{`` becomes ``,``: a key after either reads ``,"0``."""

_NINETEEN_DIGITS = b"0" * 19


def _differs(raw: bytes) -> bool:
    """True where orjson's text may differ from the standard encoder's.

    A key starting with a digit (JS lists integer-like keys first), a float whose
    exponent orjson writes otherwise (``1e-7`` against Python's ``1e-07``; ``1e16``
    against ``1e+16`` in older orjson) or with 4 zeros after the point (orjson
    ``0.00001``, Python ``1e-05``). The exponent check wants a digit after the ``e``
    (or ``e-``): a bare digit-and-``e``, as in random job ids, would send most stream
    messages down the slow path. An array string starting with a digit, or text inside
    a string, may still raise a false alarm: it only costs the standard path.

    Each ``in`` costs about as much as the translation, so the text is folded until
    three cover every case: ``{`` reads as ``,`` and minus signs are dropped (``1e-7``
    reads ``0e0``). Folding only joins bytes, so it never hides a match; the false
    alarms it adds (a key ``"-1"``, ``5.00001``) only cost the standard path.
    """
    shape = raw.translate(_SHAPES, b"-")
    return b',"0' in shape or b"0e0" in shape or b"0.0000" in shape


def _fast_text(value: Any, *, plain: bool = False) -> str | None:
    """The JSON of ``value`` by orjson when it is exactly what :func:`dumps` writes, else None.

    orjson writes NaN and infinities as ``null``, as :func:`dumps` does (JS rules);
    enums and UUIDs it writes too, but those never reach it: job state holds none, and
    :func:`check_value` walks a user's value before it is written. ``plain``: a walk
    (:func:`_c_shape`) found no float in it, so its text needs no second look.
    """
    if _fast_dumps is None:
        return None
    try:
        raw = _fast_dumps(value)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return None
    if plain or type(value) is str:  # no float, no keys: nothing _differs looks for
        return raw.decode()
    if _differs(raw):
        return None
    return raw.decode()


# Values nested deeper than this are refused: the decoder (and Lua's cjson, 1000) could
# not read them back.
MAX_DEPTH = 500

_DOCS = "see docs/values.md"


_PLAIN = 1
""":func:`_c_shape`: the C encoder writes the value exactly, and it holds no float."""

_WITH_FLOATS = 3
""":func:`_c_shape`: the C encoder writes the value exactly; a float is in it."""


def _c_shape(value: Any) -> int:
    """0 unless the C encoder writes the value exactly as :func:`dumps` must, else
    :data:`_PLAIN` or :data:`_WITH_FLOATS`.

    Finite floats are fine (``repr`` round-trips them); dicts whose keys
    JavaScript would reorder, JS-only values and NaN/infinities are not. Without a
    float, orjson writes such a value exactly too: only floats can take another form.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return _PLAIN
    if kind is float:
        return _WITH_FLOATS if math.isfinite(value) else 0
    shape = _PLAIN
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or (key[:1].isdigit() and key.isdigit()):
                return 0
            inner = _c_shape(item)
            if not inner:
                return 0
            shape |= inner
        return shape
    if kind is list:
        for item in value:
            inner = _c_shape(item)
            if not inner:
                return 0
            shape |= inner
        return shape
    return 0


def _is_index_key(key: str) -> bool:
    # An array index in JS: a canonical non-negative integer below 2**32 - 1.
    return (
        key.isdigit() and key.isascii() and (key == "0" or key[0] != "0") and int(key) < 2**32 - 1
    )


def _plain(value: Any) -> Any:
    """``value`` with every JS-only part replaced as ``JSON.stringify`` would."""
    if isinstance(value, str) or value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        pairs = [
            (key if isinstance(key, str) else _key_text(key), _plain(item))
            for key, item in value.items()
            if item is not UNDEFINED
        ]
        if any(_is_index_key(key) for key, _ in pairs):
            index = sorted((p for p in pairs if _is_index_key(p[0])), key=lambda p: int(p[0]))
            pairs = index + [p for p in pairs if not _is_index_key(p[0])]
        return dict(pairs)
    if isinstance(value, (list, tuple)):
        return [None if item is UNDEFINED else _plain(item) for item in value]
    if value is UNDEFINED:
        return None
    if isinstance(value, (JSDate, _dt.date)):
        from .mapping._jsjson import to_json

        return _decode(str(to_json(value)))
    raise PayloadError(f"a {type(value).__name__} cannot be stored as JSON; {_DOCS}", path=None)


def _key_text(key: Any) -> str:
    from .mapping import to_js_string

    return to_js_string(key)


def dumps(value: Any) -> str:
    """Compact JSON of a value of a job's state (see the module docstring for the rules)."""
    text = _fast_text(value)
    if text is not None:
        return text
    if _c_shape(value):
        return _encode(value)
    if value is UNDEFINED:
        return "null"
    return _encode(_plain(value))


def loads(text: str | bytes) -> Any:
    """Decode JSON text (ints stay ints of any size, floats stay floats)."""
    if _fast_loads is not None:
        try:
            raw = text.encode() if isinstance(text, str) else text
            # orjson reads an integer beyond 64 bits as a float: 19 digits in a row (or a
            # false alarm, such as a long number in a string) take the standard path. A
            # text shorter than that holds none (most arguments and answers).
            if len(raw) < 19 or _NINETEEN_DIGITS not in raw.translate(_DIGITS):
                return _fast_loads(raw)
        except ValueError:  # NaN literals, lone surrogates…: the standard decoder reads them
            pass
    return _decode(text if isinstance(text, str) else text.decode())


def check_value(
    value: Any,
    path: str,
    max_bytes: int | None = DEFAULT_MAX_PAYLOAD,
    *,
    where: str | None = None,
) -> str:
    """JSON of a user's ``value``, or a :class:`PayloadError` naming the field at fault.

    ``path`` names ``value`` in messages (``'data'``, ``'args'``, ``'result'``);
    a nested field is reported as ``data.items[2].when``; ``where`` (``"activity
    'charge'"``) prefixes the message. Tuples become lists (the one conversion
    kept, see ``docs/values.md``). ``max_bytes`` (``None``: no limit) bounds the
    size of the JSON text.
    """
    try:
        text = None
        try:
            # The common case costs one pass: _c_shape accepts exactly the values that
            # are stored as they are (and refuses every value _check would refuse).
            # orjson would also write enums, UUIDs and NaN: only plain values go to it,
            # and its text needs no second look when the walk met no float.
            shape = _c_shape(value)
            if shape:
                text = _fast_text(value, plain=shape == _PLAIN) or _encode(value)
        except RecursionError:  # a cycle, or deeper than Python can walk: _check says which
            text = None
        if text is None:
            _check(value, path, 0, set())
            text = dumps(value)
        if max_bytes is not None and len(text) > max_bytes // 4:
            _check_size(text, path, max_bytes)
    except PayloadError as exc:
        if where:
            raise PayloadError(f"{where}: {exc}", path=exc.path) from None
        raise
    return text


def _check_size(text: str, path: str, max_bytes: int) -> None:
    size = len(text.encode())
    if size > max_bytes:
        raise PayloadError(
            f"{path} is {_size(size)} as JSON, over the payload limit of "
            f"{_size(max_bytes)}; store large data elsewhere and pass a reference, or raise "
            "EngineConfig.max_payload",
            path=path,
        )


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} bytes"


def _child(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if isinstance(key, str) and key.isidentifier():
        return f"{path}.{key}"
    return f"{path}[{key!r}]"


def _check(value: Any, path: str, depth: int, active: set[int]) -> None:
    # Exact types first: they are nearly every value and need no further thought.
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return
    if kind is float or (isinstance(value, float) and not isinstance(value, bool)):
        if not math.isfinite(value):
            raise PayloadError(
                f"{path} is {value!r}, which JSON cannot hold; use None or a string such as "
                f"'{value!r}' instead ({_DOCS})",
                path=path,
            )
        return
    if depth >= MAX_DEPTH:
        shown = path if len(path) < 100 else f"{path[:60]}…{path[-30:]}"
        raise PayloadError(
            f"{shown} is nested more than {MAX_DEPTH} levels deep; flatten it ({_DOCS})",
            path=path,
        )
    if isinstance(value, dict):
        if id(value) in active:
            raise PayloadError(f"{path} contains itself (a cycle); JSON cannot hold it", path=path)
        active.add(id(value))
        for key, item in value.items():
            if not isinstance(key, str):
                raise PayloadError(
                    f"{path} has the key {key!r} ({type(key).__name__}); JSON object keys are "
                    f"strings — convert it, e.g. str(key) ({_DOCS})",
                    path=path,
                )
            _check(item, _child(path, key), depth + 1, active)
        active.discard(id(value))
        return
    if isinstance(value, (list, tuple)):
        if id(value) in active:
            raise PayloadError(f"{path} contains itself (a cycle); JSON cannot hold it", path=path)
        active.add(id(value))
        for index, item in enumerate(value):
            _check(item, _child(path, index), depth + 1, active)
        active.discard(id(value))
        return
    if isinstance(value, (str, int)):  # subclasses: str and IntEnum members, for example
        return
    raise PayloadError(
        f"{path} is {_describe(value)}, which JSON cannot hold; {_hint(value)}", path=path
    )


def _describe(value: Any) -> str:
    if value is UNDEFINED:
        return "undefined"
    name = type(value).__qualname__
    module = type(value).__module__
    qualified = name if module == "builtins" else f"{module}.{name}"
    article = "an" if qualified[:1].lower() in "aeiou" else "a"
    return f"{article} {qualified}"


def _hint(value: Any) -> str:
    if isinstance(value, (_dt.date, _dt.time, JSDate)):
        return f"convert it first, e.g. value.isoformat() ({_DOCS})"
    if isinstance(value, (set, frozenset)):
        return f"convert it first, e.g. sorted(value) or list(value) ({_DOCS})"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"convert it first, e.g. base64.b64encode(value).decode() ({_DOCS})"
    if hasattr(value, "item") and hasattr(value, "dtype"):
        return f"convert it first, e.g. value.item() or value.tolist() ({_DOCS})"
    return f"convert it to dicts, lists, str, int, float, bool and None ({_DOCS})"
