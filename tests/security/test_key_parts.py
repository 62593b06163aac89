"""Names chosen by users cannot reach another topic's or another index's data (issue 17, L3).

Topics, hook match values and index names become parts of Redis key names. Unescaped,
``hook_waiter('a:b', 'c')`` and ``hook_waiter('a', 'b:c')`` were one key, so a signal
on one topic woke a job waiting on another; a glob character in a topic widened a
``SCAN``; an empty worker topic named the engine's own stream; and two fallback indexes
could share a structure. Each test below is one of those attacks, run against the real
server, and checks that it no longer works.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from waiting import wait_until

import hotmesh_nb
from hotmesh_nb import EngineConfig, HotMesh, SearchOptions, ValidationError, Worker
from hotmesh_nb.keys import Keys, glob_escape
from hotmesh_nb.runtime import get_runtime
from hotmesh_nb.search import SearchEngine


def _graph(n: int, go: str, topic: str) -> str:
    """Graph ``n``: its job waits on the hook ``topic`` for the signal carrying its ``v``."""
    return f"""
    - subscribes: {go}
      activities:
        t{n}:
          type: trigger
        wait{n}:
          type: hook
          job: {{ maps: {{ got: '{{$self.hook.data.note}}' }} }}
      transitions:
        t{n}:
          - to: wait{n}
      hooks:
        '{topic}':
          - to: wait{n}
            conditions:
              match:
                - expected: '{{t{n}.output.data.v}}'
                  actual: '{{$self.hook.data.v}}'
"""


def _app(app_id: str, *graphs: tuple[str, str]) -> str:
    body = "".join(
        textwrap.indent(textwrap.dedent(_graph(n, *g)), "    ") for n, g in enumerate(graphs)
    )
    return f"app:\n  id: {app_id}\n  version: '1'\n  graphs:\n{body}"


@pytest.fixture
def mesh(redis_url: str, namespace: str) -> Iterator[Callable[..., HotMesh]]:
    """``mesh(app_id, yaml)`` → a deployed, active HotMesh in the test's namespace."""

    def make(app_id: str, yaml_text: str) -> HotMesh:
        hm = HotMesh.init(
            app_id, connection=redis_url, namespace=namespace, config=EngineConfig(block_ms=500)
        )
        hm.deploy(yaml_text)
        hm.activate("1")
        return hm

    yield make
    hotmesh_nb.shutdown()


def _run(coro: Any) -> Any:
    return get_runtime().run(coro)


def _waiter(hm: HotMesh, topic: str, value: str) -> str:
    """The registration of the hook waiting on ``topic`` for ``value`` ('' when none)."""
    return str(
        _run(hm.connection.client.get(hm.keys.hook_part(topic, value).hook_waiter(topic, value)))
        or ""
    )


def _waiting(hm: HotMesh, topic: str, value: str) -> bool:
    return bool(_waiter(hm, topic, value))


def test_a_signal_on_one_topic_does_not_wake_a_job_waiting_on_another(mesh) -> None:
    # Job B waits on topic 'a' for 'b:c'; then job A waits on topic 'a:b' for 'c'.
    # Joined unescaped, both waits were the key '...:h:a:b:c': A's registration
    # replaced B's, and a signal on topic 'a' for 'b:c' woke A.
    hm = mesh("cross", _app("cross", ("cross.a", "a:b"), ("cross.b", "a")))
    job_b = hm.pub("cross.b", {"v": "b:c"})
    wait_until(lambda: job_b in _waiter(hm, "a", "b:c"))
    job_a = hm.pub("cross.a", {"v": "c"})
    wait_until(lambda: job_a in _waiter(hm, "a:b", "c"))
    assert job_b in _waiter(hm, "a", "b:c")  # still B's

    assert hm.hook("a", {"v": "b:c", "note": "for b"}) == "b:c"
    wait_until(lambda: hm.get_status(job_b) == 0)
    assert hm.get_state(job_b)["data"]["got"] == "for b"
    # A still waits, untouched: the signal could only reach topic 'a'.
    assert hm.get_status(job_a) > 0
    assert "got" not in hm.get_state(job_a)["data"]
    assert job_a in _waiter(hm, "a:b", "c")

    assert hm.hook("a:b", {"v": "c", "note": "for a"}) == "c"
    wait_until(lambda: hm.get_status(job_a) == 0)
    assert hm.get_state(job_a)["data"]["got"] == "for a"


def test_hook_all_on_a_glob_topic_signals_that_topic_only(mesh) -> None:
    # hook_all('*') scanned '...:h:*:*', which matched the waiters of every topic.
    hm = mesh("globs", _app("globs", ("globs.star", "*"), ("globs.any", "any")))
    star = hm.pub("globs.star", {"v": "1"})
    other = hm.pub("globs.any", {"v": "2"})
    wait_until(lambda: _waiting(hm, "*", "1") and _waiting(hm, "any", "2"))

    assert hm.hook_all("*", {"note": "all stars"}) == 1
    wait_until(lambda: hm.get_status(star) == 0)
    assert hm.get_state(star)["data"]["got"] == "all stars"
    assert hm.get_status(other) > 0 and _waiting(hm, "any", "2")
    # Nothing was queued for waiters that do not exist, either (early signals).
    early = glob_escape(hm.keys.prefix) + ":e:*"
    assert _run(_keys(hm, early)) == []


async def _keys(hm: HotMesh, pattern: str) -> list[str]:
    return [k async for k in hm.connection.client.scan_iter(match=pattern, count=1000)]


@pytest.mark.parametrize("topic", ["*", "a?", "[ab]", "a\\", "a", "a:b", "ab"])
def test_the_server_matches_a_topics_waiter_pattern_to_that_topic_alone(
    redis_url: str, namespace: str, topic: str
) -> None:
    keys = Keys(namespace, "scan", 4)
    everyone = ["*", "a?", "[ab]", "a\\", "a", "a:b", "ab", "b", "a%3Ab"]
    client = hotmesh_nb.connect(redis_url).client

    def waiter(topic: str, value: str) -> str:
        return keys.hook_part(topic, value).hook_waiter(topic, value)

    async def scan() -> set[str]:
        await client.mset({waiter(t, f"v-{i}"): "w" for i, t in enumerate(everyone)})
        return {k async for k in client.scan_iter(match=keys.hook_waiters(topic), count=1000)}

    # One pattern covers every partition; a key it matches that is not a waiter of the
    # topic (a match value may hold anything) is told apart by hook_value.
    found = {k for k in _run(scan()) if keys.hook_value(k, topic) is not None}
    assert found == {waiter(topic, f"v-{everyone.index(topic)}")}


def test_a_worker_on_an_empty_topic_is_refused(redis_url: str, namespace: str) -> None:
    # Its stream would have been the engine stream: the worker would consume the
    # engine's own messages.
    with pytest.raises(ValueError, match="worker topic '': a topic must be a non-empty string"):
        Worker("", lambda message: {})
    with pytest.raises(ValueError, match="non-empty"):
        Keys(namespace, "app", 1).part(0).worker_stream("")


@pytest.mark.parametrize("call", ["hook", "hook_all"])
def test_a_signal_to_an_empty_topic_is_refused(mesh, call: str) -> None:
    hm = mesh("empty", _app("empty", ("empty.go", "sig")))
    with pytest.raises(ValueError, match="hook topic '': a topic must be a non-empty string"):
        getattr(hm, call)("", {"v": "1"})


@pytest.mark.parametrize(
    ("what", "yaml_text", "message"),
    [
        ("hook topic", _app("blank", ("blank.go", "")), "hook topic '' is empty"),
        (
            "worker topic",
            """
            app:
              id: blank
              version: '1'
              graphs:
                - subscribes: blank.go
                  activities:
                    t: {type: trigger}
                    w: {type: worker, topic: ''}
                  transitions:
                    t: [{to: w}]
            """,
            "needs a 'topic'",
        ),
        (
            "signal topic",
            """
            app:
              id: blank
              version: '1'
              graphs:
                - subscribes: blank.go
                  activities:
                    t: {type: trigger}
                    s: {type: signal, topic: ''}
                  transitions:
                    t: [{to: s}]
            """,
            "needs a 'topic'",
        ),
        (
            "subscribes",
            """
            app:
              id: blank
              version: '1'
              graphs:
                - subscribes: ''
                  activities:
                    t: {type: trigger}
            """,
            "no 'subscribes' topic",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 20 else "",
)
def test_an_app_with_an_empty_topic_is_not_deployed(
    redis_url: str, namespace: str, what: str, yaml_text: str, message: str
) -> None:
    hm = HotMesh.init("blank", connection=redis_url, namespace=namespace)
    try:
        with pytest.raises(ValidationError, match=message):
            hm.deploy(textwrap.dedent(yaml_text))
    finally:
        hotmesh_nb.shutdown()


def test_two_fallback_indexes_never_merge_their_records(redis_url: str, namespace: str) -> None:
    # Index 'p' keeps the records tagged status 'all' in '...:ix:p:t:status:all'; index
    # 'p:t:status' kept every one of its records in '...:ix:p:t:status' + ':all'. One set:
    # each index returned the other's records.
    keys = Keys(namespace, "shop", 1)
    engine = SearchEngine(hotmesh_nb.connect(redis_url).client, keys, mode="fallback")
    plain = SearchOptions("p", prefix=["p-"], schema={"status": {"type": "TAG"}})
    crafted = SearchOptions("p:t:status", prefix=["q-"], schema={"name": {"type": "TAG"}})

    def found(index: str, query: str) -> list[str]:
        return [r for r, _ in _run(engine.search(index, query, limit=10)).records]

    _run(engine.create_index(plain))
    _run(engine.create_index(crafted))
    _run(engine.write("p-1", {"status": "all"}))
    _run(engine.write("p-2", {"status": "open"}))
    _run(engine.write("q-1", {"name": "all"}))

    assert found("p", "@_status:{all}") == ["p-1"]
    assert found("p", "*") == ["p-1", "p-2"]
    assert found("p:t:status", "*") == ["q-1"]
    assert found("p:t:status", "@_name:{all}") == ["q-1"]
    hotmesh_nb.shutdown()
