"""Bulk calls with an optional tqdm progress bar (``HotMesh.pub_many``).

tqdm is imported only when a bar is asked for, so ``import hotmesh_nb`` stays
light. ``tqdm.auto`` draws an ipywidgets bar in a notebook and a text bar in a
terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ..hotmesh import HotMesh

T = TypeVar("T")


def progress(
    items: Iterable[T], *, enabled: bool = True, desc: str | None = None, unit: str = "job"
) -> Iterable[T]:
    """``items`` wrapped in a ``tqdm.auto`` bar when ``enabled`` (else ``items`` unchanged).

    The bar's total is ``len(items)`` when ``items`` has a length.
    """
    if not enabled:
        return items
    try:
        from tqdm.auto import tqdm
    except ImportError as exc:  # pragma: no cover - tqdm is a dependency
        raise ImportError(
            "progress=True needs tqdm; install it with `pip install tqdm` or pass progress=False"
        ) from exc
    total = len(items) if isinstance(items, Sized) else None
    return tqdm(items, total=total, desc=desc, unit=unit)


def _refuse_single(items: object) -> None:
    if isinstance(items, (dict, str, bytes)):
        raise TypeError(
            f"pub_many takes an iterable of job input dicts, not a single {type(items).__name__}; "
            "use hm.pub(topic, data) for one job"
        )


def _checked(items: Iterable[dict[str, Any] | None]) -> Iterator[dict[str, Any] | None]:
    for index, item in enumerate(items):
        if item is not None and not isinstance(item, dict):
            raise TypeError(
                f"pub_many: item {index} is a {type(item).__name__}, not a dict; "
                "pass an iterable of job input dicts (or None for no input)"
            )
        yield item


def pub_many(
    hm: HotMesh,
    topic: str,
    items: Iterable[dict[str, Any] | None],
    *,
    progress_bar: bool = False,
    **options: Any,
) -> list[str]:
    """Start one job per item of ``items`` on ``topic``; their ids, in order.

    Runs in the caller's thread (where a notebook bar can be drawn), one
    ``pub`` per item; ``options`` go to every ``pub``.
    """
    _refuse_single(items)
    bar = progress(items, enabled=progress_bar, desc=topic)
    ids: list[str] = []
    try:
        for item in _checked(bar):
            ids.append(hm.pub(topic, item, **options))
    finally:
        close = getattr(bar, "close", None)
        if close is not None:
            close()
    return ids


async def pub_many_async(
    hm: HotMesh,
    topic: str,
    items: Iterable[dict[str, Any] | None],
    *,
    progress_bar: bool = False,
    **options: Any,
) -> list[str]:
    """The awaitable twin of :func:`pub_many`."""
    _refuse_single(items)
    bar = progress(items, enabled=progress_bar, desc=topic)
    ids: list[str] = []
    try:
        for item in _checked(bar):
            ids.append(await hm.pub_async(topic, item, **options))
    finally:
        close = getattr(bar, "close", None)
        if close is not None:
            close()
    return ids
