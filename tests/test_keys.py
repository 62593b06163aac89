import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hotmesh_nb.keys import Keys, glob_escape


def test_every_key_of_an_app_shares_its_hash_tag() -> None:
    keys = Keys("hmsh", "myapp")
    names = [
        keys.app_record,
        keys.version("1"),
        keys.job("j1"),
        keys.engine_stream,
        keys.worker_stream("work.do"),
        keys.timers,
        keys.hook_waiter("h", "v"),
        keys.dead_letters,
    ]
    assert all(n.startswith("{hmsh:myapp}:") for n in names)
    assert len(set(names)) == len(names)


def test_namespaces_and_apps_never_share_names() -> None:
    a, b, c = Keys("ns1", "app"), Keys("ns2", "app"), Keys("ns1", "app2")
    assert len({a.job("x"), b.job("x"), c.job("x")}) == 3
    assert len({a.done_channel, b.done_channel, c.done_channel}) == 3


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
    keys = Keys("hmsh", "myapp")
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
    keys = Keys("hmsh", "myapp")
    assume(first != second)
    assert keys.hook_waiter(*first) != keys.hook_waiter(*second)
    assert keys.early_signals(*first) != keys.early_signals(*second)


@given(first=st.tuples(topics, parts), second=st.tuples(topics, parts))
def test_the_waiter_pattern_of_a_topic_matches_its_waiters_and_no_others(
    first: tuple[str, str], second: tuple[str, str]
) -> None:
    """What ``SCAN MATCH`` does with the pattern, by the server's glob rules (fnmatch with
    backslash escapes; the server's own matching is checked in tests/security)."""
    keys = Keys("hmsh", "myapp")
    pattern = keys.hook_waiters(first[0])
    assert glob_matches(pattern, keys.hook_waiter(*first))
    assert glob_matches(pattern, keys.hook_waiter(*second)) == (first[0] == second[0])


@given(
    first=st.lists(parts, min_size=2, max_size=4), second=st.lists(parts, min_size=2, max_size=4)
)
def test_fallback_index_structures_of_different_parts_differ(
    first: list[str], second: list[str]
) -> None:
    keys = Keys("hmsh", "myapp")
    assume(first != second)
    assert keys.search_key(*first) != keys.search_key(*second)


def test_index_p_and_index_p_t_status_share_no_structure() -> None:
    keys = Keys("hmsh", "myapp")
    assert keys.search_key("p", "t", "status", "all") != keys.search_key("p:t:status", "all")
    assert keys.search_key("i", "t", "f", "x:y") != keys.search_key("i:t:f", "x", "y")


@given(key=st.lists(parts, min_size=3, max_size=3), other=st.lists(parts, min_size=3, max_size=3))
def test_trigger_stats_keys_never_collide(key: list[str], other: list[str]) -> None:
    keys = Keys("hmsh", "myapp")
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
        lambda k: k.worker_stream(""),
        lambda k: k.hook_waiter("", "v"),
        lambda k: k.hook_waiters(""),
        lambda k: k.early_signals("", "v"),
        lambda k: k.topic_channel(""),
    ],
    ids=["worker stream", "hook waiter", "hook waiters", "early signals", "topic channel"],
)
def test_an_empty_topic_is_refused(mint) -> None:
    keys = Keys("hmsh", "myapp")
    with pytest.raises(ValueError, match="must be a non-empty string"):
        mint(keys)
    # The reason: the engine's own stream is the worker-stream prefix with no topic.
    assert keys.worker_stream("t") == keys.engine_stream + "t"


def test_every_name_starts_with_the_namespace_literally() -> None:
    """ACL rules grant ``{ns:*``: escaping never touches the prefix."""
    keys = Keys("hmsh", "myapp")
    names = [
        keys.hook_waiter("a:b", "c:d"),
        keys.early_signals("%", "*"),
        keys.search_key("p:t", "t", "f", "v"),
        keys.stats_ids("k:1", "b", "f:v"),
        keys.worker_stream("*"),
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
