"""A second local user for the embedded server's attack tests, and what it may change.

The tests run as root (in CI too), and root can act as anyone: it makes a real
system account, hands files, folders and sockets to it with ``chown``, and runs a
real server as that account with ``setpriv``. Every owner check is thus met by a
genuinely foreign uid, never by a patched function.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
from waiting import wait_until

from hotmesh_nb import ServerError, server

NAME = "hmintruder"
"""The account of the hostile neighbour (created on first use)."""


@dataclass(frozen=True)
class Intruder:
    """The other user."""

    uid: int
    """Their user id."""
    gid: int
    """Their primary group id."""

    def give(self, path: Path) -> Path:
        """Hand ``path`` (a link itself, not its target) to the intruder."""
        os.lchown(path, self.uid, self.gid)
        return path


def intruder() -> Intruder:
    """The intruder's account, created with ``useradd`` when it is missing."""
    if os.geteuid() != 0:
        pytest.fail(
            "the embedded server's attack tests act as a second OS user, which needs root "
            "(the CI runs them as root); run this suite as root"
        )
    try:
        entry = pwd.getpwnam(NAME)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", NAME],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(NAME)
    return Intruder(uid=entry.pw_uid, gid=entry.pw_gid)


Snapshot = dict[str, tuple[int, int, bytes]]


def snapshot(root: Path, skip: Path | None = None) -> Snapshot:
    """Mode, owner and content (or link target) of everything under ``root``."""
    seen: Snapshot = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        if skip is not None and (here == skip or skip in here.parents):
            dirs[:] = []
            continue
        for name in [*dirs, *files]:
            path = here / name
            if skip is not None and path == skip:
                continue
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                body = os.readlink(path).encode()
            elif stat.S_ISREG(st.st_mode):
                body = path.read_bytes()
            else:
                body = b""
            seen[str(path)] = (st.st_mode, st.st_uid, body)
    return seen


def cleanup() -> None:
    """Stop the server of the current HOTMESH_HOME, even when its folder is now refused."""
    try:
        server.stop()
    except ServerError:
        pass
    pid_file = server.data_dir() / "server.pid"
    with suppress(OSError, ValueError):
        os.kill(int(pid_file.read_text()), signal.SIGKILL)


@contextmanager
def foreign_server(who: Intruder, port: int = 0, extra: str = "") -> Iterator[Path]:
    """A real server run by the intruder, serving on a socket in a folder of theirs.

    The folder lies directly in the temp folder (root's pytest folders are closed to
    them) and holds a copy of the binary, since root's site-packages is closed too.
    ``port`` adds a loopback TCP port, ``extra`` more config lines. Yields the unix
    socket path; the server is killed and the folder removed afterwards.
    """
    folder = Path(tempfile.mkdtemp(prefix="hm-intruder-"))
    os.chmod(folder, 0o755)
    who.give(folder)
    binary = folder / "valkey-server"
    shutil.copy2(server.find_binary(), binary)
    os.chmod(binary, 0o755)
    sock = folder / "their.sock"
    conf = folder / "their.conf"
    conf.write_text(
        f'port {port}\nbind 127.0.0.1\nunixsocket "{sock}"\nunixsocketperm 777\n'
        f"dir \"{folder}\"\nappendonly no\nsave ''\n{extra}"
    )
    os.chmod(conf, 0o644)
    proc = subprocess.Popen(
        [
            "setpriv",
            f"--reuid={who.uid}",
            f"--regid={who.gid}",
            "--clear-groups",
            "--",
            str(binary),
            str(conf),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: sock.exists() or proc.poll() is not None)
        assert proc.poll() is None, "the intruder's server did not start"
        yield sock
    finally:
        proc.kill()
        proc.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def commands_served(sock: Path) -> int:
    """How many commands the server on ``sock`` has processed before this query.

    Asked over a bare socket: a client library would add handshake commands.
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(10)
        conn.connect(str(sock))
        conn.sendall(b"*2\r\n$4\r\nINFO\r\n$5\r\nstats\r\n")
        reply = b""
        while b"total_commands_processed:" not in reply or not reply.endswith(b"\r\n"):
            chunk = conn.recv(65536)
            assert chunk, "the server closed the connection"
            reply += chunk
    for line in reply.decode().splitlines():
        if line.startswith("total_commands_processed:"):
            return int(line.split(":", 1)[1])
    raise AssertionError("no total_commands_processed in INFO")
