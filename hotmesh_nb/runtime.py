"""The per-process runtime: one daemon thread running one asyncio event loop.

Every engine, worker, router, timer and subscription of the process lives on
this loop, so a notebook cell that blocks (pandas work, ``time.sleep``) never
freezes the mesh. Public objects expose blocking methods built with
:func:`blocking` from their ``*_async`` twins:

* the blocking method submits the coroutine to the runtime loop and waits;
  called on the runtime thread itself (inside a callback) it raises at once,
  naming the twin, instead of deadlocking;
* the ``*_async`` twin can be awaited from any loop (a kernel's, FastAPI's):
  it bridges to the runtime loop and back.

Long-lived services (workers, engines, subscriptions) register under a key so
that re-running a notebook cell returns the running service instead of
starting a second one. :func:`shutdown` stops them all.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextvars
import functools
import inspect
import logging
import os
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from typing import Any, ParamSpec, Protocol, TypeVar

from . import telemetry
from ._bridge import Bridge
from ._stall import StallWatch
from .errors import CallbackExit, HotMeshError

log = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")

CALLBACK_THREADS = 32
"""Threads available to plain ``def`` callbacks (they must not stall the loop)."""


class Service(Protocol):
    """A long-lived object owned by the runtime (worker, engine, subscription)."""

    async def stop(self) -> None:
        """Stop promptly and release every resource."""


async def contained(awaitable: Awaitable[T]) -> T:
    """Await user code, turning an exit or interrupt it raises into :class:`CallbackExit`."""
    try:
        return await awaitable
    except (Exception, asyncio.CancelledError):
        raise
    except BaseException as exc:
        raise CallbackExit(exc) from None


def _call_contained(fn: Callable[..., T], *args: Any) -> T:
    """Call user code in a thread, turning an exit or interrupt into :class:`CallbackExit`."""
    try:
        return fn(*args)
    except Exception:
        raise
    except BaseException as exc:
        raise CallbackExit(exc) from None


def _new_loop() -> asyncio.AbstractEventLoop:
    """The runtime's own event loop: uvloop when installed (the ``fast`` extra).

    The loop lives on the runtime's thread and nothing but hotmesh code runs on it
    directly, so its implementation is ours to choose; the user's own loops (a kernel's,
    FastAPI's) are never touched. ``HOTMESH_UVLOOP=0`` keeps asyncio's loop.
    """
    if os.environ.get("HOTMESH_UVLOOP", "1").strip() not in ("0", "false", "no", "off"):
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


class Runtime:
    """A background event loop thread and the services that live on it."""

    def __init__(self) -> None:
        self.loop = _new_loop()
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=CALLBACK_THREADS, thread_name_prefix="hotmesh-callback"
        )
        self.loop.set_default_executor(self.executor)
        self._services: dict[Hashable, Service] = {}
        self._starting: dict[Hashable, asyncio.Future[Any]] = {}
        self._closed = False
        self._bridges: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Bridge] = (
            weakref.WeakKeyDictionary()
        )
        """One bridge per event loop that awaits ``*_async`` calls (see ``_bridge``)."""
        ready = threading.Event()
        self.thread = threading.Thread(
            target=self._main, args=(ready,), name="hotmesh-runtime", daemon=True
        )
        self.thread.start()
        ready.wait()
        self.stall_watch = StallWatch(self.loop, self.thread)
        """Warns, naming the code, when something holds this loop (see ``_stall``)."""
        self.stall_watch.start()

    def _main(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        try:
            self.loop.run_forever()
        finally:
            self.loop.close()

    # -- running code on the loop -------------------------------------------------

    @property
    def on_runtime_thread(self) -> bool:
        """True when the caller runs on the runtime's own thread."""
        return threading.current_thread() is self.thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the runtime loop from any thread."""
        if self._closed:
            coro.close()
            raise HotMeshError("the hotmesh runtime was shut down; call the API again to restart")
        # The caller's active span goes along (a job started inside it is its child).
        return asyncio.run_coroutine_threadsafe(telemetry.carry(coro), self.loop)

    def run(
        self, coro: Coroutine[Any, Any, T], *, name: str = "this call", timeout: float | None = None
    ) -> T:
        """Run ``coro`` on the runtime and block until it finishes.

        Raises at once when called on the runtime thread: waiting there would
        deadlock the loop that has to do the work.
        """
        if self.on_runtime_thread:
            coro.close()
            raise HotMeshError(
                f"{name}() blocks and cannot be called on the hotmesh runtime thread "
                f"(from an async callback); use `await {name}_async(...)` instead"
            )
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise
        except BaseException:
            # KeyboardInterrupt in a notebook: do not leave the work running.
            future.cancel()
            raise

    async def run_async(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the runtime loop from whatever loop the caller is on."""
        return await self.route(coro)

    def route(self, coro: Coroutine[Any, Any, T]) -> Awaitable[T]:
        """What the caller's loop awaits to run ``coro`` on the runtime loop: ``coro``
        itself when the caller is on it (no layer of its own: every API call goes here)."""
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is self.loop:
            return coro
        if current is None or self._closed:
            return asyncio.wrap_future(self.submit(coro))
        bridge = self._bridges.get(current)
        if bridge is None:
            bridge = self._bridges.setdefault(current, Bridge(self.loop, current))
        # The caller's active span goes along (a job started inside it is its child).
        return bridge.call(telemetry.carry(coro))

    def call_user(self, fn: Callable[..., Any], *args: Any) -> Awaitable[Any]:
        """Call a user callback: ``async def`` on the loop, plain ``def`` in a thread;
        await what this returns for its value.

        A ``BaseException`` that is not an ``Exception`` (``sys.exit()``,
        ``KeyboardInterrupt``) comes back as :class:`~hotmesh_nb.errors.CallbackExit`:
        let through, it would stop this loop and with it the whole mesh of the process.
        Not a coroutine itself: every worker message calls it.
        """
        if inspect.iscoroutinefunction(fn):
            return contained(fn(*args))
        return self._call_in_thread(fn, args)

    async def _call_in_thread(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        # The thread runs in a copy of the caller's context: context variables set for
        # the call (an activity's heartbeat, a trace) reach plain ``def`` code too.
        context = contextvars.copy_context()
        result = await self.loop.run_in_executor(
            self.executor, functools.partial(context.run, _call_contained, fn, *args)
        )
        if inspect.isawaitable(result):
            return await contained(result)
        return result

    # -- the service registry -----------------------------------------------------

    async def service(self, key: Hashable, factory: Callable[[], Awaitable[Any]]) -> Any:
        """Return the service registered under ``key``, starting it with ``factory`` once.

        Concurrent callers with the same key share one start.
        """
        existing = self._services.get(key)
        if existing is not None:
            return existing
        pending = self._starting.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Any] = self.loop.create_future()
        self._starting[key] = future
        try:
            created = await factory()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: the caller gets it below
            raise
        finally:
            self._starting.pop(key, None)
        self._services[key] = created
        future.set_result(created)
        return created

    def running(self, key: Hashable) -> Any | None:
        """The service registered under ``key``, None when none is (or it is still starting)."""
        return self._services.get(key)

    def services(self) -> dict[Hashable, Any]:
        """A snapshot of the registered services."""
        return dict(self._services)

    def forget(self, key: Hashable) -> None:
        """Drop ``key`` from the registry (the service stopped by itself)."""
        self._services.pop(key, None)

    async def stop_service(self, key: Hashable) -> None:
        """Stop and unregister one service."""
        svc = self._services.pop(key, None)
        if svc is not None:
            await svc.stop()

    # -- shutdown -----------------------------------------------------------------

    async def _stop_all(self, grace: float = 2.0) -> None:
        services = list(self._services.items())
        self._services.clear()
        results = await asyncio.gather(
            *(_stop(svc, grace) for _, svc in reversed(services)), return_exceptions=True
        )
        for (key, _), result in zip(reversed(services), results):
            if isinstance(result, BaseException):
                log.warning("stopping %r failed: %r", key, result)
        me = asyncio.current_task()
        others = [t for t in asyncio.all_tasks() if t is not me]
        for task in others:
            task.cancel()
        if others:
            await asyncio.gather(*others, return_exceptions=True)
        for hook in list(_close_hooks):
            try:
                await hook()
            except Exception as exc:  # a close hook must not block the rest
                log.warning("close hook failed: %r", exc)

    def shutdown(self, timeout: float = 5.0, grace: float = 2.0) -> None:
        """Stop every service, cancel leftover tasks, stop the loop and join the thread.

        Consumers stop reading at once; callbacks and steps in flight get ``grace``
        seconds to finish, and what is left is handed back for another process.
        """
        if self._closed:
            return
        if self.on_runtime_thread:
            raise HotMeshError(
                "shutdown() cannot run on the hotmesh runtime thread; "
                "use `await hotmesh_nb.shutdown_async()`"
            )
        try:
            asyncio.run_coroutine_threadsafe(self._stop_all(grace), self.loop).result(
                max(timeout, grace + 3.0)
            )
        except Exception as exc:
            log.warning("shutdown did not finish cleanly: %r", exc)
        self._closed = True
        self.stall_watch.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout)
        self.executor.shutdown(wait=False, cancel_futures=True)
        # Idle callback threads exit as soon as they see the shutdown; a callback
        # still running user code is left to finish on its own (daemon thread).
        for worker in list(getattr(self.executor, "_threads", ())):
            worker.join(0.5)


_lock = threading.Lock()
_runtime: Runtime | None = None
_close_hooks: list[Callable[[], Awaitable[None]]] = []


def get_runtime() -> Runtime:
    """The process's runtime, started on first use (and again after a shutdown)."""
    global _runtime
    rt = _runtime
    if rt is not None and not rt._closed:
        return rt
    with _lock:
        if _runtime is None or _runtime._closed:
            _runtime = Runtime()
        return _runtime


def on_close(hook: Callable[[], Awaitable[None]]) -> None:
    """Register a coroutine function run on the loop at shutdown (closing clients)."""
    _close_hooks.append(hook)


async def _stop(service: Service, grace: float) -> None:
    """Stop ``service``, passing ``grace`` to the services that take one."""
    if "grace" in inspect.signature(service.stop).parameters:
        await service.stop(grace=grace)  # type: ignore[call-arg]
    else:
        await service.stop()


def shutdown(timeout: float = 5.0, grace: float = 2.0) -> None:
    """Stop every engine, worker and subscription of this process and the runtime thread.

    Workers and engines stop reading at once; what they hold gets ``grace`` seconds to
    finish and is then handed back, so another process takes it over at once (a drain:
    ``hotmesh-nb worker`` does this on SIGTERM). Safe to call twice; the next API call
    starts a fresh runtime.
    """
    global _runtime
    with _lock:
        rt, _runtime = _runtime, None
    if rt is not None:
        rt.shutdown(timeout, grace)


async def shutdown_async(timeout: float = 5.0, grace: float = 2.0) -> None:
    """Awaitable twin of :func:`shutdown`, for code running on another event loop."""
    await asyncio.get_running_loop().run_in_executor(None, shutdown, timeout, grace)


def raise_if_cancelled() -> None:
    """Re-raise a cancellation that a library call swallowed.

    redis-py can absorb a ``CancelledError`` inside a command; code that goes on
    to wait without a timeout would then wait forever for a caller that left.
    """
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)  # Python 3.11+
    if cancelling is not None and cancelling():
        raise asyncio.CancelledError


async def cancel_and_wait(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel tasks and wait until they have ended.

    Cancels again while a task is still running: a library may swallow one
    cancellation (redis-py can, inside a command), which would otherwise leave
    a stopping loop running forever.
    """
    pending = {t for t in tasks if t is not None and not t.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.05)


def on_runtime(
    async_fn: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """Make an ``*_async`` API method run on the runtime loop, whichever loop awaits it.

    Redis clients, workers and timers are bound to the runtime loop; this lets
    a FastAPI handler or a notebook cell ``await`` the method directly.
    """

    @functools.wraps(async_fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        return await get_runtime().route(async_fn(*args, **kwargs))

    return wrapper


def blocking(async_fn: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    """Build the blocking twin of an ``*_async`` function or method.

    ``pub = blocking(pub_async)`` gives ``pub(...)`` that runs ``pub_async`` on
    the runtime and waits for it; on the runtime thread it raises naming
    ``pub_async``.
    """
    name = async_fn.__name__.removesuffix("_async")

    @functools.wraps(async_fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        return get_runtime().run(async_fn(*args, **kwargs), name=name)

    wrapper.__name__ = name
    wrapper.__qualname__ = async_fn.__qualname__.removesuffix("_async")
    wrapper.__doc__ = (
        f"Blocking twin of ``{async_fn.__name__}`` (same arguments).\n\n{async_fn.__doc__ or ''}"
    )
    return wrapper


atexit.register(shutdown, 2.0)
