"""Least privilege on a shared server: real ACL users, one per role, run the demos' flows
in their own processes, and a user of one namespace is refused everything in another.

Users are made with ``ACL SETUSER`` from the rules ``hotmesh-nb acl`` prints, and deleted
at the end of each test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import redis

import hotmesh_nb
from hotmesh_nb import HotMesh, MeshCall, PermissionDeniedError, Worker, acl_rules
from hotmesh_nb.acl import ROLES, needed_role
from hotmesh_nb.runtime import get_runtime

ROLES_SCRIPT = Path(__file__).with_name("acl_roles.py")
HERE_ENV = {
    "PYTHONPATH": os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")]))
}


class Users:
    """ACL users made from ``hotmesh-nb acl`` (deleted at the end); ``url(namespace, role)``."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self.admin = redis.Redis.from_url(redis_url, decode_responses=True)
        self.made: list[str] = []
        self.expected: set[str] = set()
        """Commands, or key and channel prefixes, a test expects the server to refuse."""

    def url(self, namespace: str, role: str, *extra: str) -> str:
        """A new ACL user of ``namespace`` and ``role``, made from the printed rules."""
        printed = subprocess.run(
            [sys.executable, "-m", "hotmesh_nb.cli", "acl", namespace, "--role", role, *extra],
            capture_output=True,
            text=True,
            check=True,
            env=dict(os.environ, **HERE_ENV),
        ).stdout
        user, password = f"{namespace}-{role}-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
        self.admin.execute_command("ACL", "SETUSER", user, "on", f">{password}", *printed.split())
        self.made.append(user)
        # redis-py reads ``unix://user:password@/path/to.sock`` (and the same on redis://).
        scheme, rest = self.redis_url.split("://", 1)
        return f"{scheme}://{quote(user)}:{quote(password)}@{rest}"

    def refusals(self) -> list[tuple[str, str, str]]:
        """What the server refused these users: (user, reason, command/key/channel)."""
        return [
            (e["username"], e["reason"], e["object"])
            for e in self.admin.acl_log(count=1000)
            if e["username"] in self.made
        ]

    def close(self) -> None:
        """Delete the users."""
        for user in self.made:
            self.admin.execute_command("ACL", "DELUSER", user)
        self.admin.close()


@pytest.fixture
def users(redis_url: str) -> Iterator[Users]:
    """ACL users; at the end, nothing but what the test expected was refused to them."""
    made = Users(redis_url)
    try:
        yield made
        hotmesh_nb.shutdown()
        # A background loop refused by the server shows here, even if it went on retrying.
        expected = tuple(made.expected)
        assert [r for r in made.refusals() if not r[2].startswith(expected)] == []
    finally:
        hotmesh_nb.shutdown()
        made.close()


class Parts:
    """Processes of the roles (``acl_roles.py``), stopped at the end of the test."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen[str]] = []

    def serve(self, part: str, url: str, namespace: str) -> None:
        proc = subprocess.Popen(
            [sys.executable, str(ROLES_SCRIPT), part, url, namespace],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ, **HERE_ENV),
        )
        self.running.append(proc)
        line = proc.stdout.readline().strip() if proc.stdout else ""
        if line != "ready":
            proc.kill()
            _, err = proc.communicate(timeout=30)
            raise AssertionError(f"{part} did not start: {line!r}\n{err}")

    def call(self, part: str, url: str, namespace: str) -> dict:
        done = subprocess.run(
            [sys.executable, str(ROLES_SCRIPT), part, url, namespace],
            capture_output=True,
            text=True,
            timeout=120,
            env=dict(os.environ, **HERE_ENV),
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    def stop(self) -> None:
        for proc in self.running:
            proc.kill()
        for proc in self.running:
            proc.communicate(timeout=30)


@pytest.fixture
def parts() -> Iterator[Parts]:
    running = Parts()
    yield running
    running.stop()


def test_the_printed_rules_are_the_modules_and_name_only_the_namespace() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "hotmesh_nb.cli", "acl", "shop", "--role", "client"],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, **HERE_ENV),
    ).stdout.strip()
    assert printed == acl_rules("shop", "client")
    rules = printed.split()
    assert [r for r in rules if r.startswith("~")] == ["~{shop:*"]
    assert all(r.startswith("&{shop:") for r in rules if r.startswith("&"))
    assert "+script|load" in rules and "+evalsha" in rules
    assert "+xreadgroup" not in rules  # a client cannot take work
    assert rules[-15:][0] == "-@dangerous" and {"-flushall", "-keys", "-config"} <= set(rules)
    worker = acl_rules("shop", "worker").split()
    assert "+xreadgroup" in worker and "+xdel" not in worker
    assert "+xdel" in acl_rules("shop", "admin").split()
    assert needed_role("xadd") == "client" and needed_role("xreadgroup") == "worker"
    assert needed_role("xdel") == "admin" and needed_role("flushall") is None
    bad = subprocess.run(
        [sys.executable, "-m", "hotmesh_nb.cli", "acl", "a b"],
        capture_output=True,
        text=True,
        env=dict(os.environ, **HERE_ENV),
    )
    assert bad.returncode == 2 and "invalid namespace 'a b'" in bad.stderr


@pytest.mark.slow
def test_each_role_runs_the_hello_app_in_its_own_process(
    users: Users, parts: Parts, namespace: str
) -> None:
    urls = {role: users.url(namespace, role) for role in ROLES}
    users.expected.add("xdel")
    assert parts.call("admin", urls["admin"], namespace) == {"deployed": "1"}
    parts.serve("engine", urls["engine"], namespace)
    parts.serve("worker", urls["worker"], namespace)
    got = parts.call("client", urls["client"], namespace)
    assert got["answer"] == {"reply": "howdy, from a worker"}
    assert got["status_known"]
    # The server forgets its scripts (as after a restart without them): every role
    # loads them again with its own SCRIPT LOAD, and the next job runs.
    users.admin.script_flush()
    again = parts.call("client", urls["client"], namespace)
    assert again["answer"] == {"reply": "howdy, from a worker"}
    # What a role lacks is refused by name: a worker cannot purge dead letters.
    hm = HotMesh.init("hello", connection=urls["worker"], namespace=namespace, engine=False)
    with pytest.raises(PermissionDeniedError) as refused:
        hm.purge_dead_letters(["0-1"])
    assert "XDEL" in str(refused.value) and "role 'admin'" in str(refused.value)
    # ...and a client cannot serve a worker topic: refused when it starts, by name.
    users.expected.add("xreadgroup")
    with pytest.raises(PermissionDeniedError) as reading:
        HotMesh.init(
            "hello",
            connection=urls["client"],
            namespace=namespace,
            engine=False,
            workers=[Worker("hello.work", lambda msg: {})],
        )
    assert "XREADGROUP" in str(reading.value) and "role 'worker'" in str(reading.value)


@pytest.mark.slow
def test_meshcall_meshflow_and_meshdata_run_as_engine_users(
    users: Users, parts: Parts, namespace: str
) -> None:
    served, calling = users.url(namespace, "engine"), users.url(namespace, "engine")
    parts.serve("meshcall-worker", served, namespace)
    got = parts.call("meshcall-client", calling, namespace)
    assert got == {"fresh": "HI", "cached": "HO", "again": "HO"}
    parts.serve("meshflow-worker", served, namespace)
    assert parts.call("meshflow-client", calling, namespace) == {"result": "Hello, Ada! go"}
    parts.serve("meshdata-worker", served, namespace)
    got = parts.call("meshdata-client", calling, namespace)
    assert got == {"found": ["word-mouse"], "get": {"word": "cat", "letters": "3"}}


def test_a_user_of_one_namespace_is_refused_everything_in_another(
    users: Users, redis_url: str, namespace: str
) -> None:
    theirs = f"{namespace}b"
    # The other tenant runs the hello app with its own user.
    owner = users.url(theirs, "admin")
    from acl_roles import APP, CONFIG, work

    hm_b = HotMesh.init(
        "hello",
        connection=owner,
        namespace=theirs,
        workers=[Worker("hello.work", work)],
        config=CONFIG,
    )
    hm_b.deploy(APP)
    hm_b.activate("1")
    before = hm_b.pubsub("hello.say", {"greeting": "hi"}, timeout=30)
    admin = redis.Redis.from_url(redis_url, decode_responses=True)
    keys_before = sorted(admin.scan_iter(match=f"{{{theirs}:*"))

    mine = users.url(namespace, "admin")  # the most privileged role of namespace A
    users.expected.add(f"{{{theirs}:")
    with pytest.raises(PermissionDeniedError) as refused:
        HotMesh.init("hello", connection=mine, namespace=theirs, engine=False)
    message = str(refused.value)
    assert refused.value.namespace == theirs
    assert f"namespace '{theirs}'" in message and "hotmesh-nb acl" in message
    assert "NOPERM" in message or "No permissions" in message
    with pytest.raises(PermissionDeniedError):
        MeshCall.exec("shout", ["x"], connection=mine, namespace=theirs)
    # Below the API too: a script, a pipeline and a subscription on B's names.
    conn = hotmesh_nb.connect(mine)
    run = get_runtime().run
    job = hm_b.keys.job("x")
    with pytest.raises(PermissionDeniedError):
        run(conn.client.eval("return redis.call('HSET', KEYS[1], 'a', 1)", 1, job))
    # A script declaring only its own keys cannot reach B's either.
    hidden = "return redis.call('HSET', ARGV[1], 'a', 1)"
    with pytest.raises(PermissionDeniedError) as in_script:
        run(conn.client.eval(hidden, 1, f"{{{namespace}:hello}}:j:x", job))
    assert "HSET (in a script)" in str(in_script.value) or "script" in str(in_script.value)
    pipe = conn.client.pipeline(transaction=False)
    pipe.hgetall(job)
    with pytest.raises(PermissionDeniedError):
        run(pipe.execute())
    # Nothing of B changed, and B still works.
    assert sorted(admin.scan_iter(match=f"{{{theirs}:*")) == keys_before
    assert hm_b.pubsub("hello.say", {"greeting": "hi"}, timeout=30) == before
    admin.close()


def test_the_namespace_pattern_covers_every_minted_name_and_no_neighbours() -> None:
    from fnmatch import fnmatchcase

    from hotmesh_nb.keys import Keys, namespace_pattern

    keys = Keys("ab", "app", 4)
    part = keys.part(3)
    names = [
        keys.app_record,
        keys.version("1"),
        keys.job("j1"),
        part.engine_stream,
        part.worker_stream("t"),
        part.dead_letters,
        part.timers,
        part.hook_waiter("t", "v"),
        part.early_signals("t", "v"),
        part.facet("f:v"),
        keys.search_indexes,
        part.search_key("i", "tag"),
        part.timer_wake,
        part.applied("r1"),
        keys.throttles,
        part.done_channel,
        keys.topic_channel("t", "j"),
        keys.quorum_channel,
        keys.roll_call,
    ]
    # Redis globs read '{' and '}' literally, as fnmatch does; namespaces hold no glob
    # characters and no ':', so a namespace that extends another's name is not matched.
    assert all(fnmatchcase(name, namespace_pattern("ab")) for name in names)
    assert not any(fnmatchcase(name, namespace_pattern("a")) for name in names)
    assert not any(fnmatchcase(name, namespace_pattern("abc")) for name in names)
