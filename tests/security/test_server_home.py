"""Attacks on the embedded server's folders and files by another local user (issue 17, H1/M1).

Each test plants what a hostile neighbour could plant, then checks that start is
refused with an error naming the culprit and that no file outside the home changed,
or that the server's files come out private.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from server_intruder import cleanup, intruder, snapshot

from hotmesh_nb import ServerError, server

pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """HOTMESH_HOME for one test (not created), and a file of the victim beside it."""
    folder = tmp_path / "h"
    monkeypatch.setenv("HOTMESH_HOME", str(folder))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    precious = tmp_path / "precious.txt"
    precious.write_text("the victim's own file\n")
    os.chmod(precious, 0o644)
    yield folder
    cleanup()


def _cli_start() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotmesh_nb.cli", "server", "start"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _populate() -> None:
    """Run the server once so that its data folder holds every kind of file, then stop it."""
    server.start()
    client = redis.Redis.from_url(server.status().url)
    client.set("k", "v")
    client.save()
    client.close()
    assert server.stop()


def test_a_home_everyone_can_write_is_refused(home: Path, tmp_path: Path) -> None:
    home.mkdir()
    os.chmod(home, 0o777)
    before = snapshot(tmp_path)
    with pytest.raises(ServerError) as caught:
        server.start()
    assert str(home) in str(caught.value)
    assert "writable by other users" in str(caught.value)
    assert "chmod 700" in str(caught.value)
    assert snapshot(tmp_path) == before
    cli = _cli_start()
    assert cli.returncode == 1
    assert str(home) in cli.stderr and "Traceback" not in cli.stderr
    assert snapshot(tmp_path) == before


def test_a_home_another_user_made_first_is_refused(home: Path, tmp_path: Path) -> None:
    other = intruder()
    home.mkdir(mode=0o755)
    other.give(home)
    before = snapshot(tmp_path)
    with pytest.raises(ServerError, match="belongs to hmintruder") as caught:
        server.start()
    assert str(home) in str(caught.value)
    with pytest.raises(ServerError, match="belongs to hmintruder"):
        server.status()
    assert snapshot(tmp_path) == before


def test_a_default_home_in_a_data_folder_another_user_owns_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = intruder()
    monkeypatch.delenv("HOTMESH_HOME", raising=False)
    xdg = tmp_path / "share"
    (xdg / "hotmesh").mkdir(parents=True, mode=0o755)
    other.give(xdg / "hotmesh")
    monkeypatch.setenv("XDG_DATA_HOME", str(xdg))
    with pytest.raises(ServerError, match="XDG_DATA_HOME") as caught:
        try:
            server.start()
        finally:
            cleanup()  # only matters if the refusal ever regresses
    assert str(xdg / "hotmesh") in str(caught.value)
    assert os.listdir(xdg / "hotmesh") == []


def test_a_data_folder_inside_the_home_open_to_others_is_refused(
    home: Path, tmp_path: Path
) -> None:
    (home / "valkey").mkdir(parents=True)
    os.chmod(home / "valkey", 0o777)
    before = snapshot(tmp_path)
    with pytest.raises(ServerError, match="writable by other users") as caught:
        server.start()
    assert str(home / "valkey") in str(caught.value)
    assert snapshot(tmp_path) == before


def test_a_home_inside_a_folder_others_can_write_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)  # without the sticky bit, anyone may rename our folder away
    monkeypatch.setenv("HOTMESH_HOME", str(shared / "mine"))
    with pytest.raises(ServerError) as caught:
        try:
            server.start()
        finally:
            cleanup()
    assert f"inside {shared}" in str(caught.value)
    assert os.listdir(shared) == []


def test_a_home_inside_a_sticky_shared_folder_is_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "tmp-like"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # like /tmp: others may add entries but not move ours
    monkeypatch.setenv("HOTMESH_HOME", str(shared / "mine"))
    try:
        info = server.start()
        assert info.running
        assert stat.S_IMODE((shared / "mine").stat().st_mode) == 0o700
    finally:
        cleanup()


def test_a_home_reached_through_another_users_link_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = intruder()
    shared = tmp_path / "tmp-like"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    link = shared / "mine"
    link.symlink_to(theirs)
    other.give(link)
    monkeypatch.setenv("HOTMESH_HOME", str(link))
    with pytest.raises(ServerError, match="symbolic link made by hmintruder"):
        try:
            server.start()
        finally:
            cleanup()
    assert os.listdir(theirs) == []


PLANTED = [
    "server.conf",
    "server.json",
    "server.json.tmp",
    "server.tmp",
    "server.lock",
    "server.log",
    "server.pid",
    "dump.rdb",
    "appendonlydir",
    "appendonlydir/appendonly.aof.manifest",
]


@pytest.mark.parametrize("name", PLANTED)
def test_a_link_planted_in_the_data_folder_is_refused(
    home: Path, tmp_path: Path, name: str
) -> None:
    _populate()
    planted = home / "valkey" / name
    if planted.is_dir():
        for child in planted.iterdir():
            child.unlink()
        planted.rmdir()
    elif planted.exists():
        planted.unlink()
    target = tmp_path / "precious.txt"
    planted.symlink_to(target)
    intruder().give(planted)
    outside = snapshot(tmp_path, skip=home)
    with pytest.raises(ServerError, match="symbolic link") as caught:
        server.start()
    assert str(planted) in str(caught.value)
    assert target.read_text() == "the victim's own file\n"
    assert snapshot(tmp_path, skip=home) == outside
    if name == "server.conf":  # the command line says the same, without a traceback
        cli = _cli_start()
        assert cli.returncode == 1 and "symbolic link" in cli.stderr
        assert "Traceback" not in cli.stderr
        assert snapshot(tmp_path, skip=home) == outside


def test_a_hard_link_to_an_outside_file_is_refused(home: Path, tmp_path: Path) -> None:
    _populate()
    log = home / "valkey" / "server.log"
    log.unlink()
    os.link(tmp_path / "precious.txt", log)  # the server appends to its log in place
    outside = snapshot(tmp_path, skip=home)
    with pytest.raises(ServerError, match="hard links") as caught:
        server.start()
    assert str(log) in str(caught.value)
    assert snapshot(tmp_path, skip=home) == outside


def test_a_file_of_another_user_in_the_data_folder_is_refused(home: Path) -> None:
    _populate()
    manifest = home / "valkey" / "appendonlydir" / "appendonly.aof.manifest"
    intruder().give(manifest)
    with pytest.raises(ServerError, match="belongs to hmintruder") as caught:
        server.start()
    assert str(manifest) in str(caught.value)


def _modes(folder: Path) -> dict[str, str]:
    found = {}
    for path in [folder, *folder.rglob("*")]:
        st = path.lstat()
        kind = "socket" if stat.S_ISSOCK(st.st_mode) else "dir" if path.is_dir() else "file"
        found[str(path.relative_to(folder.parent))] = f"{kind} {oct(stat.S_IMODE(st.st_mode))}"
    return found


def _expected(modes: dict[str, str]) -> dict[str, str]:
    wanted = {"dir": "0o700", "file": "0o600", "socket": "0o700"}
    return {path: f"{kind.split()[0]} {wanted[kind.split()[0]]}" for path, kind in modes.items()}


def test_every_file_is_private_under_umask_000(home: Path) -> None:
    code = (
        "import os, redis\n"
        "os.umask(0)\n"
        "from hotmesh_nb import server\n"
        "client = redis.Redis.from_url(server.start().url)\n"
        "client.set('k', 'v'); client.save(); client.bgrewriteaof()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    found = _modes(home)
    assert {"valkey/server.conf", "valkey/server.log", "valkey/dump.rdb"} <= {
        p.removeprefix("h/") for p in found
    }
    assert any("appendonlydir/" in p for p in found)
    assert found == _expected(found)


def test_modes_an_earlier_version_left_open_are_repaired_on_start(home: Path) -> None:
    _populate()
    for path in [home / "valkey", *(home / "valkey").rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)  # what umask 022 used to give
    server.start()
    found = _modes(home / "valkey")
    assert found == _expected(found)


def test_a_home_path_that_would_break_the_config_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tricky = tmp_path / 'h"\nloadmodule "/nonexistent/evil.so'
    monkeypatch.setenv("HOTMESH_HOME", str(tricky))
    try:
        with pytest.raises(ServerError, match="quote, backslash or line break"):
            server.start()
        assert not (tricky / "valkey" / "server.conf").exists()
    finally:
        cleanup()
