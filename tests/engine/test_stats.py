"""A trigger's stats (the original's getStats/getIds) and hook_all's key-resolver query."""

from __future__ import annotations

import re

import pytest
import redis
from waiting import wait_until

from hotmesh_nb import HotMeshError
from hotmesh_nb.engine import _trigger_stats as stats

STATS = """
app:
  id: tally
  version: '1'
  graphs:
    - subscribes: tally.go
      activities:
        t1:
          type: trigger
          stats:
            id: '{$self.input.data.id}'
            key: '{$self.input.data.parent}'
            measures:
              - measure: count
                target: '{$self.input.data.color}'
              - measure: sum
                target: '{$self.input.data.amount}'
              - measure: avg
                target: '{$self.input.data.amount}'
              - measure: index
                target: '{$self.input.data.color}'
        wait:
          type: hook
          job: { maps: { answer: '{$self.hook.data.answer}' } }
      transitions:
        t1:
          - to: wait
      hooks:
        tally.signal:
          - to: wait
            conditions:
              match:
                - expected: '{t1.output.data.id}'
                  actual: '{$self.hook.data.id}'
"""

JOBS = [
    ("a1", "p1", "red", 10),
    ("a2", "p1", "red", 30),
    ("a3", "p1", "blue", 5),
    ("b1", "p2", "red", 100),
]


def _start(hm) -> None:
    for job_id, parent, color, amount in JOBS:
        hm.pub("tally.go", {"id": job_id, "parent": parent, "color": color, "amount": amount})
    wait_until(lambda: all(hm.get_status(j[0]) == 1 for j in JOBS))
    # Every job's hook waits (its waiter is registered, wherever its partition is).
    waiters = [
        hm.keys.hook_part("tally.signal", j).hook_waiter("tally.signal", j) for j, *_ in JOBS
    ]
    client = redis.Redis.from_url(hm.connection.url)
    try:
        wait_until(lambda: all(client.exists(w) for w in waiters))
    finally:
        client.close()


def test_get_stats_counts_and_measures_one_key(mesh) -> None:
    hm = mesh("tally", STATS)
    _start(hm)
    report = hm.get_stats("tally.go", {"data": {"parent": "p1"}, "range": "1h", "end": "NOW"})
    assert list(report) == ["key", "granularity", "range", "end", "count", "measures", "segments"]
    assert report["key"] == "p1" and report["granularity"] == "5m" and report["count"] == 3
    # As the original's report: the count measures only (sum and avg are in the frame).
    assert report["measures"] == [
        {"target": "color:red", "type": "count", "value": 2},
        {"target": "color:blue", "type": "count", "value": 1},
    ] or report["measures"] == [  # across partitions, the order a value was first seen in
        {"target": "color:blue", "type": "count", "value": 1},
        {"target": "color:red", "type": "count", "value": 2},
    ]
    assert len(report["segments"]) == 13  # a 1-hour window in 5-minute buckets
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", s["time"]) for s in report["segments"])
    filled = [s for s in report["segments"] if "count" in s]  # an empty bucket has no count
    assert sum(s["count"] for s in filled) == 3
    found = {m["target"] for s in filled for m in s["measures"]}
    assert found == {"color:blue", "color:red"}
    sparse = hm.get_stats("tally.go", {"data": {"parent": "p1"}, "range": "1h", "sparse": True})
    assert "segments" not in sparse and "end" not in sparse and sparse["count"] == 3
    frame = hm.stats_frame("tally.go", {"data": {"parent": "p1"}, "range": "15m"})
    assert list(frame.columns) == ["time", "target", "type", "value"]
    totals: dict[tuple[str, str], float] = {}
    for row in frame.itertuples():  # (the jobs may straddle two buckets)
        totals[row.type, row.target] = totals.get((row.type, row.target), 0) + row.value
    assert totals[("count", "jobs")] == 3 and totals[("sum", "amount")] == 45
    assert totals[("count", "color:red")] == 2 and totals[("count", "color:blue")] == 1
    assert set(frame["type"]) == {"count", "sum", "avg"}


def test_get_ids_and_hook_all_select_exactly_the_query(mesh) -> None:
    hm = mesh("tally", STATS)
    _start(hm)
    query = {"data": {"parent": "p1"}, "range": "1h", "end": "NOW"}
    report = hm.get_ids("tally.go", query, ["color:red"])
    assert list(report) == ["key", "facets", "granularity", "range", "counts", "segments"]
    assert report["counts"] == [{"facet": "color:red", "count": 2}]
    assert len(report["segments"]) == 13  # every bucket, each with a measure per facet
    assert all(len(segment["measures"]) == 1 for segment in report["segments"])
    every = hm.get_ids("tally.go", query, [])  # no facets: those the counts name
    assert sorted(c["facet"] for c in every["counts"]) == ["color:blue", "color:red"]
    assert stats.ids_of(report) == ["a1", "a2"]
    frame = hm.ids_frame("tally.go", query, ["color:red"])  # the same, as a DataFrame
    assert list(frame.columns) == ["time", "facet", "id"]
    assert list(frame["id"]) == ["a1", "a2"] and set(frame["facet"]) == {"color:red"}
    assert str(frame["time"].dtype).startswith("datetime64")
    # Only p1's red jobs wake: not p1's blue one, not p2's red one.
    assert hm.hook_all("tally.signal", {"answer": "yes"}, ["color:red"], key_resolver=query) == 2
    wait_until(lambda: hm.get_status("a1") == 0 and hm.get_status("a2") == 0)
    assert hm.get_status("a3") == 1 and hm.get_status("b1") == 1
    assert hm.get_state("a1")["data"]["answer"] == "yes"


def test_a_bad_stats_query_says_what_to_send(mesh) -> None:
    hm = mesh("tally", STATS)
    with pytest.raises(HotMeshError, match="exactly two"):
        hm.get_stats("tally.go", {"data": {"parent": "p1"}, "start": "NOW"})
    with pytest.raises(HotMeshError, match="range"):
        hm.get_stats("tally.go", {"data": {"parent": "p1"}, "range": "soon"})
    with pytest.raises(HotMeshError, match="facets"):
        hm.hook_all("tally.signal", {}, key_resolver={"data": {"parent": "p1"}, "range": "1h"})
