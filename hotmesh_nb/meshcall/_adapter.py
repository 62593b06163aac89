"""Turn a plain function into the worker callback of a MeshCall topic.

The worker receives ``{'args': '<JSON list>'}``, calls ``fn(*args)`` (``async
def`` on the runtime loop, plain ``def`` in a thread) and answers
``{'response': '<JSON of the return value>'}``. When ``fn`` raises, the
answer is an error (code 500) carrying the exception's qualified type,
message and formatted traceback, which the caller re-raises as
:class:`~hotmesh_nb.meshcall.MeshCallError`.
"""

from __future__ import annotations

import concurrent.futures.thread
import inspect
from collections.abc import Callable
from types import TracebackType
from typing import Any

from .. import runtime
from .._codec import check_value, loads
from ..engine._stacks import remote_stack
from ..engine._worker_service import Response, WorkerMessage
from ..errors import PayloadError
from ..runtime import contained, get_runtime
from ._meshcall_app import ERROR_CODE

# Frames a remote traceback leaves out: they are the same for every call.
_PLUMBING = frozenset(
    {__file__, runtime.__file__, concurrent.futures.thread.__file__},
)


def encode(value: Any, what: str, path: str = "value") -> str:
    """JSON text of ``value``; a clear ``TypeError`` naming the field when it is not JSON.

    The same rules as every other value of the mesh (``check_value``): nothing
    is converted silently, so the caller gets back exactly what the function
    returned.
    """
    try:
        return check_value(value, path, None)
    except PayloadError as exc:
        raise TypeError(
            f"{what} must be JSON values (dict with str keys, list, str, int, float, bool, "
            f"None): {exc}"
        ) from None


def qualified_name(kind: type) -> str:
    """``ValueError`` for builtins, ``package.module.Class`` otherwise."""
    module = kind.__module__
    if module in ("builtins", "__main__"):
        return kind.__qualname__
    return f"{module}.{kind.__qualname__}"


def _user_frames(tb: TracebackType | None) -> TracebackType | None:
    """``tb`` without its leading frames in this adapter, the runtime or the thread pool."""
    while tb is not None and tb.tb_frame.f_code.co_filename in _PLUMBING:
        tb = tb.tb_next
    return tb


def error_response(exc: BaseException) -> Response:
    """The worker's answer when the function raised."""
    stack = remote_stack(exc, _user_frames(exc.__traceback__))
    return Response(
        {
            "message": str(exc) or type(exc).__name__,
            "name": qualified_name(type(getattr(exc, "original", exc))),
            "stack": stack,
            "code": ERROR_CODE,
        },
        code=ERROR_CODE,
    )


def worker_callback(topic: str, fn: Callable[..., Any]) -> Callable[[WorkerMessage], Any]:
    """The :class:`~hotmesh_nb.Worker` callback serving ``topic`` with ``fn``."""
    what = f"the return value of MeshCall topic '{topic}'"
    # Decided once: what ``Runtime.call_user`` would find on every call.
    on_loop = inspect.iscoroutinefunction(fn)

    async def serve(message: WorkerMessage) -> Any:
        try:
            text = message.data.get("args")
            args = loads(text) if isinstance(text, str) else (text or [])
            if on_loop:
                value = await contained(fn(*args))
            else:
                value = await get_runtime().call_user(fn, *args)
            return {"response": encode(value, what, "result")}
        except Exception as exc:  # the caller gets it, with its type and traceback
            return error_response(exc)

    serve.__qualname__ = f"meshcall[{topic}]"
    return serve
