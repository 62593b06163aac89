"""The exception tree of hotmesh_nb.

Every error raised by the library derives from :class:`HotMeshError`, so one
``except HotMeshError`` catches them all. Each message says what was wrong
and, where it can, how to fix it::

    HotMeshError
    ├── ServerError             the embedded server cannot be found, started or reached
    ├── ConnectError            a server is unreachable or refuses the credentials
    ├── ServerFullError         the server reached maxmemory; nothing was queued
    ├── PermissionDeniedError   an ACL refused a command (also redis' NoPermissionError)
    ├── CallbackExit            user code raised SystemExit, KeyboardInterrupt, …
    ├── UnservedTopicError      a topic nobody serves is full; the job was not created
    ├── DeployError             an app could not be deployed or activated
    │   └── ValidationError     its YAML is invalid (file, line, activity)
    ├── MappingError            a mapping rule is malformed or failed
    ├── PayloadError            a value JSON cannot hold exactly (also TypeError, ValueError)
    ├── DuplicateJobError       "Duplicate job: <id>"
    ├── JobNotFoundError        no such job (never created, scrubbed or expired)
    ├── TimeoutError            a wait gave up (also the builtin TimeoutError); job_id
    ├── JobError                a job ended with an error: code, message, job_id, type
    │   └── WorkflowError       a MeshFlow workflow failed
    │       ├── NonDeterminismError   replay found changed workflow code
    │       └── MeshCallError         a MeshCall function raised (meshcall.errors)
    ├── QueryError              a search query is malformed (search.query)
    └── ActivityTimeoutError    an activity attempt timed out (meshflow.activity)
"""

from __future__ import annotations

import builtins
from typing import Any

from redis import exceptions as _redis_errors


class HotMeshError(Exception):
    """Base class of every error raised by hotmesh_nb."""


class ServerError(HotMeshError):
    """The embedded server could not be found, started or reached."""


class ConnectError(HotMeshError):
    """A Redis-compatible server could not be reached or refused the credentials."""


class ServerFullError(HotMeshError):
    """The server refused a write because it reached ``maxmemory``; nothing was queued."""


class PermissionDeniedError(HotMeshError, _redis_errors.NoPermissionError):
    """The server's ACL refused a command (``NOPERM``): the user may not touch that key,
    channel or command.

    ``namespace`` is the namespace the refused command aimed at (when a key or
    channel names one), ``user`` the ACL user, ``command`` the command's name. It is
    also a redis-py ``NoPermissionError``, so code that catches that keeps working.
    """

    def __init__(self, message: str, *, namespace: str | None, user: str, command: str) -> None:
        super().__init__(message)
        self.namespace = namespace
        self.user = user
        self.command = command


class CallbackExit(HotMeshError):
    """User code raised a ``BaseException`` that is not an ``Exception``.

    ``sys.exit()``, ``KeyboardInterrupt`` or a custom ``BaseException`` in a
    callback, activity or workflow would stop the event loop every engine and
    worker of the process lives on. The call fails with this error instead
    (``original`` holds what was raised) and the mesh goes on. It is not retried:
    exiting is a decision of the code, not a passing failure.
    """

    def __init__(self, original: BaseException) -> None:
        self.original = original
        kind = self.error_type = type(original).__name__
        detail = f" {original}" if str(original) else ""
        super().__init__(
            f"{kind}{detail} raised by user code; a callback must not exit or interrupt the "
            "process, so this call failed instead"
        )
        self.__traceback__ = original.__traceback__


class UnservedTopicError(HotMeshError):
    """A new job was refused: its worker topic has too many messages waiting and no live
    worker (``EngineConfig.unserved_cap``). Nothing was written."""


class DeployError(HotMeshError):
    """An app could not be deployed or activated."""


class LayoutUnknownError(DeployError):
    """A job's keys were asked for before the app's number of partitions was known here
    (the app is not deployed yet)."""


class ValidationError(DeployError):
    """A YAML app is invalid.

    ``file``, ``line`` and ``activity`` locate the problem when known; they are
    also part of the message.
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        line: int | None = None,
        activity: str | None = None,
    ) -> None:
        self.reason = reason
        self.file = file
        self.line = line
        self.activity = activity
        where = []
        if file:
            where.append(file if line is None else f"{file}:{line}")
        elif line is not None:
            where.append(f"line {line}")
        if activity:
            where.append(f"activity '{activity}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {reason}" if prefix else reason)


class MappingError(HotMeshError):
    """A mapping rule is malformed or failed while being evaluated.

    ``path`` is the rule's location (for example ``a1.job.maps.total``) when the
    caller knows it.
    """

    def __init__(self, message: str, *, rule: Any = None, path: str | None = None) -> None:
        self.rule = rule
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class PayloadError(HotMeshError, TypeError, ValueError):
    """A value cannot be stored exactly (NaN, a date, a set, a non-``str`` key, ...) or is
    over the payload size limit; raised before anything is queued.

    ``path`` names the field at fault (``data.items[2].when``). It is a ``TypeError``
    and a ``ValueError`` too, so code catching what ``json.dumps`` raises still works.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(message)


class DuplicateJobError(HotMeshError):
    """A job with the requested id already exists (choose another id, or scrub the old job).

    The message is the original's, word for word: ``Duplicate job: <id>``.
    """

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(f"Duplicate job: {job_id}")


class JobNotFoundError(HotMeshError):
    """No job (or workflow) has the requested id, or it has expired."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(f"job '{job_id}' was not found (never created, scrubbed or expired)")


class TimeoutError(HotMeshError, builtins.TimeoutError):
    """A blocking call gave up waiting. Also a builtin ``TimeoutError``.

    When it waited for a job, ``job_id`` names the job (it keeps running: follow it
    with ``get_status``) and ``code`` is 504, as in the original's
    ``{code: 504, message: 'timeout', job_id}``.
    """

    code = 504

    def __init__(self, message: str = "timeout", *, job_id: str | None = None) -> None:
        self.job_id = job_id
        super().__init__(message)


class JobError(HotMeshError):
    """A job ended with an error: carries its ``code``, ``message`` and ``job_id``.

    ``error_type`` names the exception a worker raised (when one did) and
    ``stack`` is its remote traceback.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int = 500,
        job_id: str | None = None,
        data: Any = None,
        stack: str | None = None,
        error_type: str | None = None,
    ) -> None:
        self.error_type = error_type
        self.code = code
        self.job_id = job_id
        self.data = data
        self.stack = stack
        self.message = message
        suffix = f" (job '{job_id}', code {code})" if job_id else f" (code {code})"
        super().__init__(f"{message}{suffix}")


class WorkflowError(JobError):
    """A MeshFlow workflow failed; ``error_type`` and ``stack`` come from the remote side."""

    def __init__(
        self,
        message: str,
        *,
        code: int = 500,
        job_id: str | None = None,
        error_type: str | None = None,
        stack: str | None = None,
        data: Any = None,
    ) -> None:
        super().__init__(
            message, code=code, job_id=job_id, stack=stack, data=data, error_type=error_type
        )


class NonDeterminismError(WorkflowError):
    """Replayed workflow code asked for a durable call that differs from the history."""
