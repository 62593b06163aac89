"""The loop watch (``_stall``): code that holds the runtime loop is named while it does."""

from __future__ import annotations

import logging
import sys
import threading
import time

import pytest

import hotmesh_nb
from hotmesh_nb import HotMesh, Worker
from hotmesh_nb._stall import culprit, threshold

APP = """
app:
  id: stall
  version: '1'
  graphs:
    - subscribes: stall.go
      activities:
        t1: {type: trigger}
        w1:
          type: worker
          topic: stall.work
          job: {maps: {out: '{$self.output.data.out}'}}
      transitions:
        t1: [{to: w1}]
"""


async def holds_the_loop(message: object) -> dict:
    time.sleep(2.0)  # blocking, in an async def: every job of the process waits
    return {"out": 1}


def test_a_callback_that_blocks_the_loop_is_named_while_it_blocks(
    redis_url: str, namespace: str, caplog: pytest.LogCaptureFixture, monkeypatch
) -> None:
    monkeypatch.setenv("HOTMESH_STALL_WARNING", "0.3")
    hm = HotMesh.init(
        "stall",
        connection=redis_url,
        namespace=namespace,
        workers=[Worker("stall.work", holds_the_loop)],
    )
    try:
        hm.deploy(APP)
        hm.activate("1")
        with caplog.at_level(logging.WARNING, logger="hotmesh_nb.runtime"):
            assert hm.pubsub("stall.go", {}, timeout=30) == {"out": 1}
            time.sleep(0.5)  # the loop's answer, then the watch's next tick
        messages = [r.getMessage() for r in caplog.records if r.name == "hotmesh_nb.runtime"]
        held = [m for m in messages if "has been held for" in m]
        assert len(held) == 1, messages  # once per stall
        assert "holds_the_loop" in held[0] and "test_stall.py" in held[0]
        assert any("free again after" in m for m in messages)
    finally:
        hotmesh_nb.shutdown()


def test_the_culprit_is_the_innermost_frame_outside_the_machinery() -> None:
    def user_code() -> str | None:
        return culprit(sys._getframe())

    assert (user_code() or "").startswith("test_the_culprit_is_the_innermost_frame")
    # A thread that runs only the standard library (as the loop's thread does while it
    # waits for the GIL another thread holds): nobody to name.
    event = threading.Event()
    waiter = threading.Thread(target=event.wait, daemon=True)
    waiter.start()
    try:
        time.sleep(0.05)
        assert culprit(sys._current_frames()[waiter.ident or 0]) is None
    finally:
        event.set()
        waiter.join(5)


def test_the_threshold_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("HOTMESH_STALL_WARNING", "2.5")
    assert threshold() == 2.5
    monkeypatch.setenv("HOTMESH_STALL_WARNING", "0")
    assert threshold() == 0.0
    monkeypatch.setenv("HOTMESH_STALL_WARNING", "soon")
    assert threshold() == 1.0  # a bad value keeps the default
    monkeypatch.delenv("HOTMESH_STALL_WARNING")
    assert threshold() == 1.0
