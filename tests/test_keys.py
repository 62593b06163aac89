import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hotmesh_nb.keys import Keys, glob_escape


def test_one_partition_is_the_layout_before_partitions() -> None:
    keys = Keys("hmsh", "myapp", 1)
    part = keys.part(0)
    names = [
        keys.app_record,
        keys.version("1"),
        keys.job("j1"),
        part.engine_stream,
        part.worker_stream("work.do"),
        part.timers,
        part.hook_waiter("h", "v"),
        part.dead_letters,
    ]
    assert all(n.startswith("{hmsh:myapp}:") for n in names)
    assert len(set(names)) == len(names)


def test_every_key_of_a_partition_shares_its_hash_tag() -> None:
    keys = Keys("hmsh", "myapp", 16)
    for part in keys.parts:
        names = [
            part.job("j1"),
            part.engine_stream,
            part.worker_stream("work.do"),
            part.timers,
            part.timer_wake,
            part.hook_waiter("h", "v"),
            part.early_signals("h", "v"),
            part.dead_letters,
            part.facet("a:b"),
            part.stats_bucket("k", "b"),
            part.search_key("i", "t", "f", "v"),
            part.applied("r"),
        ]
        assert all(n.startswith(part.prefix + ":") for n in names)
        assert part.prefix.startswith("{hmsh:myapp:") and part.prefix.endswith("}")
    assert len({p.prefix for p in keys.parts}) == 16
    # A job's keys are its partition's; the app's own keys keep the app's tag.
    assert keys.job("j1") == keys.part_of("j1").job("j1")
    assert keys.app_record == "{hmsh:myapp}:app"


def test_the_partitions_are_learned_once_and_never_change() -> None:
    from hotmesh_nb.errors import DeployError, LayoutUnknownError

    keys = Keys("hmsh", "myapp")
    assert not keys.known
    with pytest.raises(LayoutUnknownError, match="not deployed yet"):
        keys.job("j1")
    heard: list[int] = []
    keys.on_layout(lambda: heard.append(keys.count))
    assert keys.adopt(4) is True and heard == [4]
    assert keys.adopt(4) is False
    with pytest.raises(DeployError, match="has 4 partitions"):
        keys.adopt(8)
    with pytest.raises(ValueError, match="invalid partitions"):
        Keys("hmsh", "myapp", 0)


def test_namespaces_and_apps_never_share_names() -> None:
    a, b, c = Keys("ns1", "app", 4), Keys("ns2", "app", 4), Keys("ns1", "app2", 4)
    assert len({a.job("x"), b.job("x"), c.job("x")}) == 3
    assert len({a.part(0).done_channel, b.part(0).done_channel, c.part(0).done_channel}) == 3


def test_a_partitions_done_channel_is_in_the_slot_of_its_keys() -> None:
    from redis.crc import key_slot

    keys = Keys("ns", "app", 8)
    channels = {part.done_channel for part in keys.parts}
    assert len(channels) == 8
    for part in keys.parts:
        assert key_slot(part.done_channel.encode()) == key_slot(part.job("x").encode())
    # One partition: the app's own channel, as before partitions.
    assert Keys("ns", "app", 1).part(0).done_channel == "{ns:app}:done"
    assert not hasattr(keys, "done_channel")


@pytest.mark.parametrize(
    ("ns", "app"), [("bad ns", "app"), ("ns", "a"), ("ns", "my_app"), ("", "x")]
)
def test_invalid_names_are_rejected(ns: str, app: str) -> None:
    with pytest.raises(ValueError, match="invalid"):
        Keys(ns, app)


# -- key parts are escaped: different parts never give one name -----------------------------

parts = st.text(alphabet=st.sampled_from("ab:%3A*\\{}"), max_size=6)
topics = parts.filter(bool)


def test_a_colon_in_a_topic_does_not_move_the_boundary_of_the_match_value() -> None:
    keys = Keys("hmsh", "myapp", 1).part(0)
    assert keys.hook_waiter("a:b", "c") != keys.hook_waiter("a", "b:c")
    assert keys.early_signals("a:b", "c") != keys.early_signals("a", "b:c")
    # Escaping is injective: an escaped-looking topic stays apart from the real one.
    assert keys.hook_waiter("a%3Ab", "c") != keys.hook_waiter("a:b", "c")
    # Ordinary names read as they always did.
    assert keys.hook_waiter("order.paid", "o-1") == "{hmsh:myapp}:h:order.paid:o-1"


@given(first=st.tuples(topics, parts), second=st.tuples(topics, parts))
def test_hook_keys_of_different_topic_and_value_pairs_differ(
    first: tuple[str, str], second: tuple[str, str]
) -> None:
    keys = Keys("hmsh", "myapp", 1).part(0)
    assume(first != second)
    assert keys.hook_waiter(*first) != keys.hook_waiter(*second)
    assert keys.early_signals(*first) != keys.early_signals(*second)


@given(first=st.tuples(topics, parts), second=st.tuples(topics, parts))
def test_the_waiter_pattern_of_a_topic_matches_its_waiters_and_no_others(
    first: tuple[str, str], second: tuple[str, str]
) -> None:
    """What ``SCAN MATCH`` does with the pattern, by the server's glob rules (fnmatch with
    backslash escapes; the server's own matching is checked in tests/security)."""
    keys = Keys("hmsh", "myapp", 1).part(0)
    pattern = keys.hook_waiters(first[0])
    assert glob_matches(pattern, keys.hook_waiter(*first))
    assert glob_matches(pattern, keys.hook_waiter(*second)) == (first[0] == second[0])


@given(first=st.tuples(topics, parts), second=st.tuples(topics, parts))
def test_the_app_wide_waiter_pattern_never_misses_and_hook_value_sorts_out(
    first: tuple[str, str], second: tuple[str, str]
) -> None:
    """Over every partition: the one pattern matches each waiter of the topic, and
    ``hook_value`` keeps exactly the topic's waiters, with their match values."""
    keys = Keys("hmsh", "myapp", 8)
    pattern = keys.hook_waiters(first[0])
    for topic, value in (first, second):
        key = keys.hook_part(topic, value).hook_waiter(topic, value)
        if topic == first[0]:
            assert glob_matches(pattern, key)
            assert keys.hook_value(key, first[0]) == value
        else:
            assert keys.hook_value(key, first[0]) is None


@given(
    first=st.lists(parts, min_size=2, max_size=4), second=st.lists(parts, min_size=2, max_size=4)
)
def test_fallback_index_structures_of_different_parts_differ(
    first: list[str], second: list[str]
) -> None:
    keys = Keys("hmsh", "myapp", 1).part(0)
    assume(first != second)
    assert keys.search_key(*first) != keys.search_key(*second)


def test_index_p_and_index_p_t_status_share_no_structure() -> None:
    keys = Keys("hmsh", "myapp", 1).part(0)
    assert keys.search_key("p", "t", "status", "all") != keys.search_key("p:t:status", "all")
    assert keys.search_key("i", "t", "f", "x:y") != keys.search_key("i:t:f", "x", "y")


@given(key=st.lists(parts, min_size=3, max_size=3), other=st.lists(parts, min_size=3, max_size=3))
def test_trigger_stats_keys_never_collide(key: list[str], other: list[str]) -> None:
    keys = Keys("hmsh", "myapp", 1).part(0)
    names = {
        *(keys.stats_bucket(*k[:2]) for k in (key, other)),
        *(keys.stats_ids(*k) for k in (key, other)),
        *(keys.stats_median(*k) for k in (key, other)),
    }
    # Two equal part lists name the same keys, rightly; any difference gives new names.
    expected = len({tuple(key[:2]), tuple(other[:2])}) + 2 * len({tuple(key), tuple(other)})
    assert len(names) == expected


@pytest.mark.parametrize(
    "mint",
    [
        lambda k: k.part(0).worker_stream(""),
        lambda k: k.part(0).hook_waiter("", "v"),
        lambda k: k.part(0).hook_waiters(""),
        lambda k: k.hook_waiters(""),
        lambda k: k.part(0).early_signals("", "v"),
        lambda k: k.topic_channel(""),
        lambda k: k.worker_streams(""),
    ],
    ids=[
        "worker stream",
        "hook waiter",
        "hook waiters",
        "app hook waiters",
        "early signals",
        "topic channel",
        "worker streams",
    ],
)
def test_an_empty_topic_is_refused(mint) -> None:
    keys = Keys("hmsh", "myapp", 4)
    with pytest.raises(ValueError, match="must be a non-empty string"):
        mint(keys)
    # The reason: the engine's own stream is the worker-stream prefix with no topic.
    part = keys.part(2)
    assert part.worker_stream("t") == part.engine_stream + "t"


def test_every_name_starts_with_the_namespace_literally() -> None:
    """ACL rules grant ``{ns:*``: escaping never touches the prefix."""
    keys = Keys("hmsh", "myapp", 4)
    part = keys.part(1)
    names = [
        part.hook_waiter("a:b", "c:d"),
        part.early_signals("%", "*"),
        part.search_key("p:t", "t", "f", "v"),
        part.stats_ids("k:1", "b", "f:v"),
        part.worker_stream("*"),
    ]
    assert all(n.startswith("{hmsh:") for n in names)
    assert keys.match_all() == "\\{hmsh:myapp[:}]*"


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("*", "\\*"),
        ("a?b", "a\\?b"),
        ("[x]", "\\[x\\]"),
        ("a\\b", "a\\\\b"),
        ("plain.1", "plain.1"),
    ],
)
def test_glob_characters_are_escaped(text: str, escaped: str) -> None:
    assert glob_escape(text) == escaped
    assert glob_matches(glob_escape(text), text)
    assert not glob_matches(glob_escape(text), text + "x")


def glob_matches(pattern: str, name: str) -> bool:
    """Redis glob matching (``*``, ``?``, ``[...]``, ``\\`` escapes) for these tests."""
    regex = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            regex.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        regex.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    return re.fullmatch("".join(regex), name, re.DOTALL) is not None
