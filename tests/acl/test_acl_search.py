"""ACL users on a server with the search module: MeshData searches natively with
``--search`` rules (the operator created the index), falls back to its own index
without them, and no user can create an index over another namespace's records."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import redis
from acl_roles import WORDS, describe
from test_acl import Parts

import hotmesh_nb
from hotmesh_nb import MeshData, PermissionDeniedError, acl_rules
from hotmesh_nb.runtime import get_runtime

pytestmark = pytest.mark.search


@pytest.fixture
def users(search_url: str) -> Iterator[tuple[redis.Redis, dict[str, str]]]:
    """The operator's client and a ``make(namespace, role, search)`` for ACL user URLs."""
    operator = redis.Redis.from_url(search_url, decode_responses=True)
    made: dict[str, str] = {}
    yield operator, made
    hotmesh_nb.shutdown()
    for user in made:
        operator.execute_command("ACL", "DELUSER", user)
    operator.close()


def _user(search_url: str, operator: redis.Redis, made: dict, ns: str, search: bool) -> str:
    user, password = f"{ns}-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    rules = acl_rules(ns, "engine", search=search).split()
    operator.execute_command("ACL", "SETUSER", user, "on", f">{password}", *rules)
    made[user] = password
    scheme, rest = search_url.split("://", 1)
    return f"{scheme}://{quote(user)}:{password}@{rest}"


def _fallback_keys(operator: redis.Redis, ns: str) -> list[str]:
    # The fallback's structures live in the partitions, ``{<ns>:meshflow:<i>.<k>}:ix:``.
    return list(operator.scan_iter(match=f"{{{ns}:meshflow[:}}]*:ix:words:*"))


def test_native_search_with_rules_for_it_and_the_fallback_without(
    search_url: str, users: tuple[redis.Redis, dict[str, str]], namespace: str
) -> None:
    operator, made = users
    # The operator creates the index once, as an unrestricted user.
    MeshData(search_url, search=WORDS, namespace=namespace).connect("word", describe)
    hotmesh_nb.shutdown()
    url = _user(search_url, operator, made, namespace, search=True)
    parts = Parts()
    try:
        parts.serve("meshdata-worker", url, namespace)
        got = parts.call("meshdata-client", url, namespace)
    finally:
        parts.stop()
    assert got == {"found": ["word-mouse"], "get": {"word": "cat", "letters": "3"}}
    assert _fallback_keys(operator, namespace) == []  # FT.SEARCH answered

    # Without --search rules the same calls use the fallback index, with the same answers.
    plain_ns = f"{namespace}p"
    plain = _user(search_url, operator, made, plain_ns, search=False)
    parts = Parts()
    try:
        parts.serve("meshdata-worker", plain, plain_ns)
        assert parts.call("meshdata-client", plain, plain_ns) == got
    finally:
        parts.stop()
    assert _fallback_keys(operator, plain_ns) != []


def test_no_user_can_index_or_search_another_namespace(
    search_url: str, users: tuple[redis.Redis, dict[str, str]], namespace: str
) -> None:
    operator, made = users
    theirs = f"{namespace}b"
    operator.hset(f"{{{theirs}:meshflow}}:j:word-secret", mapping={"_word": "secret"})
    md = MeshData(search_url, search=WORDS, namespace=theirs)
    md.connect("word", describe)  # B's index, made by the operator
    hotmesh_nb.shutdown()
    mine = _user(search_url, operator, made, namespace, search=True)
    conn = hotmesh_nb.connect(mine)
    run = get_runtime().run
    # An index of my own name over B's prefix would read B's records: refused.
    steal = [
        "FT.CREATE",
        f"{{{namespace}:meshflow}}:ft:steal",
        "ON",
        "HASH",
        "PREFIX",
        "1",
        f"{{{theirs}:",
        "SCHEMA",
        "_word",
        "TAG",
    ]
    with pytest.raises(PermissionDeniedError) as refused:
        run(conn.client.execute_command(*steal))
    assert "FT.CREATE" in str(refused.value)
    # B's own index: refused by its name.
    from hotmesh_nb.keys import Keys
    from hotmesh_nb.search._native import index_name

    with pytest.raises(PermissionDeniedError) as searched:
        run(
            conn.client.execute_command(
                "FT.SEARCH", index_name(Keys(theirs, "meshflow"), "words"), "*"
            )
        )
    assert "FT.SEARCH" in str(searched.value)
    # And MeshData of namespace B, through this user, is refused as a whole.
    with pytest.raises(PermissionDeniedError):
        MeshData(mine, search=WORDS, namespace=theirs).find_where("word", "*")
