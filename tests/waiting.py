"""Waiting for a condition in tests that watch real processes and servers.

These are guards against hanging, not speed claims: tests never assert durations.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest


def check_deadline(deadline: float, reason: str = "condition not reached in time") -> None:
    """Fail the test once ``time.monotonic()`` has passed ``deadline``."""
    if time.monotonic() >= deadline:
        pytest.fail(reason)


def wait_until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll ``check`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        check_deadline(deadline)
        time.sleep(0.02)
