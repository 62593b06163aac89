import pytest

from hotmesh_nb.keys import Keys


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
