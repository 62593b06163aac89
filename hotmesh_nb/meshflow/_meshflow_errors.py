"""Exceptions seen by workflow and activity code."""

from __future__ import annotations


class FatalError(Exception):
    """Raise from an activity or a workflow to fail at once, without retries."""


class Suspended(BaseException):
    """A durable call has no recorded result yet: this run of the workflow stops here.

    A ``BaseException`` so that ``except Exception`` in workflow code cannot
    swallow it; even ``except BaseException`` cannot keep a run going, because
    the runner treats any run that registered an unrecorded call as suspended,
    whatever the function does afterwards. Never catch it on purpose.
    """
