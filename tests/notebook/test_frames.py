"""DataFrames of jobs, timelines, streams and members: typed columns in a stable order."""

from __future__ import annotations

import math
import threading
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from nb_apps import SEED, wait_done
from waiting import wait_until

from hotmesh_nb import JobError, WorkerMessage
from hotmesh_nb.notebook import _frames as frames
from hotmesh_nb.notebook import _notebook_api as api
from hotmesh_nb.notebook._probe import JobRecord, RateMeter
from hotmesh_nb.runtime import get_runtime

JOB_DTYPES = {
    "id": "string",
    "topic": "string",
    "status": "string",
    "created": "datetime64[ns, UTC]",
    "updated": "datetime64[ns, UTC]",
    "duration": "timedelta64[ns]",
    "error": "string",
    "failed": "string",
}
T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in frame.dtypes.items()}


def ok(message: WorkerMessage) -> dict:
    return {"seen": True}


def test_jobs_have_typed_columns_newest_first(mesh) -> None:
    hm = mesh(SEED, {"work.do": ok})
    for _ in range(3):
        hm.pubsub("myfirstapp.test", {})
    jobs = hm.jobs()
    assert list(jobs.columns) == list(frames.JOB_COLUMNS)
    assert dtypes(jobs) == JOB_DTYPES
    assert len(jobs) == 3 and list(jobs.index) == [0, 1, 2]
    assert jobs["created"].is_monotonic_decreasing
    assert set(jobs["status"]) == {"done"} and set(jobs["topic"]) == {"myfirstapp.test"}
    assert (jobs["duration"] >= pd.Timedelta(0)).all() and jobs["error"].isna().all()
    assert (jobs["duration"] == jobs["updated"] - jobs["created"]).all()
    assert list(hm.jobs(limit=2)["id"]) == list(jobs["id"][:2])
    assert hm.jobs(limit=0).empty and dtypes(hm.jobs(limit=0)) == JOB_DTYPES


def test_running_and_failed_jobs(mesh) -> None:
    release = threading.Event()

    def work(message: WorkerMessage) -> dict:
        if message.data.get("fail"):
            raise ValueError("no such customer")
        release.wait(10)
        return {}

    hm = mesh(
        SEED.replace(
            "          topic: work.do\n",
            "          topic: work.do\n"
            "          input:\n            maps:\n"
            "              fail: '{t1.output.data.fail}'\n",
        ),
        {"work.do": work},
    )
    with pytest.raises(JobError):
        hm.pubsub("myfirstapp.test", {"fail": True})
    running_id = hm.pub("myfirstapp.test", {})
    try:
        failed = hm.jobs(status="error")
        assert len(failed) == 1 and "no such customer" in failed["error"][0]
        running = hm.jobs(status="running")
        assert list(running["id"]) == [running_id] and pd.isna(running["duration"][0])
        both = hm.jobs(status=["running", "error"])
        assert set(both["status"]) == {"running", "error"}
    finally:
        release.set()
    with pytest.raises(ValueError, match="unknown job status sleeping"):
        hm.jobs(status="sleeping")


def test_job_order_is_stable_for_equal_times() -> None:
    records = [
        JobRecord(name, "t", "1", "done", T0, T0 + timedelta(seconds=1), None)
        for name in ("c", "a", "b")
    ] + [JobRecord("z", "t", "1", "running", T0 + timedelta(seconds=5), None, None)]
    frame = frames.jobs_frame(records)
    assert list(frame["id"]) == ["z", "a", "b", "c"]
    assert frame["duration"].tolist()[1:] == [pd.Timedelta(seconds=1)] * 3
    assert pd.isna(frame["duration"][0]) and pd.isna(frame["updated"][0])
    with pytest.raises(ValueError, match="limit"):
        frames.jobs_frame(records, limit=-1)


def test_timeline_rows_follow_the_job(mesh) -> None:
    hm = mesh(SEED, {"work.do": ok})
    job_id = hm.pub("myfirstapp.test", {"n": 1})
    wait_done(hm, job_id)
    timeline = hm.timeline(job_id)
    assert list(timeline.columns) == list(frames.TIMELINE_COLUMNS)
    assert dtypes(timeline) == {
        "activity": "string",
        "type": "string",
        "dimension": "string",
        "status": "string",
        "code": "Int64",
        "start": "datetime64[ns, UTC]",
        "end": "datetime64[ns, UTC]",
        "duration": "timedelta64[ns]",
        "data": "object",
        "error": "string",
    }
    assert timeline["error"].isna().all()  # nothing failed
    assert list(timeline["activity"]) == ["t1", "w1"]
    assert list(timeline["type"]) == ["trigger", "worker"]
    assert list(timeline["code"]) == [200, 200]
    assert timeline["data"][0] == {"n": 1} and timeline["data"][1] == {"seen": True}


def test_streams_list_the_engine_then_worker_topics(mesh) -> None:
    hm = mesh(SEED, {"work.do": ok})
    first = hm.streams()
    assert list(first.columns) == list(frames.STREAM_COLUMNS)
    assert dtypes(first) == {
        "stream": "string",
        "role": "string",
        "depth": "Int64",
        "pending": "Int64",
        "consumers": "Int64",
        "live": "Int64",
        "lag": "Int64",
        "rate": "float64",
    }
    assert list(first["stream"]) == ["engine", "work.do"]
    assert list(first["role"]) == ["engine", "worker"]
    assert list(first["consumers"]) == [1, 1]
    assert list(first["live"]) == [1, 1]
    for _ in range(3):
        hm.pubsub("myfirstapp.test", {})
    second = hm.streams()
    assert second["rate"][1] > 0 and list(second["pending"]) == [0, 0]


def test_rate_meter() -> None:
    meter = RateMeter()
    assert math.isnan(meter.rate("s", 10, now=1.0))
    assert meter.rate("s", 30, now=3.0) == 10.0
    assert meter.rate("s", 5, now=4.0) == 0.0  # a reset counter never gives a negative rate
    assert math.isnan(meter.rate("other", None, now=5.0))


def test_members_come_from_the_roll_call(mesh) -> None:
    hm = mesh(SEED, {"work.do": ok})
    short = get_runtime().run(api.members([hm]))
    assert list(short.columns) == list(frames.WORKER_COLUMNS) and len(short.columns) <= 8
    assert str(short["started"].dtype) == "datetime64[ns, UTC]" and short["started"].notna().all()
    members = get_runtime().run(api.members([hm], all_columns=True))
    assert list(members.columns[:10]) == [
        "member",
        "role",
        "app",
        "namespace",
        "topic",
        "host",
        "pid",
        "processed",
        "failed",
        "in_flight",
    ]
    assert sorted(members["role"]) == ["engine", "worker"]
    assert str(members["pid"].dtype) == "Int64" and str(members["role"].dtype) == "string"
    worker = members[members["role"] == "worker"].iloc[0]
    assert worker["topic"] == "work.do" and worker["app"] == "myfirstapp"


def test_members_fall_back_to_this_process(mesh) -> None:
    from hotmesh_nb.notebook._probe import local_members

    hm = mesh(SEED, {"work.do": ok})
    rows = local_members(hm)
    assert sorted(r["role"] for r in rows) == ["engine", "worker"]
    frame = frames.members_frame(rows, all_columns=True)
    assert list(frame.columns) == [
        "member",
        "role",
        "app",
        "namespace",
        "topic",
        "host",
        "pid",
        "processed",
        "failed",
        "in_flight",
    ]


def test_a_hotmesh_shows_an_html_card(mesh, redis_url: str) -> None:
    hm = mesh(SEED, {"work.do": ok})
    wait_done(hm, hm.pub("myfirstapp.test", {}))
    card = hm._repr_html_()
    for fact in (
        "HotMesh: myfirstapp",
        f"<td style='text-align:left;padding:1px 12px 1px 0'>{hm.namespace}</td>",
        "runs here",
        ">work.do<",
        ">active version<",
        ">myfirstapp.test<",
        ">jobs kept</th><td style='text-align:left;padding:1px 12px 1px 0'>1<",
        "%hotmesh dashboard myfirstapp",
    ):
        assert fact in card, fact


def test_a_stopped_consumer_stays_registered_but_is_not_live(mesh, monkeypatch) -> None:
    from hotmesh_nb.notebook import _probe as probe

    # A short threshold, so the test need not wait 15 s for the consumer to count as gone.
    monkeypatch.setattr(probe, "LIVE_IDLE_MS", 300)
    hm = mesh(SEED, {"work.do": ok})
    hm.stop()  # the consumers stay registered in their groups and stop reading

    def worker() -> probe.StreamRecord:
        records = get_runtime().run(probe.read_streams(hm.connection.client, hm.keys))
        return next(r for r in records if r.stream == "work.do")

    wait_until(lambda: worker().live == 0)
    gone = worker()
    assert gone.consumers == 1 and (gone.idle_ms or 0) >= 300
    assert list(hm.streams()["live"]) == [0, 0] and list(hm.streams()["consumers"]) == [1, 1]
