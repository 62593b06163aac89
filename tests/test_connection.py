"""connect(): URL precedence and fast, clear failures."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import hotmesh_nb
from hotmesh_nb import ConnectError, server
from hotmesh_nb.connection import mask_url, resolve_url


def test_url_precedence(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> None:
    monkeypatch.setenv("HOTMESH_REDIS_URL", "redis://hotmesh-env:1")
    monkeypatch.setenv("REDIS_URL", "redis://redis-env:2")
    assert resolve_url("redis://explicit:3") == "redis://explicit:3"
    assert resolve_url() == "redis://hotmesh-env:1"
    monkeypatch.delenv("HOTMESH_REDIS_URL")
    assert resolve_url() == "redis://redis-env:2"
    monkeypatch.delenv("REDIS_URL")
    assert resolve_url() == server.url()


def test_connect_uses_the_embedded_server_and_is_shared(redis_url: str) -> None:
    first = hotmesh_nb.connect(redis_url)
    assert first.ping() is True
    assert hotmesh_nb.connect(redis_url) is first
    assert hotmesh_nb.connect(first) is first


def test_password_is_masked() -> None:
    assert mask_url("redis://alice:s3cret@db:6379/0") == "redis://alice:***@db:6379/0"
    assert mask_url("redis://:s3cret@db:6379") == "redis://:***@db:6379"
    assert mask_url("unix:///tmp/s.sock") == "unix:///tmp/s.sock"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(30)  # fails within seconds; a hang would be caught here
def test_unreachable_server_fails_fast_naming_the_url(redis_url: str) -> None:
    url = f"redis://:topsecret@127.0.0.1:{_free_port()}/0"
    with pytest.raises(ConnectError) as caught:
        hotmesh_nb.connect(url)
    message = str(caught.value)
    assert "127.0.0.1" in message and "***" in message and "topsecret" not in message
    assert "REDIS_URL" in message


@pytest.fixture(scope="module")
def password_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A second real server on loopback TCP that requires a password and has an ACL user."""
    port = _free_port()
    folder: Path = tmp_path_factory.mktemp("pw")
    proc = subprocess.Popen(
        [
            str(server.find_binary()),
            "--port", str(port), "--bind", "127.0.0.1", "--requirepass", "right",
            "--save", "", "--appendonly", "no", "--dir", str(folder),
        ],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    import redis

    client = redis.Redis(port=port, password="right")
    for _ in range(500):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.01)
    client.execute_command("ACL", "SETUSER", "alice", "on", ">wonder", "~*", "&*", "+@all")
    yield port
    proc.terminate()
    proc.wait(10)


def test_wrong_password_fails_fast(password_server: int) -> None:
    url = f"redis://:wrong@127.0.0.1:{password_server}"
    with pytest.raises(ConnectError, match=r"credentials|password") as caught:
        hotmesh_nb.connect(url)
    assert "wrong" not in str(caught.value).replace("wrong number", "")


def test_missing_password_says_to_put_it_in_the_url(password_server: int) -> None:
    with pytest.raises(ConnectError, match="password"):
        hotmesh_nb.connect(f"redis://127.0.0.1:{password_server}")


def test_password_and_acl_user_are_honoured(password_server: int) -> None:
    assert hotmesh_nb.connect(f"redis://:right@127.0.0.1:{password_server}").ping()
    assert hotmesh_nb.connect(f"redis://alice:wonder@127.0.0.1:{password_server}").ping()


def test_a_replica_url_is_refused_naming_its_primary(password_server: int, tmp_path: Path) -> None:
    """Every step writes: a read-only replica would make every write wait forever."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            str(server.find_binary()),
            "--port", str(port), "--bind", "127.0.0.1", "--requirepass", "right",
            "--masterauth", "right", "--replicaof", "127.0.0.1", str(password_server),
            "--save", "", "--appendonly", "no", "--dir", str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        import redis

        replica = redis.Redis(port=port, password="right")
        for _ in range(500):
            try:
                replica.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.01)
        with pytest.raises(ConnectError, match="read-only replica") as caught:
            hotmesh_nb.connect(f"redis://:right@127.0.0.1:{port}")
        assert f"127.0.0.1:{password_server}" in str(caught.value)  # the primary to use
        assert "right@" not in str(caught.value)
    finally:
        proc.terminate()
        proc.wait(10)


def test_one_node_gives_the_plain_client(redis_url: str) -> None:
    conn = hotmesh_nb.connect(redis_url)
    assert conn.cluster is False
    assert type(conn.client).__name__ == "_Client"
