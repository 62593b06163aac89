"""``@cron``: seconds until a cron expression next fires (UTC)."""

from __future__ import annotations

import logging
import os
import re
import time as _time
from datetime import datetime, timezone
from typing import Any

from .._function_registry import Family
from .._values import UNDEFINED

family = Family("cron")
logger = logging.getLogger(__name__)

# The original's 5-field validation (numbers and '*' only; no steps or names).
_VALID_CRON = re.compile(
    r"^(\*|([0-5]?\d)) (\*|([01]?\d|2[0-3])) (\*|([12]?\d|3[01])) (\*|([1-9]|1[0-2])) "
    r"(\*|([0-6](?:-[0-6])?(?:,[0-6])?))$"
)


def fidelity_seconds() -> int:
    """``HMSH_FIDELITY_SECONDS`` (default 5): the engine's time-hook resolution."""
    try:
        return int(os.environ.get("HMSH_FIDELITY_SECONDS", "5"))
    except ValueError:
        return 5


def is_valid_cron(expression: Any) -> bool:
    """True when ``expression`` passes the original's 5-field cron check."""
    return isinstance(expression, str) and _VALID_CRON.match(expression) is not None


@family.register()
def nextDelay(cronExpression: Any = UNDEFINED) -> int:
    """Seconds until ``cronExpression`` next fires (UTC), at least ``HMSH_FIDELITY_SECONDS``;
    ``-1`` when the expression is invalid or the delay is not positive."""
    if not is_valid_cron(cronExpression):
        return -1
    from croniter import croniter

    now = _time.time()
    try:
        start = datetime.fromtimestamp(now, tz=timezone.utc)
        following = croniter(cronExpression, start).get_next(datetime)
    except (ValueError, KeyError, ArithmeticError) as exc:
        logger.debug("cron expression %r rejected: %s", cronExpression, exc)
        return -1
    delay = following.timestamp() - now
    if delay <= 0:
        return -1
    fidelity = fidelity_seconds()
    if delay < fidelity:
        return fidelity
    return int(delay + 0.5)  # JS Math.round of a positive number
