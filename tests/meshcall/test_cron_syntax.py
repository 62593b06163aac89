"""Cron expressions as ``MeshCall.cron`` reads them: every syntax class, checked against
the schedule points the original's cron parser (cron-parser 4.9, UTC) gives for the same
expression and clock — recorded with Node on this machine — and against croniter."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from croniter import croniter
from waiting import wait_until

from hotmesh_nb import HotMesh, JobNotFoundError, MeshCall
from hotmesh_nb.meshcall import _crons as crons

NOW = datetime(2026, 3, 15, 10, 20, 30, 500000, tzinfo=timezone.utc).timestamp()
"""A Sunday, half a second after 10:20:30 UTC."""


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


# (expression, the next two schedule points after NOW). All but the 'W' case were
# printed by cron-parser 4.9 (the original's parser), which has no 'W'.
CASES = [
    ("*/1 * * * * *", "2026-03-15T10:20:31", "2026-03-15T10:20:32"),  # seconds first
    ("15 */5 * * * *", "2026-03-15T10:25:15", "2026-03-15T10:30:15"),  # seconds and a step
    ("@hourly", "2026-03-15T11:00:00", "2026-03-15T12:00:00"),
    ("@daily", "2026-03-16T00:00:00", "2026-03-17T00:00:00"),
    ("@midnight", "2026-03-16T00:00:00", "2026-03-17T00:00:00"),
    ("@weekly", "2026-03-22T00:00:00", "2026-03-29T00:00:00"),
    ("@monthly", "2026-04-01T00:00:00", "2026-05-01T00:00:00"),
    ("@yearly", "2027-01-01T00:00:00", "2028-01-01T00:00:00"),
    ("@annually", "2027-01-01T00:00:00", "2028-01-01T00:00:00"),
    ("0 0 L * *", "2026-03-31T00:00:00", "2026-04-30T00:00:00"),  # last day of the month
    ("0 0 15W * *", "2026-03-16T00:00:00", "2026-04-15T00:00:00"),  # weekday nearest the 15th
    ("0 0 * * 5#2", "2026-04-10T00:00:00", "2026-05-08T00:00:00"),  # second Friday
    ("0 0 * * 5L", "2026-03-27T00:00:00", "2026-04-24T00:00:00"),  # last Friday
    ("0 0 * * friL", "2026-03-27T00:00:00", "2026-04-24T00:00:00"),
    ("0 9-17/2 * * mon-fri", "2026-03-16T09:00:00", "2026-03-16T11:00:00"),  # range, step, names
    ("0 0 1 jan,jul *", "2026-07-01T00:00:00", "2027-01-01T00:00:00"),  # list of month names
    ("0 0 1-7 * 1", "2026-03-16T00:00:00", "2026-03-23T00:00:00"),  # day OR weekday
    ("0 0 ? * 1", "2026-03-16T00:00:00", "2026-03-23T00:00:00"),
    ("*/5 * * * *", "2026-03-15T10:25:00", "2026-03-15T10:30:00"),  # 5 fields: no seconds
    ("0   3 * *  *", "2026-03-16T03:00:00", "2026-03-17T03:00:00"),  # extra blanks
]


@pytest.mark.parametrize(("expression", "first", "second"), CASES)
def test_next_schedule_points(expression: str, first: str, second: str) -> None:
    parsed = crons.parse_cron(expression)
    one = crons.next_fire(parsed, NOW)
    two = crons.next_fire(parsed, one)
    assert (iso(one), iso(two)) == (first, second)
    if not expression.endswith("L"):  # croniter spells '5L' as 'L5'; the rest as written
        direct = croniter(expression, NOW, second_at_beginning=True)
        assert direct.get_next(float) == one


@pytest.mark.parametrize(("expression", "first", "second"), CASES)
def test_plan_sleeps_until_the_next_point_and_never_repeats_one(
    expression: str, first: str, second: str
) -> None:
    parsed = crons.parse_cron(expression)
    planned = crons.plan(parsed, None, NOW)
    assert iso(planned["at"] / 1000) == first
    assert planned["sleep"] == pytest.approx(planned["at"] / 1000 - NOW, abs=0.001)
    assert planned["sleep"] >= planned["at"] / 1000 - NOW  # rounded up, never early
    # A timer that fired a little before its point (another process's clock) plans the
    # following point, not the same one again.
    early = crons.plan(parsed, planned["at"], planned["at"] / 1000 - 0.3)
    assert iso(early["at"] / 1000) == second


@pytest.mark.parametrize(
    "interval",
    ["1 second", "15 minutes", 90, "2h", "1 day"],
)
def test_durations_are_not_cron_expressions(interval: object) -> None:
    assert crons.is_cron_expression(interval) is False
    assert crons.schedule(interval, None, None)["scheduled"] is False


def test_schedule_of_an_alias_waits_for_its_first_point() -> None:
    before = time.time()
    timing = crons.schedule("@yearly", "10 minutes", 3)
    after = time.time()
    expected = {crons.next_fire("@yearly", before), crons.next_fire("@yearly", after)}
    assert timing["at"] / 1000 in expected
    assert timing["cron"] == "@yearly" and timing["scheduled"] is True
    assert timing["max_cycles"] == 3 and "interval" not in timing
    assert 0 < timing["delay"] <= 366 * 86400  # the delay option does not apply to crons


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * * *", "has 4 fields"),
        ("0 0 0 * * * 2030", "has 7 fields"),
        ("@every 5m", "unknown cron alias"),
        ("@reboot", "unknown cron alias"),
        ("60 * * * *", "invalid cron expression '60 * * * *'"),
        ("0 0 * * 5#6", "invalid cron expression"),
        ("0 0 1W,15W * *", "invalid cron expression"),
        ("0 0 * foo *", "invalid cron expression"),
        ("0 0 30 2 *", "'0 0 30 2 *' never fires"),
    ],
)
def test_unreadable_expressions_name_themselves(expression: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        crons.parse_cron(expression)
    assert message in str(raised.value)
    assert "@hourly" in str(raised.value) or "never fires" in str(raised.value)


def _status(hm: HotMesh, job_id: str) -> int | None:
    try:
        return hm.get_status(job_id)
    except JobNotFoundError:
        return None


def test_every_second_fires_repeatedly_then_stops_at_max_cycles(ns: str) -> None:
    runs: list[str] = []
    assert MeshCall.cron(
        "sec", ["x"], runs.append, id="s", interval="*/1 * * * * *", max_cycles=4, namespace=ns
    )
    hm = MeshCall.hotmesh(namespace=ns)
    wait_until(lambda: _status(hm, "cron:sec:s") == 0)
    assert runs == ["x"] * 4
    state = hm.get_state("cron:sec:s")["data"]
    assert state == {"topic": "sec", "cycle": 4}


def test_a_scheduler_without_callback_is_planned_by_the_worker_process(ns: str) -> None:
    # This process only schedules; the planner runs next to the engine that serves the topic.
    assert MeshCall.cron("later", [1], id="l", interval="* * * * * *", max_cycles=2, namespace=ns)
    runs: list[int] = []
    MeshCall.connect("later", runs.append, namespace=ns)
    wait_until(lambda: len(runs) == 2)
    assert runs == [1, 1]
