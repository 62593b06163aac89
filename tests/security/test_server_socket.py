"""Attacks on the embedded server's socket and pid by another local user (issue 17, H1/L4).

A real server runs as a second OS user; its socket is put where ours would be. We
must refuse it without sending it a single command. A pid recorded for our server
but now held by another process must never be signalled.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from server_intruder import cleanup, commands_served, foreign_server, intruder
from waiting import wait_until

from hotmesh_nb import ServerError, server
from hotmesh_nb._fsguard import identify

pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A HOTMESH_HOME whose data folder exists (the server ran once and stopped)."""
    folder = tmp_path / "h"
    monkeypatch.setenv("HOTMESH_HOME", str(folder))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    server.start()
    server.stop()
    yield folder
    cleanup()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotmesh_nb.cli", "server", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_socket_another_user_serves_on_is_refused(home: Path, tmp_path: Path) -> None:
    with foreign_server(intruder()) as theirs:
        ours = home / "valkey" / "server.sock"
        os.rename(theirs, ours)  # their listening socket, now where ours should be
        served = commands_served(ours)
        for attempt in (server.start, server.status, server.url, server.stop):
            with pytest.raises(ServerError, match="belongs to hmintruder") as caught:
                attempt()
            assert str(ours) in str(caught.value)
        cli = _cli("start")
        assert cli.returncode == 1 and "belongs to hmintruder" in cli.stderr
        assert "Traceback" not in cli.stderr
        # Nothing of ours reached their server: only our own two INFO probes counted.
        assert commands_served(ours) == served + 1


def test_a_socket_file_of_ours_served_by_another_user_is_refused(
    home: Path, tmp_path: Path
) -> None:
    other = intruder()
    with foreign_server(other) as theirs:
        ours = home / "valkey" / "server.sock"
        os.rename(theirs, ours)
        os.lchown(ours, os.geteuid(), os.getegid())  # the file looks like ours...
        served = commands_served(ours)
        with pytest.raises(ServerError, match="runs as hmintruder") as caught:
            server.start()  # ...but the process behind it is theirs (SO_PEERCRED)
        assert str(ours) in str(caught.value)
        with pytest.raises(ServerError, match="runs as hmintruder"):
            server.status()
        assert commands_served(ours) == served + 1


def _decoy(tmp_path: Path) -> subprocess.Popen[bytes]:
    """A live valkey-server that is not our embedded server (same binary, same user)."""
    sock = tmp_path / "decoy.sock"
    proc = subprocess.Popen(
        [str(server.find_binary()), "--port", "0", "--unixsocket", str(sock), "--save", ""],
        stdout=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    wait_until(sock.exists)
    return proc


def _record(home: Path, **fields: object) -> None:
    state_file = home / "valkey" / "server.json"
    state = json.loads(state_file.read_text())
    state.update(fields)
    state_file.write_text(json.dumps(state))


@pytest.mark.parametrize("case", ["pid reused", "other executable", "no start time recorded"])
def test_a_recorded_pid_held_by_another_process_is_never_signalled(
    home: Path, tmp_path: Path, case: str
) -> None:
    decoy = _decoy(tmp_path) if case != "other executable" else None
    if decoy is None:
        decoy = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        me = identify(decoy.pid)
        assert me is not None
        record: dict[str, object] = {"pid": decoy.pid, "exe": os.path.realpath(me.exe)}
        if case == "pid reused":
            record["pid_start"] = me.start - 1  # our server ran earlier under this pid
        elif case == "other executable":
            record.update(pid_start=me.start, exe=str(server.find_binary().resolve()))
        else:
            record["pid_start"] = None  # a state file of an earlier version
        _record(home, **record)
        info = server.start()
        assert info.running and info.pid != decoy.pid
        assert decoy.poll() is None, "the decoy was signalled"
        assert identify(decoy.pid) == me
    finally:
        decoy.kill()
        decoy.wait(timeout=30)


def test_a_hung_server_we_started_is_replaced(home: Path) -> None:
    first = server.start()
    os.kill(first.pid, signal.SIGSTOP)  # alive, recorded, but answers nothing
    try:
        again = server.start()
        assert again.running and again.pid != first.pid
        assert identify(first.pid) is None
        assert redis.Redis.from_url(again.url).ping()
    finally:
        if identify(first.pid) is not None:
            os.kill(first.pid, signal.SIGKILL)


# -- L4: the short socket folder when the data folder's path is too long ------------------


@pytest.fixture
def deep_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A HOTMESH_HOME too deep for a unix socket path."""
    folder = tmp_path / ("d" * 60) / ("e" * 60)
    monkeypatch.setenv("HOTMESH_HOME", str(folder))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    yield folder
    cleanup()


def _old_predictable_folder(home: Path) -> Path:
    digest = hashlib.sha1(str(home / "valkey").encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"hotmesh-{os.getuid()}-{digest}"


def test_a_squatted_predictable_socket_folder_does_not_matter(deep_home: Path) -> None:
    squat = _old_predictable_folder(deep_home)
    squat.mkdir(mode=0o777)
    try:
        intruder().give(squat)
        os.chmod(squat, 0o777)
        info = server.start()
        sock = Path(info.socket)
        assert info.running and len(info.socket) <= server.SOCKET_PATH_LIMIT
        assert sock.parent != squat and sock.parent.parent == Path(tempfile.gettempdir())
        state = json.loads((deep_home / "valkey" / "server.json").read_text())
        assert state["socket_dir"] == str(sock.parent)
        assert oct(sock.parent.stat().st_mode & 0o777) == "0o700"
        assert os.listdir(squat) == []
        assert server.start().socket == info.socket  # the recorded folder is reused
    finally:
        squat.rmdir()


def test_a_taken_recorded_socket_folder_gives_a_clean_error(deep_home: Path) -> None:
    info = server.start()
    folder = Path(info.socket).parent
    assert server.stop()
    folder.rmdir()
    folder.mkdir(mode=0o777)  # someone learnt the name and took it while we were stopped
    try:
        intruder().give(folder)
        os.chmod(folder, 0o777)
        with pytest.raises(ServerError) as caught:
            server.start()
        assert str(folder) in str(caught.value)
        cli = _cli("start")
        assert cli.returncode == 1 and str(folder) in cli.stderr
        assert "Traceback" not in cli.stderr
        assert os.listdir(folder) == []
    finally:
        folder.rmdir()


def test_xdg_runtime_dir_holds_the_short_socket(
    deep_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    info = server.start()
    assert Path(info.socket).parent.parent == runtime
    assert redis.Redis.from_url(info.url).ping()


def test_an_xdg_runtime_dir_open_to_others_is_refused(
    deep_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir()
    os.chmod(runtime, 0o777)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    with pytest.raises(ServerError, match="XDG_RUNTIME_DIR") as caught:
        server.start()
    assert str(runtime) in str(caught.value)
    assert os.listdir(runtime) == []
