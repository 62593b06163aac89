"""Two small parts of every step: a consumer's handler slots and this process's token.

Both are asked on every step, so neither may cost a coroutine or a system call; these
tests pin what they answer.
"""

from __future__ import annotations

import asyncio
import os

from hotmesh_nb.engine._consumer import _Slots
from hotmesh_nb.engine._waiters import process_token


def test_a_free_slot_is_taken_at_once_and_a_full_or_queued_semaphore_refuses() -> None:
    async def scenario() -> list[bool]:
        slots = _Slots(1)
        seen = [slots.try_acquire(), slots.try_acquire()]  # the one slot, then none
        waiter = asyncio.ensure_future(slots.acquire())  # queues behind the held slot
        await asyncio.sleep(0)
        slots.release()
        # The released slot belongs to the queued waiter: taking it now would jump the queue.
        seen.append(slots.try_acquire())
        await waiter
        slots.release()
        seen.append(slots.try_acquire())
        return seen

    assert asyncio.run(scenario()) == [True, False, False, True]


def test_the_process_token_is_stable_and_a_forked_child_gets_its_own() -> None:
    token = process_token()
    assert token == process_token()
    assert token.startswith(f"P{os.getpid()}.")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its token, then leave without running any cleanup
        try:
            os.write(write, process_token().encode())
        finally:
            os._exit(0)
    os.close(write)
    child = os.read(read, 200).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert child.startswith(f"P{pid}.") and child != token
    assert process_token() == token
