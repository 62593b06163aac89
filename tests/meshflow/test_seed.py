"""The seed's MeshFlow example, activities and retries."""

from __future__ import annotations

import random

import pytest

from hotmesh_nb import DuplicateJobError, RetryPolicy, WorkflowError
from hotmesh_nb.meshflow import FatalError, workflow

FLAKY = {"calls": 0}


def greet(name: str) -> str:
    return f"Hello, {name}!"


async def saludar(nombre: str) -> str:
    FLAKY["calls"] += 1
    if random.random() > 0.5:
        raise RuntimeError("Random error")
    return f"¡Hola, {nombre}!"


acts = workflow.proxy_activities(
    activities=[greet, saludar],
    retry_policy=RetryPolicy(
        maximum_attempts=10, initial_interval="10 ms", maximum_interval="50 ms"
    ),
)


async def example(name: str, lang: str) -> str:
    return await (acts.saludar(name) if lang == "es" else acts.greet(name))


def test_the_seed_example(flow) -> None:
    random.seed(7)
    flow(example)
    client = flow.client
    handle = client.workflow.start(
        args=["HotMesh", "es"], task_queue="default", workflow_name="example", workflow_id="wf-1"
    )
    assert handle.result(timeout=30) == "¡Hola, HotMesh!"
    english = client.workflow.start(
        args=["HotMesh", "en"], task_queue="default", workflow_name="example"
    )
    assert english.result(timeout=30) == "Hello, HotMesh!"
    with pytest.raises(DuplicateJobError):
        client.workflow.start(
            args=["x", "en"], task_queue="default", workflow_name="example", workflow_id="wf-1"
        )
    assert handle.status() == 0


def always_fails(n: int) -> int:
    raise ValueError(f"bad input {n}")


def fatal(n: int) -> int:
    raise FatalError("do not retry me")


failing = workflow.proxy_activities(
    activities={"always_fails": always_fails, "fatal": fatal},
    retry_policy={"maximum_attempts": 3, "initial_interval": 0.01},
)


async def exhausts(n: int) -> int:
    return await failing.always_fails(n)


async def catches(n: int) -> str:
    try:
        await failing.fatal(n)
    except WorkflowError as exc:
        return f"caught {exc.error_type}: {exc.message}"
    return "not reached"


def test_exhausted_retries_raise_with_the_remote_error(flow) -> None:
    flow(exhausts)
    handle = flow.client.workflow.start(args=[4], task_queue="default", workflow_name="exhausts")
    with pytest.raises(WorkflowError) as caught:
        handle.result(timeout=30)
    assert caught.value.error_type == "ValueError"
    assert "bad input 4" in caught.value.message
    assert caught.value.code == 597
    assert "always_fails" in (caught.value.stack or "")
    timeline = handle.export()["timeline"]
    assert timeline[0]["attempts"] == 3


def test_a_fatal_error_is_not_retried_and_can_be_caught(flow) -> None:
    flow(catches)
    handle = flow.client.workflow.start(args=[1], task_queue="default", workflow_name="catches")
    assert handle.result(timeout=30) == "caught FatalError: do not retry me"
    assert handle.export()["timeline"][0]["attempts"] == 1


ATTEMPTS: dict[str, int] = {}


async def shaky(key: str, failures: int) -> str:
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    if ATTEMPTS[key] <= failures:
        raise ConnectionError(f"try {ATTEMPTS[key]} failed")
    return f"ok after {ATTEMPTS[key]}"


def test_the_workflow_function_is_retried_with_its_policy(flow) -> None:
    flow(shaky)
    policy = RetryPolicy(maximum_attempts=3, initial_interval=0.01)
    good = flow.client.workflow.start(
        args=["a", 2], task_queue="default", workflow_name="shaky", config=policy
    )
    assert good.result(timeout=30) == "ok after 3"
    bad = flow.client.workflow.start(
        args=["b", 5], task_queue="default", workflow_name="shaky", config=policy
    )
    with pytest.raises(WorkflowError) as caught:
        bad.result(timeout=30)
    assert caught.value.error_type == "ConnectionError"
    assert caught.value.message == "try 3 failed"
    assert ATTEMPTS["b"] == 3


def test_without_a_policy_a_failing_workflow_fails_at_once(flow) -> None:
    flow(shaky)
    handle = flow.client.workflow.start(args=["c", 1], task_queue="default", workflow_name="shaky")
    with pytest.raises(WorkflowError) as caught:
        handle.result(timeout=30)
    assert "shaky" in (caught.value.stack or "")
    assert ATTEMPTS["c"] == 1
