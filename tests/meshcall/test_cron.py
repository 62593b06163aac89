"""MeshCall.cron end to end: intervals, cron expressions, idempotency, interrupt, decorators."""

from __future__ import annotations

import re
import threading
import time

import pytest
from waiting import wait_until

from hotmesh_nb import HotMesh, JobNotFoundError, MeshCall, meshcall


def status(hm: HotMesh, job_id: str) -> int | None:
    try:
        return hm.get_status(job_id)
    except JobNotFoundError:
        return None


class Ticks:
    """A cron callback that records its arguments."""

    def __init__(self) -> None:
        self.runs: list[tuple] = []
        self.lock = threading.Lock()

    def __call__(self, *args: object) -> int:
        with self.lock:
            self.runs.append(args)
            return len(self.runs)


def test_a_short_interval_runs_max_cycles_times_then_ends(ns: str) -> None:
    ticks = Ticks()
    started = MeshCall.cron(
        "tick", ["a", 1], ticks, id="t1", interval="1 second", max_cycles=3, namespace=ns
    )
    assert started is True
    hm = MeshCall.hotmesh(namespace=ns)
    wait_until(lambda: status(hm, "cron:tick:t1") == 0)
    assert ticks.runs == [("a", 1)] * 3
    assert hm.get_state("cron:tick:t1")["data"] == {"topic": "tick", "cycle": 3}
    # It ended: interrupting it is a no-op, and starting it again starts a new run.
    assert MeshCall.interrupt("tick", "t1", namespace=ns) is False
    assert MeshCall.cron("tick", ["b"], ticks, id="t1", interval=1, max_cycles=1, namespace=ns)
    wait_until(lambda: len(ticks.runs) == 4)
    assert ticks.runs[-1] == ("b",)


def test_the_same_id_while_running_returns_false(ns: str) -> None:
    ticks = Ticks()
    options = {"id": "dup", "interval": "1 hour", "namespace": ns}
    assert MeshCall.cron("job", [], ticks, **options) is True
    assert MeshCall.cron("job", [], ticks, **options) is False
    assert MeshCall.cron("job", [], ticks, **{**options, "id": "other"}) is True
    wait_until(lambda: len(ticks.runs) == 2)  # each ran once at once; the next run is in 1 h
    assert MeshCall.interrupt("job", "dup", namespace=ns) is True
    assert MeshCall.interrupt("job", "other", namespace=ns) is True


def test_interrupt_stops_a_running_cron(ns: str) -> None:
    ticks = Ticks()
    MeshCall.cron("beat", [], ticks, interval="1 second", namespace=ns)  # id: the topic
    hm = MeshCall.hotmesh(namespace=ns)
    wait_until(lambda: len(ticks.runs) >= 2)
    assert MeshCall.interrupt("beat", namespace=ns) is True
    assert status(hm, "cron:beat:beat") < 0  # interrupted
    assert MeshCall.interrupt("beat", namespace=ns) is False
    assert MeshCall.interrupt("beat", "never-started", namespace=ns) is False


def test_delay_postpones_the_first_run(ns: str) -> None:
    ticks = Ticks()
    MeshCall.cron("later", [], ticks, interval=1, delay="1 second", max_cycles=2, namespace=ns)
    hm = MeshCall.hotmesh(namespace=ns)
    timeline = hm.export("cron:later:later")["timeline"]
    nap = [e for e in timeline if e["activity"] == "nap"]
    assert nap and nap[0]["end"] is None  # sleeping on its timer, not run yet
    wait_until(lambda: status(hm, "cron:later:later") == 0)
    assert len(ticks.runs) == 2


def test_a_run_that_raises_does_not_stop_the_schedule(ns: str) -> None:
    runs: list[int] = []

    def fragile() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("first run fails")

    MeshCall.cron("fragile", None, fragile, interval=1, max_cycles=2, namespace=ns)
    hm = MeshCall.hotmesh(namespace=ns)
    wait_until(lambda: status(hm, "cron:fragile:fragile") == 0)
    assert len(runs) == 2
    ticks = [e for e in hm.export("cron:fragile:fragile")["timeline"] if e["activity"] == "tick"]
    assert [e["code"] for e in ticks] == [500, 200]


def test_schedule_only_while_a_worker_elsewhere_serves_the_topic(ns: str) -> None:
    # No callback: this only schedules; the calls queue until a worker serves the topic.
    assert MeshCall.cron("report", [7], id="r", interval=1, max_cycles=2, namespace=ns) is True
    ticks = Ticks()
    MeshCall.connect("report", ticks, namespace=ns)  # brings an engine to fire the timers
    wait_until(lambda: len(ticks.runs) == 2)
    assert ticks.runs == [(7,), (7,)]


def test_a_cron_expression_waits_for_its_schedule(ns: str) -> None:
    # Every second second: each run comes at (never before) its schedule point, and the
    # points, planned by croniter between runs, are distinct even seconds.
    fired: list[float] = []
    assert MeshCall.cron(
        "even", [], lambda: fired.append(time.time()), interval="*/2 * * * * *", namespace=ns
    )
    hm = MeshCall.hotmesh(namespace=ns)
    wait_until(lambda: len(fired) >= 3)
    assert MeshCall.interrupt("even", namespace=ns) is True
    pivots = [e for e in hm.export("cron:even:even")["timeline"] if e["activity"] == "pivot"]
    points = [e["data"]["at"] for e in pivots]
    assert all(at % 2000 == 0 for at in points)
    assert points == sorted(set(points))
    for at, when in zip(points, fired, strict=False):
        assert when >= at / 1000


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"interval": "*/5 * * * * * *"}, re.escape("'*/5 * * * * * *' has 7 fields")),
        ({"interval": "61 * * * *"}, re.escape("invalid cron expression '61 * * * *'")),
        ({"interval": "0 0 31 2 *"}, re.escape("'0 0 31 2 *' never fires")),
        ({"interval": "@every 5m"}, re.escape("unknown cron alias '@every 5m'")),
        ({"interval": "soon"}, "cannot read 'soon' as a duration"),
        ({"interval": 0}, "positive duration"),
        ({"interval": 5, "max_cycles": 0}, "max_cycles must be at least 1"),
        ({"interval": 5, "delay": -1}, "delay must be"),
    ],
)
def test_bad_schedules_are_refused(ns: str, options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MeshCall.cron("bad", [], lambda: None, namespace=ns, **options)


def test_function_decorator(ns: str) -> None:
    @meshcall.function("deco.user", namespace=ns)
    def user(user_id: int) -> dict:
        return {"id": user_id}

    assert user(1) == {"id": 1}  # still a plain local function
    assert user.exec(2) == {"id": 2}
    assert user.exec(3, id="3", ttl="1 minute") == {"id": 3}
    assert user.exec(4, id="3", ttl="1 minute") == {"id": 3}
    assert user.flush("3") is True
    assert user.__name__ == "user" and "deco.user" in repr(user)

    # Re-running the cell serves the new function on the same topic.
    @meshcall.function("deco.user", namespace=ns)
    def user2(user_id: int) -> dict:
        return {"id": user_id, "v": 2}

    assert MeshCall.exec("deco.user", [5], namespace=ns) == {"id": 5, "v": 2}


def test_cron_decorator(ns: str) -> None:
    ticks = Ticks()

    @meshcall.cron("deco.nightly", interval="1 second", max_cycles=2, namespace=ns)
    def nightly() -> int:
        return ticks()

    assert nightly.started is True and nightly.id == "deco.nightly"
    wait_until(lambda: status(nightly.hotmesh, "cron:deco.nightly:deco.nightly") == 0)
    assert len(ticks.runs) == 2

    @meshcall.cron("deco.hourly", interval="1 hour", namespace=ns)
    def hourly() -> None:
        ticks()

    @meshcall.cron("deco.hourly", interval="1 hour", namespace=ns)
    def hourly_again() -> None:
        ticks()

    assert hourly.started is True and hourly_again.started is False
    assert hourly_again.interrupt() is True
    assert hourly.interrupt() is False
