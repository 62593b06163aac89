"""YAML apps run side by side: the original HotMesh 0.3.32 engine (``node/apps.js``) and
ours, on the same server, must leave each job with the same status and the same data
(read when it ends, or settles, and again after its app's signals).

The apps reach the places where the two stores differ most: job data kept along the
paths ``job.maps`` declares, hooks that map before they wait, transitions on conditions
and codes, and awaited children. FIDELITY.md lists the deliberate differences; the apps
here stay clear of them.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from original import install_original
from test_hook_maps import PASS_THROUGH, SLEEPER, WAITER
from test_job_paths import ARR, INLINE, INPUT_KEY, MERGE, OBJ, ORDER, PAYLOAD, SHAPES
from test_status_decides import HOOK as ERROR_SIGNALS

import hotmesh_nb
from hotmesh_nb import HotMesh, Response, Worker, WorkerMessage

APPS_JS = Path(__file__).parent / "node" / "apps.js"

CONDITIONS = """
app:
  id: conditions
  version: '1'
  graphs:
    - subscribes: conditions.test
      activities:
        t1:
          type: trigger
        big:
          type: worker
          topic: conditions.work
          input:
            maps:
              n: '{t1.output.data.n}'
          job:
            maps:
              branch: big
              bn: '{$self.output.data.n2}'
        small:
          type: hook
          job:
            maps:
              branch: small
        either:
          type: hook
          job:
            maps:
              either: true
      transitions:
        t1:
          - to: big
            conditions:
              match:
                - expected: true
                  actual:
                    '@pipe':
                      - ['{t1.output.data.n}', 3]
                      - ['{@conditional.greater_than}']
          - to: small
            conditions:
              match:
                - expected: true
                  actual:
                    '@pipe':
                      - ['{t1.output.data.n}', 3]
                      - ['{@conditional.less_than_or_equal}']
          - to: either
            conditions:
              gate: or
              match:
                - expected: 7
                  actual: '{t1.output.data.n}'
                - expected: 'yes'
                  actual: '{t1.output.data.flag}'
"""

CODES = """
app:
  id: codes
  version: '1'
  graphs:
    - subscribes: codes.test
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: codes.work
          input:
            maps:
              code: '{t1.output.data.code}'
              n: 2
          job:
            maps:
              first: '{$self.output.data.n2}'
              err: '{$self.output.metadata.err}'
        ok:
          type: hook
          job:
            maps:
              route: ok
        failed:
          type: hook
          job:
            maps:
              route: failed
              message: '{w1.output.data.message}'
        unprocessable:
          type: hook
          job:
            maps:
              route: unprocessable
      transitions:
        t1:
          - to: w1
        w1:
          - to: ok
          - to: failed
            conditions:
              code: 500
          - to: unprocessable
            conditions:
              code: [422, 409]
"""

CHILD = """
app:
  id: child
  version: '1'
  graphs:
    - subscribes: child.parent
      activities:
        t1:
          type: trigger
        a1:
          type: await
          topic: child.child
          input:
            maps:
              n: '{t1.output.data.n}'
              code: '{t1.output.data.code}'
          job:
            maps:
              child: '{a1.output.data.cn}'
              done: '{$self.output.data.done}'
        fire:
          type: await
          topic: child.child
          await: false
          input:
            maps:
              n: 1
          job:
            maps:
              fired:
                '@pipe':
                  - ['{fire.output.data}']
                  - ['{@object.keys}']
      transitions:
        t1:
          - to: a1
          - to: fire
    - subscribes: child.child
      activities:
        ct:
          type: trigger
        cw:
          type: worker
          topic: child.work
          input:
            maps:
              n: '{ct.output.data.n}'
              code: '{ct.output.data.code}'
          job:
            maps:
              cn: '{$self.output.data.n2}'
              done: true
      transitions:
        ct:
          - to: cw
"""

CYCLE = """
app:
  id: cycle
  version: '1'
  graphs:
    - subscribes: cycle.test
      activities:
        t1:
          type: trigger
        c1:
          type: hook
          cycle: true
          job:
            maps:
              entered: '{$self.output.data.n}'
        w1:
          type: worker
          topic: cycle.work
          input:
            maps:
              n:
                '@pipe':
                  - ['{c1.output.data.n}', 1]
                  - ['{@logical.or}']
          job:
            maps:
              last: '{$self.output.data.n2}'
        again:
          type: cycle
          ancestor: c1
          input:
            maps:
              n: '{w1.output.data.n2}'
          job:
            maps:
              never: 1
        done:
          type: hook
          job:
            maps:
              final: '{w1.output.data.n2}'
              c1n: '{c1.output.data.n}'
      transitions:
        t1:
          - to: c1
        c1:
          - to: w1
        w1:
          - to: again
            conditions:
              match:
                - expected: true
                  actual:
                    '@pipe':
                      - ['{w1.output.data.n2}', 16]
                      - ['{@conditional.less_than}']
          - to: done
            conditions:
              match:
                - expected: false
                  actual:
                    '@pipe':
                      - ['{w1.output.data.n2}', 16]
                      - ['{@conditional.less_than}']
"""

SIGNALS = """
app:
  id: signals
  version: '1'
  graphs:
    - subscribes: signals.test
      expire: 60
      hooks:
        signals.go:
          - to: waiter
            conditions:
              match:
                - expected: '{$job.metadata.jid}'
                  actual: '{$self.hook.data.id}'
      activities:
        t1:
          type: trigger
          stats:
            id: '{$self.input.data.id}'
        waiter:
          type: hook
          job:
            maps:
              last: '{$self.hook.data.v}'
              count:
                '@pipe':
                  - ['{$job.data.count}', 0]
                  - ['{@logical.or}', 1]
                  - ['{@math.add}']
        each:
          type: hook
          job:
            maps:
              each: '{waiter.hook.data.v}'
      transitions:
        t1:
          - to: waiter
        waiter:
          - to: each
"""

METADATA = """
app:
  id: metadata
  version: '1'
  graphs:
    - subscribes: metadata.test
      activities:
        t1:
          type: trigger
          stats:
            id: '{$self.input.data.id}'
            key: '{$self.input.data.k}'
          job:
            maps:
              jid: '{$job.metadata.jid}'
              tpc: '{$job.metadata.tpc}'
              app: '{$job.metadata.app}'
              vrs: '{$job.metadata.vrs}'
              key: '{$job.metadata.key}'
              aid: '{$job.metadata.aid}'
              js: '{$job.metadata.js}'
              self: '{$self.output.metadata.aid}'
              dad: '{$self.output.metadata.dad}'
              atp: '{$self.output.metadata.atp}'
        w1:
          type: worker
          topic: metadata.work
          input:
            maps:
              n: 1
          job:
            maps:
              w_jid: '{$job.metadata.jid}'
              w_js: '{$job.metadata.js}'
              w_aid: '{$self.output.metadata.aid}'
              w_atp: '{$self.output.metadata.atp}'
              w_stp: '{$self.output.metadata.stp}'
              w_dad: '{$self.output.metadata.dad}'
      transitions:
        t1:
          - to: w1
"""


EMIT = """
app:
  id: emit
  version: '1'
  graphs:
    - subscribes: emit.parent
      expire: 120
      activities:
        p1:
          type: trigger
        a1:
          type: await
          topic: emit.child
          input:
            maps:
              n: '{p1.output.data.n}'
          job:
            maps:
              got: '{$self.output.data}'
              cn: '{$self.output.data.cn}'
              w1: '{$self.output.data.w1}'
              w2: '{$self.output.data.w2}'
              count:
                '@pipe':
                  - ['{$job.data.count}', 0]
                  - ['{@logical.or}', 1]
                  - ['{@math.add}']
      transitions:
        p1:
          - to: a1
    - subscribes: emit.child
      expire: 120
      activities:
        c1:
          type: trigger
          job:
            maps:
              cn: '{$self.output.data.n}'
        w1:
          type: worker
          topic: emit.work
          emit: true
          input:
            maps:
              n: '{c1.output.data.n}'
          job:
            maps:
              w1: '{$self.output.data.n2}'
        w2:
          type: worker
          topic: emit.work
          input:
            maps:
              n: 10
          job:
            maps:
              w2: '{$self.output.data.n2}'
      transitions:
        c1:
          - to: w1
        w1:
          - to: w2
"""

PERSIST = """
app:
  id: persist
  version: '1'
  graphs:
    - subscribes: persist.test
      expire: 120
      hooks:
        persist.go:
          - to: waiter
            conditions:
              match:
                - expected: '{$job.metadata.jid}'
                  actual: '{$self.hook.data.id}'
      activities:
        t1:
          type: trigger
          stats:
            id: '{$self.input.data.id}'
        w1:
          type: worker
          topic: persist.work
          persist: true
          input:
            maps:
              n: 3
          job:
            maps:
              a: '{$self.output.data.n2}'
        waiter:
          type: hook
          job:
            maps:
              v: '{$self.hook.data.v}'
      transitions:
        t1:
          - to: w1
        w1:
          - to: waiter
"""

STATS_APP = f"stats{secrets.token_hex(4)}"

STATS = """
app:
  id: stats
  version: '1'
  graphs:
    - subscribes: stats.test
      activities:
        t1:
          type: trigger
          stats:
            key: '{$self.input.data.k}'
            granularity: 1h
            measures:
              - measure: count
                target: '{$self.input.data.color}'
              - measure: sum
                target: '{$self.input.data.n}'
              - measure: avg
                target: '{$self.input.data.n}'
              - measure: index
                target: '{$self.input.data.color}'
              - measure: mdn
                target: '{$self.input.data.n}'
"""

STATUSES = """
app:
  id: statuses
  version: '1'
  graphs:
    - subscribes: statuses.test
      expire: 120
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: statuses.work
          input:
            maps:
              n: 2
              code: '{t1.output.data.code}'
              status: '{t1.output.data.status}'
              bare: '{t1.output.data.bare}'
          job:
            maps:
              a: '{$self.output.data.n2}'
              seen: '{$self.output.data.seen}'
        w2:
          type: worker
          topic: statuses.work
          input:
            maps:
              n: 5
          job:
            maps:
              b: '{$self.output.data.n2}'
      transitions:
        t1:
          - to: w1
        w1:
          - to: w2
            conditions:
              code: [200, 202]
"""

SIGNALER = """
app:
  id: signaler
  version: '1'
  graphs:
    - subscribes: signaler.wait
      expire: 120
      hooks:
        signaler.go:
          - to: waiter
            conditions:
              match:
                - expected: '{$job.metadata.jid}'
                  actual: '{$self.hook.data.id}'
      activities:
        t1:
          type: trigger
          stats:
            id: '{$self.input.data.id}'
        waiter:
          type: hook
          job:
            maps:
              v: '{$self.hook.data.v}'
              all: '{$self.hook.data}'
      transitions:
        t1:
          - to: waiter
    - subscribes: signaler.send
      expire: 120
      activities:
        s0:
          type: trigger
        s1:
          type: signal
          subtype: one
          topic: signaler.go
          signal:
            maps:
              id: '{s0.output.data.target}'
              v: '{s0.output.data.v}'
          job:
            maps:
              sent: true
          output:
            maps:
              o: '{s0.output.data.v}'
        s2:
          type: hook
          job:
            maps:
              after: '{s1.output.data.o}'
      transitions:
        s0:
          - to: s1
        s1:
          - to: s2
"""


def _signal(name: str, data: dict[str, Any], **how: Any) -> dict[str, Any]:
    return {"name": name, "hook": "signals.go", "data": data, **how}


def _job(name: str, topic: str, data: dict[str, Any], **wait: int) -> dict[str, Any]:
    return {"name": name, "topic": topic, "data": data, **wait}


CASES: list[dict[str, Any]] = [
    {
        "id": "shapes",
        "yaml": SHAPES,
        "workers": ["shapes.work"],
        "jobs": [
            # (without the hoisted "q" no rule declares: FIDELITY.md)
            _job("shapes", "shapes.test", {**PAYLOAD, "hoist": {"_s": "a", "lit": {"y": "H"}}}),
            _job("literal", "shapes.test", {"arr": ARR, "obj": OBJ, "empty": "", "hoist": {}}),
            _job("short", "shapes.test", {"arr": [7], "obj": {"0": "x"}, "hoist": {}}),
        ],
    },
    {
        "id": "order",
        "yaml": ORDER,
        "workers": [],
        "jobs": [_job("order", "order.test", {"arr": ["a", "b", "c"], "hoist": {"h": "H"}})],
    },
    {
        "id": "merge",
        "yaml": MERGE,
        "workers": ["merge.work"],
        "jobs": [_job("merge", "merge.test", {"a": "A", "n": 2})],
    },
    {
        "id": "inkey",
        "yaml": INPUT_KEY,
        "workers": ["inkey.work"],
        "jobs": [_job("inkey", "inkey.test", {"lit": {"y": "Y", "z": "not declared"}})],
    },
    {
        "id": "inline",
        "yaml": INLINE,
        "workers": ["inline.one", "inline.two"],
        "jobs": [_job("inline", "inline.test", {"a": "A", "n": 2})],
    },
    {
        "id": "sleepmaps",
        "yaml": SLEEPER,
        "workers": [],
        "jobs": [
            _job(
                "asleep",
                "sleepmaps.test",
                {"seconds": 30, "phase": "before"},
                wait_ms=0,
                settle_ms=300,
            )
        ],
    },
    {
        "id": "waitmaps",
        "yaml": WAITER,
        "workers": [],
        "jobs": [_job("waiting", "waitmaps.test", {}, wait_ms=0, settle_ms=300)],
    },
    {
        "id": "passdata",
        # (the original's mapped hook output also carries the hook's metadata: FIDELITY.md)
        "yaml": PASS_THROUGH.replace(
            "mapped: '{$self.output.data}'", "mapped: '{$self.output.data.a}'"
        ),
        "workers": [],
        "jobs": [_job("pass", "passdata.test", {})],
    },
    {
        "id": "conditions",
        "yaml": CONDITIONS,
        "workers": ["conditions.work"],
        "jobs": [
            _job("big", "conditions.test", {"n": 5}),
            _job("small", "conditions.test", {"n": 1}),
            _job("seven", "conditions.test", {"n": 7}),
            _job("flag", "conditions.test", {"n": 2, "flag": "yes"}),
            _job("none", "conditions.test", {}),
        ],
    },
    {
        "id": "codes",
        "yaml": CODES,
        "workers": ["codes.work"],
        "jobs": [
            _job(f"code {code}", "codes.test", {} if code is None else {"code": code})
            for code in (None, 500, 422, 409, 404)
        ],
    },
    {
        "id": "cycle",
        "yaml": CYCLE,
        "workers": ["cycle.work"],
        "jobs": [_job("four rounds", "cycle.test", {})],
    },
    {
        "id": "signals",
        "yaml": SIGNALS,
        "workers": [],
        "jobs": [
            # mapped before it waits, then once per signal; a pending one keeps it open
            _job("open", "signals.test", {"id": "signals-1"}, wait_ms=0, settle_ms=300),
            _job("closes", "signals.test", {"id": "signals-2"}, wait_ms=0, settle_ms=300),
            _signal("a", {"id": "signals-1", "v": "a"}, status="pending", code=202),
            _signal("b", {"id": "signals-1", "v": "b"}, status="pending", code=202),
            _signal("c", {"id": "signals-1", "v": "c"}),
            _signal("late", {"id": "signals-1", "v": "d"}),
            # a 202 that is not pending closes the hook, as a 200 does
            _signal("x", {"id": "signals-2", "v": "x"}, code=202),
            _signal("y", {"id": "signals-2", "v": "y"}),
        ],
    },
    {
        "id": "metadata",
        "yaml": METADATA,
        "workers": ["metadata.work"],
        "jobs": [_job("read", "metadata.test", {"id": "metadata-1", "k": "kk"})],
    },
    {
        # The original's reports read the "hmsh" namespace whatever its engine's is
        # (FIDELITY.md): its side of this app runs there, under an app id of this run.
        "id": STATS_APP,
        "yaml": STATS.replace("id: stats", f"id: {STATS_APP}"),
        "namespace": "hmsh",
        "workers": [],
        "partitions": 1,  # a report's measures in the order values were first seen
        "jobs": [
            _job(f"{color} {n}", "stats.test", {"k": "K", "color": color, "n": n}, settle_ms=0)
            for color, n in (("red", 1), ("blue", 5), ("red", 7), (True, 2), (3, 2.5))
        ],
        "reports": [
            {"topic": "stats.test", "query": {"data": {"k": "K"}, "range": "3h", "end": "NOW"}},
            {
                "topic": "stats.test",
                "query": {"data": {"k": "K"}, "range": "1h", "end": "NOW", "sparse": True},
            },
            {"topic": "stats.test", "query": {"data": {"k": "none"}, "range": "2h", "end": "NOW"}},
            {
                "topic": "stats.test",
                "query": {"data": {"k": "K"}, "range": "2h", "end": "NOW"},
                "facets": ["color:red", "color:green"],
            },
            {
                "topic": "stats.test",
                "query": {"data": {"k": "K"}, "range": "1h", "end": "NOW"},
                "facets": [],
            },
        ],
    },
    {
        "id": "emit",
        "yaml": EMIT,
        "workers": ["emit.work"],
        "jobs": [
            # the child emits to its awaiting parent once before it ends
            _job("parent", "emit.parent", {"n": 4}),
            _job("child", "emit.child", {"n": 3}),
        ],
    },
    {
        "id": "persist",
        "yaml": PERSIST,
        "workers": ["persist.work"],
        "jobs": [
            _job("persist", "persist.test", {"id": "persist-1"}, wait_ms=0, settle_ms=400),
            {"name": "v", "hook": "persist.go", "data": {"id": "persist-1", "v": "V"}},
        ],
    },
    {
        "id": "statuses",
        "yaml": STATUSES,
        "workers": ["statuses.work"],
        # the status decides whether the activity stays open and whether the job
        # fails; the code picks the transitions (w1 → w2 on 200 and 202)
        "jobs": [
            _job(
                f"{code} {status}{' bare' if bare else ''}",
                "statuses.test",
                {"code": code, "status": status, **({"bare": True} if bare else {})},
                wait_ms=0 if status == "pending" else 5000,
                settle_ms=300,
            )
            for code, status, bare in (
                (202, "success", False),
                (200, "pending", False),
                (500, "success", False),
                (500, "pending", False),
                (200, "error", False),
                (404, "error", False),
                (409, "error", True),  # an error answer without a message
            )
        ],
    },
    {
        "id": "signaler",
        "yaml": SIGNALER,
        "workers": [],
        "jobs": [
            _job("waits", "signaler.wait", {"id": "signaler-1"}, wait_ms=0, settle_ms=300),
            _job("sends", "signaler.send", {"target": "signaler-1", "v": "hi"}, settle_ms=300),
        ],
    },
    {
        "id": "errsignals",
        "yaml": ERROR_SIGNALS,
        "workers": [],
        "jobs": [
            *(
                _job(f"job {n}", "errsignals.test", {"id": f"err-{n}"}, wait_ms=0, settle_ms=100)
                for n in range(5)
            ),
            # an error signal closes the hook without its data; it fails the job unless a
            # transition takes its code; an error code with another status does not
            *(
                {
                    "name": f"{code} {status}",
                    "hook": "errsignals.go",
                    "data": {"id": f"err-{n}", "v": f"{code} {status}"},
                    "code": code,
                    "status": status,
                }
                for n, (code, status) in enumerate(
                    (
                        (500, "error"),
                        (500, "success"),
                        (404, "error"),
                        (404, "success"),
                        (200, "error"),
                    )
                )
            ),
        ],
    },
    {
        "id": "child",
        "yaml": CHILD,
        "workers": ["child.work"],
        "jobs": [
            _job("await", "child.parent", {"n": 4}),
            _job("child fails", "child.parent", {"n": 4, "code": 500}),
        ],
    },
]


def _echo(topic: str) -> Any:
    """The worker of ``node/apps.js``, in Python."""

    def work(message: WorkerMessage) -> Response:
        data = dict(message.data or {})
        code = 200 if data.get("code") is None else int(data["code"])
        status = data.get("status")
        if code >= 400 and status is None:
            return Response(data={"message": "boom", "code": code}, code=code, status="error")
        if data.get("bare"):
            return Response(data={"note": "bare"}, code=code, status=status)
        body = {**data, "seen": topic, "n2": (data.get("n") or 0) * 2}
        return Response(data=body, code=code, status=status)

    return work


def _run_original(url: str, namespace: str, tmp_path: Path) -> list[dict[str, Any]]:
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps(CASES))
    done = subprocess.run(
        ["node", str(APPS_JS), url, namespace, str(cases)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": os.environ["PATH"], "HOTMESH_ORIGINAL": str(install_original())},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _read(hm: HotMesh, app: str, name: str, job_id: str) -> dict[str, Any]:
    status, state = hm.get_status(job_id), hm.get_state(job_id)
    err = state["metadata"].get("err")
    return {"app": app, "job": name, "status": status, "data": state["data"], "err": err}


def _report(
    hm: HotMesh, app: str, name: str, query: dict[str, Any], names: dict[str, str]
) -> dict[str, Any]:
    if "facets" in query:
        report = hm.get_ids(query["topic"], query["query"], query["facets"])
    else:
        report = hm.get_stats(query["topic"], query["query"])
    for segment in report.get("segments", []):
        for measure in segment["measures"]:
            if "ids" in measure:
                measure["ids"] = [names.get(job_id, job_id) for job_id in measure["ids"]]
    return {"app": app, "job": name, "report": report}


def _run_ours(url: str, namespace: str) -> list[dict[str, Any]]:
    results = []
    try:
        for app in CASES:
            hm = HotMesh.init(
                app["id"],
                connection=url,
                namespace=namespace,
                workers=[Worker(topic, _echo(topic)) for topic in app["workers"]],
            )
            hm.deploy(app["yaml"], partitions=app.get("partitions"))
            hm.activate("1")
            started = []
            for job in app["jobs"]:
                if "hook" in job:
                    status = job.get("status", "success")
                    hm.hook(job["hook"], job["data"], status=status, code=job.get("code", 200))
                    time.sleep(job.get("settle_ms", 300) / 1000)
                    continue
                job_id = hm.pub(job["topic"], job["data"])
                deadline = time.monotonic() + job.get("wait_ms", 5000) / 1000
                while hm.get_status(job_id) > 0 and time.monotonic() < deadline:
                    time.sleep(0.02)
                time.sleep(job.get("settle_ms", 50) / 1000)
                started.append((job["name"], job_id, len(results)))
                results.append(_read(hm, app["id"], job["name"], job_id))
            names = {job_id: name for name, job_id, _ in started}
            for i, report in enumerate(app.get("reports", [])):
                results.append(_report(hm, app["id"], f"report {i}", report, names))
            if any("hook" in job for job in app["jobs"]):  # read again what the signals changed
                for name, job_id, at in started:
                    results[at] = _read(hm, app["id"], name, job_id)
    finally:
        hotmesh_nb.shutdown()
    return results


def _timeless(report: dict[str, Any]) -> dict[str, Any]:
    """A report without its buckets' times, and without its empty buckets (kept as a
    count): the two engines' jobs ran some seconds apart, maybe across a bucket's end.
    Unit tests check the times (``tests/engine/test_stats.py``)."""
    if "segments" not in report:
        return report
    segments = report["segments"]

    def filled(segment: dict[str, Any]) -> bool:
        return "count" in segment or any(m.get("count") for m in segment["measures"])

    kept = [
        {
            **{k: v for k, v in segment.items() if k != "time"},
            "measures": [{k: v for k, v in m.items() if k != "time"} for m in segment["measures"]],
        }
        for segment in segments
        if filled(segment)
    ]
    return {**report, "segments": kept, "buckets": len(segments)}


@pytest.mark.slow
def test_each_job_ends_with_the_originals_status_and_data(
    redis_url: str, namespace: str, tmp_path: Path
) -> None:
    theirs = _run_original(redis_url, namespace + "o", tmp_path)
    ours = _run_ours(redis_url, namespace)
    assert [(r["app"], r["job"]) for r in ours] == [(r["app"], r["job"]) for r in theirs]
    for mine, original in zip(ours, theirs):
        where = f"{mine['app']} / {mine['job']}"
        if "report" in original:
            assert _timeless(mine["report"]) == _timeless(original["report"]), where
            continue
        assert mine["status"] == original["status"], where
        assert mine["data"] == (original["data"] or {}), where
        assert mine["err"] == original["err"], where  # the job's error, as stored
