"""The error a caller sees when a MeshCall function raised on the worker's side."""

from __future__ import annotations

from typing import Any

from ..errors import WorkflowError


class MeshCallError(WorkflowError):
    """A MeshCall function raised: its type, message and traceback, from wherever it ran.

    ``error_type`` is the exception's qualified class name (``'ValueError'``,
    ``'mypkg.errors.Refused'``), ``message`` its text and ``remote_traceback``
    the traceback formatted in the worker's process (also ``stack``). ``topic``
    names the function's topic and ``job_id`` the call's job. The exception is
    not re-created locally: the worker's classes may not exist in the caller.
    """

    def __init__(
        self,
        message: str,
        *,
        topic: str,
        error_type: str | None = None,
        remote_traceback: str | None = None,
        code: int = 500,
        job_id: str | None = None,
        data: Any = None,
    ) -> None:
        self.topic = topic
        super().__init__(
            message,
            code=code,
            job_id=job_id,
            error_type=error_type,
            stack=remote_traceback,
            data=data,
        )

    @property
    def remote_traceback(self) -> str | None:
        """The traceback formatted where the function ran."""
        return self.stack

    def __str__(self) -> str:
        head = f"{self.error_type}: {self.message}" if self.error_type else self.message
        text = f"{head} (MeshCall topic '{self.topic}', job '{self.job_id}', code {self.code})"
        if self.stack:
            text += f"\n\nRemote traceback:\n{self.stack.rstrip()}"
        return text

    def __reduce__(self) -> Any:
        # Keyword-only arguments: rebuild from attributes so the error pickles.
        return (
            _rebuild,
            (
                self.message,
                self.topic,
                self.error_type,
                self.stack,
                self.code,
                self.job_id,
                self.data,
            ),
        )


def _rebuild(
    message: str,
    topic: str,
    error_type: str | None,
    remote_traceback: str | None,
    code: int,
    job_id: str | None,
    data: Any,
) -> MeshCallError:
    return MeshCallError(
        message,
        topic=topic,
        error_type=error_type,
        remote_traceback=remote_traceback,
        code=code,
        job_id=job_id,
        data=data,
    )
