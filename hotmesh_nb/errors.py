"""The exception tree of hotmesh_nb.

Every error raised by the library derives from :class:`HotMeshError`, so one
``except HotMeshError`` catches them all. Each message says what was wrong
and, where it can, how to fix it.
"""

from __future__ import annotations

import builtins
from typing import Any


class HotMeshError(Exception):
    """Base class of every error raised by hotmesh_nb."""


class ServerError(HotMeshError):
    """The embedded server could not be found, started or reached."""


class ConnectError(HotMeshError):
    """A Redis-compatible server could not be reached or refused the credentials."""


class DeployError(HotMeshError):
    """An app could not be deployed or activated."""


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
    """A job with the requested id already exists."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(
            f"a job with id '{job_id}' already exists; choose another id or scrub the old job"
        )


class JobNotFoundError(HotMeshError):
    """No job (or workflow) has the requested id, or it has expired."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(f"job '{job_id}' was not found (never created, scrubbed or expired)")


class TimeoutError(HotMeshError, builtins.TimeoutError):
    """A blocking call gave up waiting. Also a builtin ``TimeoutError``."""


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
