"""A trigger's stats (the original's getStats/getIds) and hook_all's key-resolver query."""

from __future__ import annotations

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
    assert report["key"] == "p1" and report["granularity"] == "5m" and report["count"] == 3
    measures = {(m["type"], m["target"]): m["value"] for m in report["measures"]}
    assert measures == {
        ("count", "color:red"): 2,
        ("count", "color:blue"): 1,
        ("sum", "amount"): 45,
        ("avg", "amount"): 15,
    }
    assert len(report["segments"]) == 13  # a 1-hour window in 5-minute buckets
    sparse = hm.get_stats("tally.go", {"data": {"parent": "p1"}, "range": "1h", "sparse": True})
    assert [s["count"] for s in sparse["segments"]] == [3]
    frame = hm.stats_frame("tally.go", {"data": {"parent": "p1"}, "range": "15m"})
    assert list(frame.columns) == ["time", "target", "type", "value"]
    assert frame[frame["target"] == "jobs"]["value"].sum() == 3


def test_get_ids_and_hook_all_select_exactly_the_query(mesh) -> None:
    hm = mesh("tally", STATS)
    _start(hm)
    query = {"data": {"parent": "p1"}, "range": "1h", "end": "NOW"}
    report = hm.get_ids("tally.go", query, ["color:red"])
    assert report["counts"] == [{"facet": "color:red", "count": 2}]
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
