"""Workers: run a Python callback for every message of a topic and send back its result."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import telemetry
from .._codec import check_value, dumps
from .._ids import guid
from .._replies import as_fields
from ..connection import Connection
from ..errors import CallbackExit
from ..keys import WORKER_GROUP, Keys
from ..runtime import cancel_and_wait
from ._batcher import Batcher
from ._config import EngineConfig
from ._consumer import Ack, ConsumerStats, StreamConsumer, add_ack
from ._protocol import Message, Reply, WireVersionError, Work, decode, status_for
from ._quorum import Throttles, member_profile
from ._stacks import remote_stack, reset, share_tracebacks
from ._stepper import Stepper

log = logging.getLogger(__name__)

MAX_RETRIES = 3
"""Most retries a ``retry`` policy can ask for (as in the original)."""


@dataclass
class WorkerMessage:
    """What a worker callback receives."""

    data: dict[str, Any]
    """The activity's mapped input (``input.maps``)."""
    metadata: dict[str, Any]
    """``jid`` (job id), ``gid``, ``aid`` (activity), ``dad``, ``topic``, ``guid``, ``try``."""
    origin: Work | None = field(default=None, repr=False, compare=False)
    """The stream message this came from: :meth:`HotMesh.add` answers it later."""


@dataclass
class Response:
    """A callback result carrying data and a status code.

    ``code`` 200 succeeds, 202 is pending (the activity stays open and more
    responses may follow), 4xx/5xx are errors (a ``retry`` policy may retry
    them; otherwise transitions on that code run or the job fails). A
    ``status`` given beside the code decides instead, as in the original:
    ``Response(data, code=202, status="success")`` closes the activity and
    ``code=500, status="success"`` does not fail the job (only transitions read
    the code).
    """

    data: Any = None
    """Output data (a dict, or any JSON value returned as ``{'response': value}``)."""
    code: int = 200
    """Status code."""
    status: str | None = None
    """``success``, ``pending`` or ``error``; derived from ``code`` when omitted."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Ignored; accepted so callbacks written for the original can return it."""


Callback = Callable[[WorkerMessage], Any]


def normalise(result: Any) -> tuple[str, int, dict[str, Any]]:
    """``(status, code, data)`` of whatever a callback returned."""
    if isinstance(result, Response):
        code = int(result.code)
        data = result.data
        status = result.status or status_for(code)
    elif isinstance(result, dict) and (
        "data" in result and ("metadata" in result or "code" in result or "status" in result)
    ):
        # The original's StreamDataResponse shape: {status?, code?, metadata, data}.
        code = int(result.get("code") or 200)
        data = result.get("data")
        status = result.get("status") or status_for(code)
    else:
        code, data, status = 200, result, "success"
    if data is None:
        data = {}
    elif not isinstance(data, dict):
        data = {"response": data}
    return status, code, data


def error_data(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """``(code, data)`` describing a callback's exception."""
    message = str(exc) or type(exc).__name__
    # An exit is reported as what the code raised (its type, its stack).
    exc = exc.original if isinstance(exc, CallbackExit) else exc
    code = getattr(exc, "code", None)
    code = code if isinstance(code, int) and 400 <= code < 1000 else 500
    data = {
        "message": message,
        "name": type(exc).__name__,
        "stack": remote_stack(exc),
        "code": code,
    }
    return code, data


class WorkerService:
    """The worker of one topic: reads its stream, calls the callback, answers the engine."""

    def __init__(
        self,
        connection: Connection,
        keys: Keys,
        topic: str,
        callback: Callback,
        config: EngineConfig,
        throttles: Throttles | None = None,
        *,
        member: str | None = None,
    ) -> None:
        self.connection = connection
        self.throttles = throttles or Throttles()
        self.started = time.time()
        self.client = connection.client
        self.keys = keys
        self.topic = topic
        self.callback = callback
        self.config = config
        self.guid = member or guid()  # ``member``: the caller's id (MeshFlow's ``guid``)
        self.batcher = Batcher(self.client)
        self.stepper = Stepper(
            self.client, keys, config, self.batcher, relay=connection.cluster, server=connection.url
        )
        self.consumer: StreamConsumer | None = None
        """Reads the topic's stream of every partition (once the partitions are known)."""
        self._starting: asyncio.Task[None] | None = None

    def _make_consumer(self) -> StreamConsumer:
        keys, config, connection = self.keys, self.config, self.connection
        consumer = StreamConsumer(
            self.client,
            keys.worker_streams(self.topic),
            WORKER_GROUP,
            self.guid,
            self._on_message,
            config,
            dead_letter=self._dead_letter,
            batcher=self.batcher,
            reader=connection.reader(config.block_ms),
            handed_back=self._handed_back,
            throttle=lambda: self.throttles.delay(self.topic, self.guid),
            split=connection.cluster,
            leases=keys.work_lease_sets(self.topic),
            server=connection.url,
        )
        self.throttles.listeners.append(consumer.throttle_changed)
        return consumer

    def profile(self) -> dict[str, Any]:
        """This worker's roll-call entry."""
        consumer = self.consumer
        return member_profile(
            "worker",
            self.guid,
            self.keys,
            consumer.stats if consumer is not None else ConsumerStats(),
            topic=self.topic,
            stream=consumer.stream if consumer is not None else "",
            started=self.started,
        )

    async def start(self) -> None:
        """Start consuming the topic (once the app's partitions are known)."""
        if self.keys.known:
            await self._start_consuming()
        else:
            self.keys.on_layout(self._layout_known)

    def _layout_known(self) -> None:
        task = asyncio.get_running_loop().create_task(self._start_consuming(), name="consume")
        self._starting = task

    async def _start_consuming(self) -> None:
        if self.consumer is None:
            consumer = self._make_consumer()
            await consumer.start()
            self.consumer = consumer

    async def _handed_back(self) -> None:
        # Every process of the app hears it on the quorum channel and reclaims now.
        assert self.consumer is not None
        message = {"type": "reclaim", "stream": self.consumer.stream}
        await self.client.publish(self.keys.quorum_channel, dumps(message))

    async def stop(self, grace: float = 2.0) -> None:
        """Stop consuming; running callbacks get ``grace`` seconds, the rest is handed back."""
        await cancel_and_wait(self._starting)
        if self.consumer is not None:
            await self.consumer.stop(grace)
        await self.batcher.close()

    async def _on_message(
        self, stream: str, message_id: str, fields: dict[str, str], deliveries: int
    ) -> bool:
        from ..runtime import get_runtime

        message = decode(fields["m"])
        if not isinstance(message, Work):
            raise ValueError(f"a worker stream holds a {message.KIND.value!r} message")
        metadata = {
            "guid": message.guid,
            "jid": message.job_id,
            "gid": message.gid,
            "aid": message.activity,
            "dad": message.dad,
            "topic": message.topic,
            "try": message.attempt,
        }
        span = telemetry.worker_begin(self.keys.app, self.topic, message)
        token = share_tracebacks(self.config.share_tracebacks)
        try:
            call = get_runtime().call_user(
                self.callback, WorkerMessage(message.data or {}, metadata, message)
            )
            result = await telemetry.within(span, call)
            status, code, data = normalise(result)
            check_value(data, "result", self.config.max_payload)  # fails as the callback's error
        except Exception as exc:
            code, data = error_data(exc)
            status = "error"
            telemetry.worker_failed(span, exc)
        finally:
            reset(token)
        telemetry.worker_end(span, status, code, data)
        assert self.consumer is not None  # it delivered the message
        ack = self.consumer.ack_of(stream, message_id)
        if status == "error" and await self._retry(message, code, stream, ack):
            return True
        return await telemetry.within(span, self._respond(message, status, code, data, ack))

    async def _retry(self, message: Work, code: int, stream: str, ack: Ack) -> bool:
        policy = (message.policy or {}).get("retry") or {}
        allowed = policy.get(str(code))
        if not allowed:
            return False
        attempt = min(int(message.attempt or 0), MAX_RETRIES)
        if int(allowed[0]) <= attempt:
            return False
        await asyncio.sleep(10 ** (attempt + 1) / 1000)  # 10 ms, 100 ms, 1 s
        retry = dataclasses.replace(message, attempt=attempt + 1)

        def requeue(pipe: Any) -> None:
            pipe.xadd(stream, {"m": dumps(retry.to_wire())})
            add_ack(pipe, ack)

        await self.batcher.submit(requeue)
        return True

    async def _respond(
        self, message: Work, status: str, code: int, data: Any, ack: Ack | None = None
    ) -> bool:
        """Complete the activity with the callback's result (leg 2, in place)."""
        return await self.stepper.resume(Reply.answering(message, status, code, data), ack)

    async def _dead_letter(
        self, stream: str, message_id: str, fields: dict[str, str], deliveries: int, reason: str
    ) -> None:
        # First the job: it must not wait forever for this activity (the step's guard
        # makes a second answer after a crash harmless); then the record of why.
        try:
            message: Message | None = decode(fields["m"])
        except (KeyError, ValueError, WireVersionError):
            message = None
        if isinstance(message, Work):
            await self._respond(
                message, "error", 999, {"message": f"stream message {reason}", "code": 999}
            )
        part = self.keys.partition_of_key(stream) or self.keys.part(0)
        await self.client.xadd(
            part.dead_letters,
            as_fields(
                {
                    "stream": stream,
                    "id": message_id,
                    "error": reason,
                    **fields,
                }
            ),
            maxlen=self.config.dead_letter_cap,
            approximate=False,  # letters are rare: an exact cap costs nothing
        )
