"""Activity types: each module implements one type's legs."""

from __future__ import annotations

from typing import Any, Protocol

from ...model import ActivitySpec
from .._protocol import Message
from .._step import Step
from . import _await_activity as await_
from . import _cycle_activity as cycle
from . import _hook_activity as hook
from . import _interrupt_activity as interrupt
from . import _signal_activity as signal
from . import _worker_activity as worker


class ActivityType(Protocol):
    """What an activity type provides to the engine."""

    def enter(self, step: Step, activity: ActivitySpec, dad: str) -> None:
        """Leg 1: the activity is reached by a transition."""

    def resume(self, step: Step, activity: ActivitySpec, dad: str, message: Message) -> None:
        """Leg 2: a response, signal or timer for the activity arrived."""


TYPES: dict[str, Any] = {
    "worker": worker,
    "hook": hook,
    "await": await_,
    "signal": signal,
    "cycle": cycle,
    "interrupt": interrupt,
}
"""Activity type name → module implementing it (the trigger runs from ``pub``)."""
