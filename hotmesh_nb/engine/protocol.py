"""Names shared by the Python side of the engine and its Lua scripts.

Stream messages are compact JSON objects (see ``docs/architecture.md``, "Stream
messages"); their ``k`` field is a :class:`MessageKind`. The step script
(``lua/step.lua``) answers every call with a :class:`StepOutcome`. Both sides use
these names, never bare strings or numbers.
"""

from __future__ import annotations

from enum import Enum, IntEnum


class MessageKind(str, Enum):
    """What a stream message asks for (its ``k`` field)."""

    WORK = "work"
    """Run a worker callback (on a worker topic's stream)."""
    RESPONSE = "response"
    """A worker's answer (leg 2 of a ``worker`` activity)."""
    TRANSITION = "transition"
    """Enter a join activity (several paths lead to it; one enters)."""
    RESULT = "result"
    """A child job's outcome for the ``await`` activity that started it."""
    TIMEHOOK = "timehook"
    """A durable timer fell due (a ``hook`` with ``sleep``)."""
    WEBHOOK = "webhook"
    """A signal for a ``hook`` activity waiting on a topic."""
    CYCLE = "cycle"
    """Re-enter an ancestor activity in a new dimension (a ``cycle`` activity)."""
    AWAIT = "await"
    """Start a child job (an ``await`` activity)."""
    SIGNAL_ALL = "signalall"
    """Signal every job indexed under a facet (``signal`` with ``subtype: all``)."""
    DESCEND = "descend"
    """Interrupt the children of an interrupted job."""


class StepOutcome(IntEnum):
    """The step script's answer (first element of its reply)."""

    DUPLICATE = 0
    """Not applied: the message's guard was seen already (or the job id exists)."""
    APPLIED = 1
    """Applied; the job goes on."""
    ENDED = 2
    """Applied, and the job ended (it was announced)."""
    GONE = -1
    """Not applied: the job does not exist (expired or scrubbed)."""
    STALE = -2
    """Not applied: the message belongs to an older generation of the job id."""
    INACTIVE = -3
    """Not applied: the job has ended (or was interrupted) already."""
