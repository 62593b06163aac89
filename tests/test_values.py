"""Values round-trip exactly, with their Python types, through every path of the mesh.

One table of values, pushed through: YAML job data (``pubsub`` and ``pub``), a
worker callback's input and result, a MeshFlow workflow's arguments, an
activity's input and result, the workflow's result, and MeshCall results
(fresh and cached). Then one table of values JSON cannot hold, each refused
before it is queued, naming the field. See ``docs/values.md``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import redis
from waiting import wait_until

import hotmesh_nb
from hotmesh_nb import (
    EngineConfig,
    HotMesh,
    JobError,
    MeshCall,
    MeshFlow,
    PayloadError,
    Worker,
    WorkflowError,
)
from hotmesh_nb.meshcall import MeshCallError
from hotmesh_nb.meshflow import workflow

VALUES: list[tuple[str, Any]] = [
    ("empty string", ""),
    ("zero float", 0.0),
    ("negative zero", -0.0),
    ("integral float", 5.0),
    ("large float", 1e16),
    ("smallest float", 5e-324),
    ("float", -1.5),
    ("zero", 0),
    ("false", False),
    ("true", True),
    ("none", None),
    ("int beyond 2**53", 2**53 + 1),
    ("int beyond 2**64", 2**64 + 1),
    ("negative big int", -(3**80)),
    ("unicode", "é ß 日本語 😀 \u2028 \x00 tab\t"),
    ("empty list", []),
    ("empty dict", {}),
    ("nested empty list", [[]]),
    ("nested empty dict", {"a": {}}),
    ("empty string inside", {"a": "", "b": [""], "c": {"d": ""}}),
    ("mixed", {"x": [0.0, 0, False, None, "", {"y": 2**70}], "z": -0.0}),
    ("integer-like keys", {"10": "ten", "2": "two", "b": 1.0}),
]


def same(got: Any, want: Any) -> bool:
    """Equal with the same types all the way down (and the sign of -0.0)."""
    if type(got) is not type(want):
        return False
    if isinstance(want, float):
        return got == want and math.copysign(1, got) == math.copysign(1, want)
    if isinstance(want, dict):
        return got.keys() == want.keys() and all(same(got[k], want[k]) for k in want)
    if isinstance(want, list):
        return len(got) == len(want) and all(same(g, w) for g, w in zip(got, want, strict=True))
    return bool(got == want)


APP = """
app:
  id: values
  version: '1'
  graphs:
    - subscribes: values.go
      activities:
        t1:
          type: trigger
          job:
            maps:
              jin: '{$self.output.data.v}'
        w1:
          type: worker
          topic: values.work
          input:
            maps:
              v: '{t1.output.data.v}'
          job:
            maps:
              jout: '{$self.output.data.v}'
      transitions:
        t1:
          - to: w1
"""

seen: dict[str, dict[str, Any]] = {}
"""What callbacks received, by job or workflow id and path."""

MISSING = object()


def record(key: str, path: str, value: Any) -> Any:
    seen.setdefault(key, {})[path] = value
    return value


def echo_activity(key: str, value: Any) -> Any:
    return record(key, "activity input", value)


acts = workflow.proxy_activities(activities=[echo_activity])


async def round_trip(key: str, value: Any) -> Any:
    record(key, "workflow argument", value)
    back = await acts.echo_activity(key, value)
    record(key, "activity result", back)
    return value


class Mesh:
    """Everything the table goes through, in one namespace."""

    def __init__(self, url: str, namespace: str) -> None:
        config = EngineConfig(block_ms=500)

        def work(message: hotmesh_nb.WorkerMessage) -> dict[str, Any]:
            value = message.data.get("v", MISSING)
            record(message.metadata["jid"], "worker input", value)
            return {"v": value}

        self.hm = HotMesh.init(
            "values",
            connection=url,
            namespace=namespace,
            workers=[Worker("values.work", work)],
            config=config,
        )
        self.hm.deploy(APP)
        self.hm.activate("1")
        MeshFlow.Worker.create(
            connection=url,
            namespace=namespace,
            task_queue="values",
            workflow=round_trip,
            config=config,
        )
        self.flows = MeshFlow.Client(connection=url, namespace=namespace, config=config)
        self.url, self.namespace = url, namespace
        MeshCall.connect(
            "values.echo",
            lambda key, v: record(key, "meshcall input", v),
            connection=url,
            namespace=namespace,
        )

    def call(self, *args: Any, **options: Any) -> Any:
        return MeshCall.exec(
            "values.echo", list(args), connection=self.url, namespace=self.namespace, **options
        )


@pytest.fixture(scope="module")
def mesh(redis_url: str) -> Iterator[Mesh]:
    yield Mesh(redis_url, f"v{uuid.uuid4().hex[:10]}")
    hotmesh_nb.shutdown()


def paths(mesh: Mesh, value: Any) -> dict[str, Any]:
    """Every path's copy of ``value`` (MISSING where a path does not store it)."""
    out: dict[str, Any] = {}
    data = mesh.hm.pubsub("values.go", {"v": value}, timeout=30)
    out["job data (pubsub, trigger map)"] = data.get("jin", MISSING)
    out["job data (pubsub, worker result map)"] = data.get("jout", MISSING)
    job_id = mesh.hm.pub("values.go", {"v": value})
    wait_until(lambda: mesh.hm.get_status(job_id) == 0)
    state = mesh.hm.get_state(job_id)["data"]
    out["job data (pub, trigger map)"] = state.get("jin", MISSING)
    out["job data (pub, worker result map)"] = state.get("jout", MISSING)
    out["worker callback input"] = seen[job_id]["worker input"]

    key = f"wf-{uuid.uuid4().hex}"
    handle = mesh.flows.workflow.start(
        args=[key, value], task_queue="values", workflow_name="round_trip", workflow_id=key
    )
    out["workflow result"] = handle.result(timeout=30)
    out["workflow result (finished job)"] = mesh.flows.workflow.get_handle(key).result(timeout=30)
    for path in ("workflow argument", "activity input", "activity result"):
        out[path] = seen[key][path]

    call_key = uuid.uuid4().hex
    out["meshcall result"] = mesh.call(call_key, value)
    out["meshcall input"] = seen[call_key]["meshcall input"]
    out["meshcall result (cached)"] = mesh.call(call_key, value, id=call_key, ttl=60)
    out["meshcall result (cache hit)"] = mesh.call(call_key, "other", id=call_key, ttl=60)
    return out


@pytest.mark.parametrize(("name", "value"), VALUES, ids=[name for name, _ in VALUES])
def test_a_value_round_trips_through_every_path(mesh: Mesh, name: str, value: Any) -> None:
    got = paths(mesh, value)
    assert len(got) == 14
    for path, copy in got.items():
        if value == "" and isinstance(value, str) and path.startswith("job data"):
            # The original's rule, kept: a top-level '' is not stored in YAML job data.
            assert copy is MISSING, path
            continue
        assert same(copy, value), f"{name} through {path}: {copy!r} is not {value!r}"


async def child_echo(value: Any) -> Any:
    return value


async def parent_of(values: list[Any]) -> list[Any]:
    return [await workflow.exec_child("child_echo", [value]) for value in values]


CHILD_VALUES = ["", None, 0.0, -0.0, False, 2**64 + 1, {"a": ""}, [""], "😀"]


def test_child_workflow_results_round_trip(mesh: Mesh) -> None:
    for fn in (child_echo, parent_of):
        MeshFlow.Worker.create(
            connection=mesh.url, namespace=mesh.namespace, task_queue="values", workflow=fn
        )
    handle = mesh.flows.workflow.start(
        args=[CHILD_VALUES], task_queue="values", workflow_name="parent_of"
    )
    got = handle.result(timeout=60)
    assert same(got, CHILD_VALUES), got


async def bad_args_flow() -> Any:
    return await acts.echo_activity("k", {"when": dt.date(2024, 1, 1)})


def test_activity_arguments_json_cannot_hold_fail_the_workflow(mesh: Mesh) -> None:
    MeshFlow.Worker.create(
        connection=mesh.url, namespace=mesh.namespace, task_queue="values", workflow=bad_args_flow
    )
    handle = mesh.flows.workflow.start(args=[], task_queue="values", workflow_name="bad_args_flow")
    with pytest.raises(WorkflowError, match=r"activity 'echo_activity': args\[1\]\.when is a "):
        handle.result(timeout=60)


def test_tuples_become_lists_the_one_conversion_kept(mesh: Mesh) -> None:
    assert mesh.call(uuid.uuid4().hex, (1, (2, 3))) == [1, [2, 3]]
    data = mesh.hm.pubsub("values.go", {"v": ("a", 0.0)}, timeout=30)
    assert same(data["jin"], ["a", 0.0]) and same(data["jout"], ["a", 0.0])


class Opaque:
    """An object JSON has no form for."""


# (name, value, the field path named in the refusal, words of the hint)
BAD: list[tuple[str, Any, str, str]] = [
    ("nan", math.nan, "v", "nan, which JSON cannot hold"),
    ("infinity", math.inf, "v", "inf, which JSON cannot hold"),
    ("negative infinity", -math.inf, "v", "-inf, which JSON cannot hold"),
    ("datetime", dt.datetime(2024, 5, 1, 12, 0), "v", "a datetime.datetime"),
    ("date", dt.date(2024, 5, 1), "v", "isoformat()"),
    ("int key", {1: "one"}, "v", "has the key 1 (int)"),
    ("tuple key", {(1, 2): "pair"}, "v", "has the key (1, 2) (tuple)"),
    ("set", {1, 2}, "v", "a set"),
    ("bytes", b"\x00\x01", "v", "base64"),
    ("decimal", Decimal("1.10"), "v", "a decimal.Decimal"),
    ("object", Opaque(), "v", "Opaque"),
    ("nested", {"items": [1, 2, {"when": dt.datetime(2024, 1, 1)}]}, "v.items[2].when", "datetime"),
    ("odd key", {"a b": [{"c": math.nan}]}, "v['a b'][0].c", "nan"),
]
BAD_IDS = [name for name, *_ in BAD]


def job_keys(url: str, namespace: str) -> set[bytes]:
    """Every key of the namespace (a refused value must add none)."""
    with redis.Redis.from_url(url) as client:
        return set(client.scan_iter(match=f"*{namespace}*"))


@pytest.mark.parametrize(("name", "value", "field", "hint"), BAD, ids=BAD_IDS)
def test_a_value_json_cannot_hold_is_refused_before_queueing(
    mesh: Mesh, name: str, value: Any, field: str, hint: str
) -> None:
    before = job_keys(mesh.url, mesh.namespace)
    streams = _stream_lengths(mesh)
    with pytest.raises(PayloadError, match=re.escape(hint)) as caught:
        mesh.hm.pub("values.go", {"v": value})
    assert caught.value.path == f"data.{field}" and str(caught.value).startswith(f"data.{field} ")
    with pytest.raises(PayloadError, match=re.escape(hint)) as caught:
        mesh.flows.workflow.start(args=[value], task_queue="values", workflow_name="round_trip")
    assert str(caught.value).startswith("args[0]")
    with pytest.raises(PayloadError, match=re.escape(hint)) as caught:
        mesh.hm.hook("values.signal", {"v": value})
    assert caught.value.path == f"data.{field}"
    with pytest.raises(PayloadError, match=re.escape(hint)) as caught:
        mesh.flows.workflow.signal("values.signal", {"v": value})
    assert str(caught.value).startswith(f"signal 'values.signal': data.{field} ")
    with pytest.raises(TypeError, match=re.escape(hint)) as call_error:
        mesh.call("k", value)
    assert "args[1]" in str(call_error.value)
    # Nothing was written or queued for any of them.
    assert job_keys(mesh.url, mesh.namespace) - before == set()
    assert _stream_lengths(mesh) == streams


def _stream_lengths(mesh: Mesh) -> dict[bytes, Any]:
    """The last id added to each stream of the namespace (trimming does not change it)."""
    with redis.Redis.from_url(mesh.url) as client:
        return {
            key: client.xinfo_stream(key)["last-generated-id"]
            for key in client.scan_iter(match=f"*{mesh.namespace}*", _type="stream")
        }


@pytest.fixture
def bad_results(redis_url: str, namespace: str) -> Iterator[Callable[[Any], dict[str, Any]]]:
    """Push one bad value out of a worker, an activity, a workflow and a MeshCall function."""
    box: dict[str, Any] = {}

    def give(_message: hotmesh_nb.WorkerMessage) -> dict[str, Any]:
        return {"v": box["value"]}

    def bad_activity() -> Any:
        return box["value"]

    proxy = workflow.proxy_activities(activities=[bad_activity])

    async def bad_activity_flow() -> Any:
        return await proxy.bad_activity()

    async def bad_result_flow() -> Any:
        return box["value"]

    hm = HotMesh.init(
        "values",
        connection=redis_url,
        namespace=namespace,
        workers=[Worker("values.work", give)],
        config=EngineConfig(block_ms=500),
    )
    hm.deploy(APP)
    hm.activate("1")
    for fn in (bad_activity_flow, bad_result_flow):
        MeshFlow.Worker.create(
            connection=redis_url, namespace=namespace, task_queue="bad", workflow=fn
        )
    client = MeshFlow.Client(connection=redis_url, namespace=namespace)
    MeshCall.connect("bad.give", lambda: box["value"], connection=redis_url, namespace=namespace)

    def push(value: Any) -> dict[str, Any]:
        box["value"] = value
        errors: dict[str, Any] = {}
        with pytest.raises(JobError) as job_error:
            hm.pubsub("values.go", {"v": 1}, timeout=30)
        errors["worker result"] = job_error.value
        for name in ("bad_activity_flow", "bad_result_flow"):
            handle = client.workflow.start(args=[], task_queue="bad", workflow_name=name)
            with pytest.raises(WorkflowError) as flow_error:
                handle.result(timeout=30)
            errors[name] = flow_error.value
        with pytest.raises(MeshCallError) as call_error:
            MeshCall.exec("bad.give", [], connection=redis_url, namespace=namespace)
        errors["meshcall result"] = call_error.value
        return errors

    yield push
    hotmesh_nb.shutdown()


def test_a_result_json_cannot_hold_fails_its_call_naming_the_field(bad_results: Any) -> None:
    errors = bad_results({"rows": [{"at": dt.datetime(2024, 1, 1)}]})
    assert "result.v.rows[0].at is a datetime.datetime" in str(errors["worker result"])
    assert "activity 'bad_activity': result.rows[0].at" in str(errors["bad_activity_flow"])
    assert "workflow 'bad_result_flow': result.rows[0].at" in str(errors["bad_result_flow"])
    assert "result.rows[0].at is a datetime.datetime" in str(errors["meshcall result"])
    errors = bad_results(math.nan)
    assert "result.v is nan" in str(errors["worker result"])
    assert "activity 'bad_activity': result is nan" in str(errors["bad_activity_flow"])
    assert "result is nan" in str(errors["meshcall result"])


def test_an_oversized_payload_is_refused_before_queueing(redis_url: str, namespace: str) -> None:
    config = EngineConfig(block_ms=500, max_payload=64 * 1024)

    def work(message: hotmesh_nb.WorkerMessage) -> dict[str, Any]:
        return {"v": "x" * int(message.data["size"])}

    hm = HotMesh.init(
        "values",
        connection=redis_url,
        namespace=namespace,
        workers=[Worker("values.work", work)],
        config=config,
    )
    hm.deploy(APP.replace("v: '{t1.output.data.v}'", "size: '{t1.output.data.size}'"))
    hm.activate("1")
    try:
        with pytest.raises(PayloadError, match=r"over the payload limit of 64\.0 KiB") as caught:
            hm.pub("values.go", {"v": "é" * 40_000})  # 80,000 bytes of UTF-8
        assert caught.value.path == "data" and "EngineConfig.max_payload" in str(caught.value)
        assert not {k for k in job_keys(redis_url, namespace) if b":j:" in k}
        assert hm.pubsub("values.go", {"v": "ok", "size": 10}, timeout=30)["jin"] == "ok"
        with pytest.raises(JobError, match=r"result is 97\.7 KiB as JSON, over the payload limit"):
            hm.pubsub("values.go", {"size": 100_000}, timeout=30)
        flows = MeshFlow.Client(connection=redis_url, namespace=namespace, config=config)
        with pytest.raises(PayloadError, match=r"args is .* over the payload limit"):
            flows.workflow.start(args=["y" * 70_000], task_queue="q", workflow_name="none")
    finally:
        hotmesh_nb.shutdown()


def test_the_limit_is_a_positive_size_or_none() -> None:
    assert EngineConfig().max_payload == 64 * 1024 * 1024
    assert EngineConfig(max_payload=None).max_payload is None
    for bad in (0, -1, 1.5, True, "64MB"):
        with pytest.raises(ValueError, match="max_payload must be a positive number of bytes"):
            EngineConfig(max_payload=bad)  # type: ignore[arg-type]


def test_cycles_and_runaway_depth_are_refused_not_crashed() -> None:
    from hotmesh_nb._codec import check_value

    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(PayloadError, match=r"data\[0\] contains itself \(a cycle\)"):
        check_value(loop, "data")
    deep: list[Any] = []
    tip = deep
    for _ in range(5_000):
        tip.append([])
        tip = tip[0]
    with pytest.raises(PayloadError, match="nested more than 500 levels deep"):
        check_value({"v": deep}, "data")
