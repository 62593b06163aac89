"""Passwords never show: every URL form, in errors, reprs, logs and the notebook."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
import redis

from hotmesh_nb import ConnectError, Connection, connect
from hotmesh_nb.connection import mask_url

SECRET = "hunter2"

FORMS = [
    ("redis://bob:hunter2@db.example:6379/0", "redis://bob:***@db.example:6379/0"),
    ("redis://:hunter2@db.example", "redis://:***@db.example"),
    ("redis://hunter2@db.example:6379", "redis://***@db.example:6379"),  # user-only
    ("rediss://bob:hunter2@[2001:db8::1]:6380/1", "rediss://bob:***@[2001:db8::1]:6380/1"),
    ("redis://[::1]:6379/0", "redis://[::1]:6379/0"),  # IPv6 keeps its brackets
    ("redis://db.example:6379/0?password=hunter2", "redis://db.example:6379/0?password=***"),
    (
        "redis://db.example/0?username=bob&password=hunter2&ssl_cert_reqs=none",
        "redis://db.example/0?username=***&password=***&ssl_cert_reqs=none",
    ),
    ("unix:///run/redis.sock?db=0&password=hunter2", "unix:///run/redis.sock?db=0&password=***"),
    ("unix://bob:hunter2@/run/redis.sock", "unix://bob:***@/run/redis.sock"),
    ("redis://bob:p%40ss@db.example", "redis://bob:***@db.example"),  # escaped characters
    ("redis://bob:hunter2@[::1", "redis://***@[::1"),  # not a valid URL: masked anyway
    ("redis://db.example:6379", "redis://db.example:6379"),
]


@pytest.mark.parametrize(("url", "masked"), FORMS)
def test_every_url_form_is_masked(url: str, masked: str) -> None:
    assert mask_url(url) == masked
    assert "hunter2" not in mask_url(url) and "p%40ss" not in mask_url(url)


def test_a_connection_repr_is_masked() -> None:
    conn = Connection("redis://bob:hunter2@[::1]:6379/0?password=hunter2")
    assert repr(conn) == "Connection('redis://bob:***@[::1]:6379/0?password=***')"


@pytest.mark.parametrize(
    "url",
    [
        "redis://bob:hunter2@127.0.0.1:1/0",
        "redis://bob:hunter2@[::1]:1/0",
        "redis://127.0.0.1:1/0?password=hunter2",
        "unix://bob:hunter2@/nonexistent/redis.sock",
        "unix:///nonexistent/redis.sock?password=hunter2",
    ],
)
def test_connect_errors_and_logs_are_masked(url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConnectError) as caught:
        connect(url)
    message = str(caught.value)
    assert mask_url(url) in message and SECRET not in message
    assert all(SECRET not in record.getMessage() for record in caplog.records)


@pytest.fixture
def acl_url(redis_url: str) -> Iterator[str]:
    """The test server's URL with a user and password of its own."""
    user = f"mask{uuid.uuid4().hex[:8]}"
    admin = redis.Redis.from_url(redis_url)
    admin.acl_setuser(
        user, enabled=True, passwords=[f"+{SECRET}"], keys=["*"], channels=["*"], commands=["+@all"]
    )
    head, _, tail = redis_url.partition("://")
    yield f"{head}://{user}:{SECRET}@{tail}"
    admin.acl_deluser(user)
    admin.close()


def test_a_working_connection_with_a_password_shows_it_nowhere(acl_url: str) -> None:
    conn = connect(acl_url)
    assert conn.ping()
    assert SECRET not in repr(conn) and ":***@" in repr(conn)


def test_the_notebook_shows_the_url_masked(acl_url: str) -> None:
    from IPython.core.getipython import get_ipython
    from IPython.testing.globalipapp import start_ipython

    import hotmesh_nb

    start_ipython()
    shell = get_ipython()
    assert shell is not None
    shell.run_line_magic("load_ext", "hotmesh_nb")
    try:
        shell.user_ns["URL"] = acl_url
        result = shell.run_cell("%hotmesh connect $URL --namespace masked", store_history=True)
        assert result.error_in_exec is None and result.error_before_exec is None
        assert SECRET not in str(result.result) and ":***@" in str(result.result)
        bad = shell.run_cell(
            f"%hotmesh connect {acl_url.replace(SECRET, 'wrong-pw')}", store_history=True
        )
        assert isinstance(bad.error_in_exec, ConnectError)
        assert "wrong-pw" not in str(bad.error_in_exec)
    finally:
        shell.run_line_magic("unload_ext", "hotmesh_nb")
        hotmesh_nb.shutdown()
