"""Workflow handles: wait for a result, inspect, signal, interrupt and export a workflow."""

from __future__ import annotations

import asyncio
import html
import weakref
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .._codec import loads
from .._ids import parse_compact
from .._replies import text_map, texts_or_none
from ..errors import JobNotFoundError, NonDeterminismError, WorkflowError
from ..errors import TimeoutError as HotMeshTimeout
from ..runtime import blocking, on_runtime, raise_if_cancelled
from ._ledger import Ledger, index_key

if TYPE_CHECKING:
    from ._client import Client


def workflow_error(job_id: str, err: Any, data: dict[str, Any] | None) -> WorkflowError:
    """The exception a failed workflow raises for its caller (type, code, remote stack)."""
    if isinstance(err, str):
        try:
            err = loads(err)
        except ValueError:
            err = {"message": err}
    err = err if isinstance(err, dict) else {}
    detail = (data or {}).get("error") if isinstance(data, dict) else None
    detail = detail if isinstance(detail, dict) else {}
    error_type = detail.get("type") or ("Interrupted" if err.get("code") == 410 else None)
    cls = NonDeterminismError if error_type == "NonDeterminismError" else WorkflowError
    return cls(
        str(err.get("message") or detail.get("message") or "workflow failed"),
        code=int(err.get("code") or detail.get("code") or 500),
        job_id=job_id,
        error_type=error_type,
        stack=err.get("stack") or detail.get("stack"),
        data=data,
    )


def _forget(subscriptions: Any, workflow_id: str, ending: asyncio.Future[Any]) -> None:
    """Drop a finalised handle's completion waiter (from whatever thread the GC runs on)."""
    loop = ending.get_loop()
    if not ending.done() and not loop.is_closed():
        loop.call_soon_threadsafe(subscriptions.forget, workflow_id, ending)


class WorkflowHandle:
    """A started (or existing) workflow, by id. Every method has an ``*_async`` twin."""

    def __init__(
        self,
        client: Client,
        workflow_id: str,
        task_queue: str | None,
        workflow_name: str | None,
        *,
        ending: tuple[Any, asyncio.Future[dict[str, Any]]] | None = None,
    ) -> None:
        self.client = client
        self.workflow_id = workflow_id
        self.task_queue = task_queue
        self.workflow_name = workflow_name
        self._ending = ending
        """(subscriptions, waiter): the completion waiter registered before the workflow
        started, when this handle comes from ``start``."""
        if ending is not None:
            # A handle dropped unawaited lets go of its waiter (on the loop that owns it).
            weakref.finalize(self, _forget, ending[0], workflow_id, ending[1])

    @on_runtime
    async def result_async(self, timeout: float | None = None) -> Any:
        """Wait for the workflow and return its result; its error raises here.

        Raises :class:`~hotmesh_nb.WorkflowError` (``code``, ``error_type``,
        ``stack`` from the remote side; code 410 when interrupted),
        :class:`~hotmesh_nb.NonDeterminismError` when replay found changed
        code, and :class:`~hotmesh_nb.TimeoutError` after ``timeout`` seconds
        (the workflow keeps running).
        """
        hm = await self.client.hotmesh_async()
        ending, self._ending = self._ending, None
        early = ending is not None and ending[0] is hm.engine.subscriptions
        # A handle from start() listened before the workflow existed: no status to read.
        waiter = ending[1] if ending is not None and early else None
        if waiter is None or waiter.cancelled():
            waiter = hm.engine.subscriptions.wait(self.workflow_id)
            early = False
        try:
            if not early:
                # Listen first, then read: an end between the two is not missed.
                status = await hm.get_status_async(self.workflow_id)
                raise_if_cancelled()
                if status == 0 or status < -1:
                    state = await hm.engine.get_state(self.workflow_id)
                    hm.engine.subscriptions.forget(self.workflow_id, waiter)
                    return self._outcome(state.data, state.error)
            payload = await asyncio.wait_for(waiter, timeout)
        except asyncio.TimeoutError:
            hm.engine.subscriptions.forget(self.workflow_id, waiter)
            raise HotMeshTimeout(
                f"workflow '{self.workflow_id}' did not finish within {timeout} s; it keeps "
                "running (is a MeshFlow.Worker serving its task queue?)",
                job_id=self.workflow_id,
            ) from None
        except BaseException:
            hm.engine.subscriptions.forget(self.workflow_id, waiter)
            raise
        return self._outcome(payload.get("d") or {}, payload.get("err"))

    def _outcome(self, data: dict[str, Any], err: Any) -> Any:
        if err:
            raise workflow_error(self.workflow_id, err, data)
        if "response" not in data and data.get("done") is True:
            # The result is mapped into the job data, where the original's rule leaves out a
            # top-level '' (None is stored as null): a finished workflow without one
            # returned ''.
            return ""
        return data.get("response")

    @on_runtime
    async def status_async(self) -> int:
        """The job status: > 0 running, 0 done, < 0 pending (-1) or interrupted."""
        hm = await self.client.hotmesh_async()
        return await hm.get_status_async(self.workflow_id)

    @on_runtime
    async def state_async(self, metadata: bool = False) -> dict[str, Any]:
        """The workflow job's data (``response``, ``done``, …), or data and metadata."""
        hm = await self.client.hotmesh_async()
        state = await hm.get_state_async(self.workflow_id)
        return state if metadata else state["data"]

    @on_runtime
    async def query_state_async(self, fields: list[str]) -> dict[str, str | None]:
        """Current values of searchable fields (names without the ``_``)."""
        hm = await self.client.hotmesh_async()
        names = [f if f.startswith("_") else f"_{f}" for f in fields]
        values = texts_or_none(
            await hm.connection.client.hmget(hm.keys.job(self.workflow_id), names)
        )
        return dict(zip(fields, values, strict=True))

    @on_runtime
    async def signal_async(self, signal_id: str, data: Any = None) -> None:
        """Send a signal (resolves ``wait_for(signal_id)``, now or when it registers)."""
        await self.client.workflow.signal_async(signal_id, data)

    @on_runtime
    async def interrupt_async(
        self, reason: str | None = None, *, throw: bool = True, descend: bool = False
    ) -> bool:
        """Stop the workflow now (its ``result`` raises code 410 unless ``throw=False``)."""
        hm = await self.client.hotmesh_async()
        return await hm.interrupt_async(
            self.workflow_id, reason=reason, throw=throw, descend=descend
        )

    @on_runtime
    async def export_async(self) -> dict[str, Any]:
        """The workflow with a timeline of its durable calls.

        ``timeline`` rows (call order): ``index``, ``type`` (proxy, sleep, wait,
        child, start, hook, signal, search, …), ``name``, ``value`` or
        ``error``, ``attempts``, ``start`` and ``end`` (UTC datetimes; ``end``
        None while the call runs). Also ``status``, ``data``, ``search`` (the
        searchable fields) and ``error``.
        """
        hm = await self.client.hotmesh_async()
        fields = text_map(await hm.connection.client.hgetall(hm.keys.job(self.workflow_id)))
        if not fields:
            raise JobNotFoundError(self.workflow_id)
        ledger = Ledger.from_hash(fields)
        state = await hm.engine.get_state(self.workflow_id)
        return {
            "workflow_id": self.workflow_id,
            "status": state.status,
            "data": state.data,
            "search": {k[1:]: v for k, v in sorted(state.search.items())},
            "error": state.error,
            "timeline": timeline(ledger),
        }

    result = blocking(result_async)
    status = blocking(status_async)
    state = blocking(state_async)
    query_state = blocking(query_state_async)
    signal = blocking(signal_async)
    interrupt = blocking(interrupt_async)
    export = blocking(export_async)

    # -- notebook display ------------------------------------------------------------

    def _snapshot(self) -> dict[str, Any] | None:
        try:
            return self.export()
        except Exception:
            return None

    def __repr__(self) -> str:
        snap = self._snapshot()
        status = _status_text(snap)
        calls = len(snap["timeline"]) if snap else 0
        return (
            f"WorkflowHandle(workflow_id={self.workflow_id!r}, "
            f"workflow={self.workflow_name!r}, status={status}, durable_calls={calls})"
        )

    def _repr_html_(self) -> str:
        try:
            snap = self._snapshot()
            rows = []
            for call in snap["timeline"] if snap else []:
                outcome = call.get("error") or call.get("value")
                rows.append(
                    "<tr>"
                    + "".join(
                        f"<td>{html.escape(str(v))}</td>"
                        for v in (
                            call["index"],
                            call["type"],
                            call["name"] or "",
                            _short(outcome),
                            call["attempts"] or "",
                            _ms(call["start"], call["end"]),
                        )
                    )
                    + "</tr>"
                )
            head = "".join(
                f"<th>{h}</th>"
                for h in ("#", "type", "name", "result", "attempts", "duration (ms)")
            )
            return (
                f"<div><b>workflow</b> {html.escape(self.workflow_id)} "
                f"({html.escape(str(self.workflow_name))}): <b>{_status_text(snap)}</b>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
                "</table></div>"
            )
        except Exception:  # a repr never raises
            return f"<div>workflow {html.escape(self.workflow_id)}</div>"


def _status_text(snap: dict[str, Any] | None) -> str:
    if snap is None:
        return "unknown"
    status = snap["status"]
    if status > 0:
        return "running"
    if status == -1:
        return "pending"
    if snap.get("error"):
        return "interrupted" if snap["error"].get("code") == 410 else "failed"
    return "done"


def _short(value: Any, size: int = 60) -> str:
    text = value.get("message", value) if isinstance(value, dict) and "message" in value else value
    text = str(text)
    return text if len(text) <= size else text[: size - 1] + "…"


def _ms(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return ""
    return f"{(end - start).total_seconds() * 1000:.0f}"


def timeline(ledger: Ledger) -> list[dict[str, Any]]:
    """One row per durable call, in call order."""
    rows: list[dict[str, Any]] = []
    for index in sorted(set(ledger.results) | set(ledger.claims), key=index_key):
        kind, record = ledger.results.get(index, (None, {}))
        claim = ledger.claims.get(index, {})
        kind = kind or claim.get("t")
        start = parse_compact(record.get("s") or claim.get("s"))
        end = parse_compact(record.get("f")) if record.get("f") else None
        if kind == "sleep" and record and start is not None:
            end = start + timedelta(seconds=float(record.get("v") or 0))
        elif record and end is None:
            end = start
        rows.append(
            {
                "index": index,
                "type": kind,
                "name": record.get("n") or claim.get("n") or None,
                "value": record.get("v"),
                "error": record.get("e"),
                "attempts": record.get("a"),
                "start": start,
                "end": end if record else None,
            }
        )
    for field, value in sorted(ledger.search.items()):
        index = field.split("-")[2]
        rows.append(
            {
                "index": index,
                "type": "search",
                "name": None,
                "value": value,
                "error": None,
                "attempts": None,
                "start": None,
                "end": None,
            }
        )
    rows.sort(key=lambda r: index_key(r["index"]))
    return rows
