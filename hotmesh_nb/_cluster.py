"""A local Redis Cluster from the embedded server binary, for users and tests.

``cluster_start(primaries=3, replicas=1)`` runs ``primaries × (1 + replicas)`` server
processes on loopback TCP ports, joins them into one cluster (slots spread evenly
over the primaries, each replica following one primary) and waits until
``cluster_state:ok``. The nodes run detached, like the embedded server, and keep
their data: a later start brings the same cluster back on the same ports.

Files live in ``HOTMESH_HOME/cluster`` under the embedded server's rules: folders
0700, files 0600 (the nodes run under umask 077), no links, nothing of another
user. TCP ports are open to every local user, so the cluster always has a random
password (``cluster/password``), and hotmesh_nb sends it only to a port whose
listening socket belongs to us (``/proc/net/tcp`` on Linux).

One hole cannot be closed here: the cluster bus of Redis and Valkey has no password,
and the embedded binary has no TLS, so another local user can make a node of theirs
join. It is detected (:attr:`ClusterStatus.strangers`, and :func:`cluster_url` refuses),
not prevented: this cluster is for development and tests on a machine you do not
share with untrusted users.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import redis

from . import _fsguard as fsguard
from .errors import ServerError

CLUSTER_SLOTS = 16384
"""Hash slots of a Redis Cluster."""

CLUSTER_TIMEOUT = 60.0
"""Seconds to wait for the nodes to start and the cluster to reach ``cluster_state:ok``."""

NODE_TIMEOUT_MS = 5000
"""``cluster-node-timeout``: how long a silent primary may stay before its replica takes over."""

HOST = "127.0.0.1"
"""The nodes listen on loopback only."""


@dataclass(frozen=True)
class ClusterNode:
    """One server process of the local cluster."""

    port: int
    """Its client port on 127.0.0.1 (the cluster bus uses ``bus_port``)."""
    bus_port: int
    """Its cluster bus port."""
    role: str
    """``primary`` or ``replica`` (as planned; after a failover, see ``actual_role``)."""
    running: bool
    """True when it answers ``PING`` with the cluster's password."""
    actual_role: str | None = None
    """``master`` or ``slave`` as the node reports it now (None when not running)."""
    pid: int | None = None
    """Process id, when running."""


@dataclass(frozen=True)
class ClusterStatus:
    """What :func:`cluster_status` reports."""

    running: bool
    """True when every node answers and the cluster says ``cluster_state:ok``."""
    state: str
    """``cluster_state`` from ``CLUSTER INFO`` (``ok``, ``fail``), or ``stopped``/``absent``."""
    url: str
    """URL of one node, password masked; :func:`cluster_url` gives it in full."""
    data_dir: str
    """Folder of the nodes' files."""
    primaries: int = 0
    """Primaries asked for at creation."""
    replicas: int = 0
    """Replicas per primary asked for at creation."""
    nodes: list[ClusterNode] = field(default_factory=list)
    """Every node, primaries first."""
    strangers: list[str] = field(default_factory=list)
    """``address id`` of nodes in the cluster that we did not start (an intrusion)."""


def cluster_dir() -> Path:
    """Folder of the local cluster's files: ``HOTMESH_HOME/cluster``."""
    from .server import home

    return home() / "cluster"


def _prepare() -> Path:
    from .server import _private_folder

    return _private_folder(cluster_dir(), "cluster folder")


def _existing() -> Path | None:
    from .server import _existing_private_folder

    return _existing_private_folder(cluster_dir(), "cluster folder")


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    fd = fsguard.open_private(folder / "cluster.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _read_state(folder: Path) -> dict:
    text = fsguard.read_private(folder / "cluster.json")
    if not text:
        return {}
    try:
        state = json.loads(text)
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def _password(folder: Path) -> str | None:
    text = fsguard.read_private(folder / "password")
    return text.strip() if text else None


# -- ports and the processes behind them ------------------------------------------------


def _free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports that are free now (the OS picks them)."""
    holders = []
    try:
        for _ in range(count):
            holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            holder.bind((HOST, 0))
            holders.append(holder)
        return [h.getsockname()[1] for h in holders]
    finally:
        for holder in holders:
            holder.close()


def _listener_uid(port: int) -> int | None:
    """Owner of the socket listening on 127.0.0.1:``port`` (Linux), None if none or unknown."""
    wanted = f"0100007F:{port:04X}"
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) > 7 and fields[1] == wanted and fields[3] == "0A":  # 0A: LISTEN
            return int(fields[7])
    return None


def _client(port: int, password: str, timeout: float = 5.0) -> redis.Redis:
    """A client of one node, once the port is known to be served by us."""
    uid = _listener_uid(port)
    if uid is not None and uid != os.geteuid():
        raise ServerError(
            f"port {port} on {HOST}, recorded for the local cluster, is served by "
            f"{fsguard.user_name(uid)}, not by you: hotmesh_nb will not send it the "
            "cluster's password. Stop that process, or remove the cluster with "
            "`hotmesh-nb server cluster stop --remove` and start a new one"
        )
    return redis.Redis(
        host=HOST,
        port=port,
        password=password,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        decode_responses=True,
    )


def _ping(port: int, password: str) -> bool:
    if sys.platform.startswith("linux") and _listener_uid(port) is None:
        return False
    try:
        with _client(port, password, timeout=2.0) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def _node_config(folder: Path, port: int, bus_port: int, password: str) -> str:
    from .server import _quoted

    lines = [
        f"port {port}",
        f"bind {HOST}",
        "protected-mode yes",
        f"cluster-port {bus_port}",
        "cluster-enabled yes",
        "cluster-config-file nodes.conf",
        f"cluster-node-timeout {NODE_TIMEOUT_MS}",
        f"requirepass {password}",
        f"masterauth {password}",
        f"dir {_quoted(folder)}",
        f"pidfile {_quoted(folder / 'node.pid')}",
        f"logfile {_quoted(folder / 'node.log')}",
        "daemonize yes",
        "appendonly yes",
        "appendfsync everysec",
        "aof-use-rdb-preamble yes",
        "save 900 1 300 100 60 10000",
    ]
    return "\n".join(lines) + "\n"


def _launch_node(binary: Path, folder: Path, node: dict, password: str) -> None:
    fsguard.ensure_private_dir(folder, "cluster node folder", repair=True)
    conf = folder / "node.conf"
    fsguard.write_private(conf, _node_config(folder, node["port"], node["bus_port"], password))
    done = subprocess.run(
        [str(binary), str(conf)],
        cwd=folder,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        close_fds=True,
        umask=0o077,
        timeout=CLUSTER_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise ServerError(
            f"a cluster node ({binary}, port {node['port']}) did not start: "
            f"{done.stderr.decode(errors='replace').strip() or _log_tail(folder)}"
        )


def _log_tail(folder: Path, lines: int = 10) -> str:
    try:
        text = fsguard.read_private(folder / "node.log") or ""
    except (OSError, ServerError):
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(no log)"


def _wait(
    check: Callable[[], bool], what: str, folder: Path, timeout: float = CLUSTER_TIMEOUT
) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.01
    while not check():
        if time.monotonic() > deadline:
            raise ServerError(
                f"the local cluster in {folder}: {what} did not happen within {timeout:.0f} s; "
                "see the node.log files there"
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def _identity_of(port: int, password: str) -> dict:
    """pid, start time and executable of the node on ``port`` (for a later safe kill)."""
    with _client(port, password) as client:
        pid = int(client.info("server")["process_id"])
    found = fsguard.identify(pid)
    if found is None:
        return {"pid": pid, "pid_start": None, "exe": None}
    return {"pid": pid, "pid_start": found.start, "exe": found.exe}


# -- forming the cluster ------------------------------------------------------------------


def _form(nodes: list[dict], password: str, primaries: int, folder: Path) -> None:
    """Join freshly started nodes: slots to primaries, everyone meets, replicas follow."""
    clients = [_client(n["port"], password) for n in nodes]
    try:
        for epoch, client in enumerate(clients, start=1):
            # Distinct config epochs up front spare the nodes a round of collisions.
            client.execute_command("CLUSTER", "SET-CONFIG-EPOCH", epoch)
        for index in range(primaries):
            first = index * CLUSTER_SLOTS // primaries
            last = (index + 1) * CLUSTER_SLOTS // primaries - 1
            clients[index].execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)
        for client in clients[1:]:
            client.execute_command("CLUSTER", "MEET", HOST, nodes[0]["port"], nodes[0]["bus_port"])

        def all_met() -> bool:
            for client in clients:
                lines = client.execute_command("CLUSTER", "NODES").strip().splitlines()
                if len(lines) < len(nodes) or any("handshake" in line for line in lines):
                    return False
            return True

        _wait(all_met, "the nodes meeting each other", folder)
        ids = [client.execute_command("CLUSTER", "MYID") for client in clients]
        for node, node_id in zip(nodes, ids):
            node["id"] = node_id
        for index, node in enumerate(nodes):
            if node["role"] == "replica":
                primary = ids[node["follows"]]
                _wait(
                    functools.partial(_knows_primary, clients[index], primary),
                    "a replica learning its primary",
                    folder,
                )
                clients[index].execute_command("CLUSTER", "REPLICATE", primary)
    finally:
        for client in clients:
            client.close()


def _knows_primary(client: redis.Redis, node_id: str) -> bool:
    for line in client.execute_command("CLUSTER", "NODES").splitlines():
        parts = line.split()
        if parts and parts[0] == node_id and "master" in parts[2]:
            return True
    return False


def _healthy(nodes: list[dict], password: str) -> bool:
    """Every node says ``cluster_state:ok`` and every replica's link to its primary is up."""
    for node in nodes:
        try:
            with _client(node["port"], password, timeout=2.0) as client:
                if client.execute_command("CLUSTER", "INFO").find("cluster_state:ok") < 0:
                    return False
                info = client.info("replication")
        except redis.RedisError:
            return False
        if info.get("role") == "slave" and info.get("master_link_status") != "up":
            return False
    return True


# -- the public API (re-exported by hotmesh_nb.server) ------------------------------------


def cluster_start(
    primaries: int = 3, replicas: int = 1, binary: str | os.PathLike[str] | None = None
) -> ClusterStatus:
    """Start the local cluster (creating it on first use) and wait until it is ``ok``.

    ``primaries`` × (1 + ``replicas``) nodes. A cluster created earlier is restarted
    with its data, ports and password; asking for another shape then is an error.

    ``binary`` is the server every node runs: a path or a name on ``PATH`` (such as
    Debian's ``redis-server``, 7.0 or newer). By default, the embedded server's
    binary (:func:`hotmesh_nb.server.find_binary`). A cluster created with a binary of
    its own keeps it when restarted without one, since another server may not read
    its data files; naming a different one then is an error.
    """
    if primaries < 1 or replicas < 0:
        raise ServerError(
            f"a cluster needs at least one primary and no negative replica count, not "
            f"primaries={primaries}, replicas={replicas} (3 primaries let a majority decide "
            "a failover)"
        )
    from .server import find_binary

    folder = _prepare()
    with _locked(folder):
        state = _read_state(folder)
        nodes: list[dict] = state.get("nodes", [])
        if nodes and (state.get("primaries"), state.get("replicas")) != (primaries, replicas):
            raise ServerError(
                f"the local cluster in {folder} has {state.get('primaries')} primaries with "
                f"{state.get('replicas')} replica(s) each, not {primaries} with {replicas}. "
                "Use that shape, or remove it first with "
                "`hotmesh-nb server cluster stop --remove` (its data is lost)"
            )
        fsguard.guard_tree(folder)
        password = _password(folder)
        fresh = not nodes
        if fresh:
            for leftover in folder.glob("node-*"):  # from a creation that failed half-way
                shutil.rmtree(leftover)
            password = secrets.token_urlsafe(32)
            fsguard.write_private(folder / "password", password + "\n")
            count = primaries * (1 + replicas)
            ports = _free_ports(2 * count)
            nodes = [
                {
                    "port": ports[2 * i],
                    "bus_port": ports[2 * i + 1],
                    "role": "primary" if i < primaries else "replica",
                    "follows": None if i < primaries else (i - primaries) % primaries,
                }
                for i in range(count)
            ]
        if password is None:
            raise ServerError(
                f"the local cluster's password file {folder / 'password'} is missing; remove "
                "the cluster with `hotmesh-nb server cluster stop --remove` and start again"
            )
        chosen = _chosen_binary(binary, state if nodes else {}, folder)
        binary_path = chosen or find_binary()
        for index, node in enumerate(nodes):
            if not _ping(node["port"], password):
                _retire(node)
                _launch_node(binary_path, folder / f"node-{index}", node, password)
        for node in nodes:
            _wait(functools.partial(_ping, node["port"], password), f"node {node['port']}", folder)
            node.update(_identity_of(node["port"], password))
        # Recorded before forming, so that a failed creation can still be stopped and removed.
        _write_state(folder, primaries, replicas, binary_path, nodes, chosen is not None)
        if fresh:
            _form(nodes, password, primaries, folder)
        _wait(lambda: _healthy(nodes, password), "cluster_state:ok on every node", folder)
        _write_state(folder, primaries, replicas, binary_path, nodes, chosen is not None)
        _refuse_strangers(nodes, password)
    return cluster_status()


def _chosen_binary(binary: str | os.PathLike[str] | None, state: dict, folder: Path) -> Path | None:
    """The server binary asked for (or recorded at creation), checked; None: the default."""
    recorded = state.get("binary") if state.get("binary_chosen") else None
    if binary is None:
        if recorded is None:
            return None
        binary = recorded
    text = os.fspath(binary)
    found = shutil.which(text) if os.sep not in text else None
    path = Path(found or text).expanduser()
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise ServerError(
            f"the cluster's server binary {text!r} is not an executable file"
            + (" nor a command on PATH" if os.sep not in text else "")
            + ": give the path of a Redis 7+ or Valkey server (for Debian's, "
            "`apt-get install redis-server` brings /usr/bin/redis-server)"
        )
    if recorded is not None and Path(recorded).resolve() != path.resolve():
        raise ServerError(
            f"the local cluster in {folder} was created with {recorded}, not {path}; its "
            "data files may not suit another server. Start it without a binary, or remove "
            "it first with `hotmesh-nb server cluster stop --remove` (its data is lost)"
        )
    return path


def _write_state(
    folder: Path,
    primaries: int,
    replicas: int,
    binary: Path,
    nodes: list[dict],
    binary_chosen: bool = False,
) -> None:
    state = {
        "primaries": primaries,
        "replicas": replicas,
        "binary": str(binary),
        # A binary named at creation is used again on restart (see cluster_start).
        "binary_chosen": binary_chosen,
        "nodes": nodes,
        "started": time.time(),
    }
    fsguard.write_private(folder / "cluster.json", json.dumps(state, indent=2))


def _retire(node: dict) -> None:
    """A node we started that no longer answers: kill it only if it is provably ours."""
    if fsguard.same_process(node):
        fsguard.kill_if_same(node, signal.SIGKILL)
        _wait_gone(node, 10.0)


def _wait_gone(node: dict, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while fsguard.same_process(node):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _strangers(nodes: list[dict], password: str) -> list[str]:
    """``address id`` of every node in the cluster that we did not start.

    The cluster bus of Redis and Valkey has no password: any local user can make a
    node of theirs meet ours and join. This cannot be prevented on loopback without
    TLS (which the embedded binary lacks), but it is detected here.
    """
    ours = {n.get("id") for n in nodes}
    if None in ours:
        return []  # recorded before the ids were known
    for node in nodes:
        if not _ping(node["port"], password):
            continue
        with _client(node["port"], password) as client:
            listing = client.execute_command("CLUSTER", "NODES")
        return [
            f"{parts[1].split('@')[0]} {parts[0]}"
            for parts in (line.split() for line in listing.splitlines())
            if parts and parts[0] not in ours
        ]
    return []


def _refuse_strangers(nodes: list[dict], password: str) -> None:
    strangers = _strangers(nodes, password)
    if strangers:
        raise ServerError(
            "the local cluster holds node(s) hotmesh_nb did not start: "
            f"{', '.join(strangers)}. Another local user joined it through the "
            "unauthenticated cluster bus, and could read your data. Stop it and remove it "
            "(`hotmesh-nb server cluster stop --remove`), and on a shared machine use a "
            "cluster on a network only you reach, with TLS (`tls-cluster yes`)"
        )


def cluster_status() -> ClusterStatus:
    """Report the local cluster: its nodes, their roles, and ``cluster_state``."""
    folder = _existing()
    if folder is None:
        return ClusterStatus(running=False, state="absent", url="", data_dir=str(cluster_dir()))
    state = _read_state(folder)
    password = _password(folder) or ""
    report: list[ClusterNode] = []
    cluster_state = "stopped"
    for node in state.get("nodes", []):
        running = _ping(node["port"], password)
        actual = None
        if running:
            with _client(node["port"], password) as client:
                actual = client.info("replication").get("role")
                if cluster_state == "stopped":
                    info = client.execute_command("CLUSTER", "INFO")
                    cluster_state = info.split("cluster_state:", 1)[1].split()[0]
        report.append(
            ClusterNode(
                port=node["port"],
                bus_port=node["bus_port"],
                role=node["role"],
                running=running,
                actual_role=actual,
                pid=node.get("pid") if running else None,
            )
        )
    first = report[0].port if report else None
    strangers = _strangers(state.get("nodes", []), password) if report else []
    return ClusterStatus(
        running=(
            bool(report)
            and all(n.running for n in report)
            and cluster_state == "ok"
            and not strangers
        ),
        state=cluster_state if report else "absent",
        url=f"redis://:***@{HOST}:{first}" if first else "",
        data_dir=str(folder),
        primaries=int(state.get("primaries", 0)),
        replicas=int(state.get("replicas", 0)),
        nodes=report,
        strangers=strangers,
    )


def cluster_url() -> str:
    """``redis://:PASSWORD@127.0.0.1:PORT`` of a running node (any node leads to all).

    Does not start the cluster (six server processes are not started by a
    side effect): run :func:`cluster_start` or ``hotmesh-nb server cluster start``.
    """
    folder = _existing()
    state = _read_state(folder) if folder is not None else {}
    password = _password(folder) if folder is not None else None
    for node in state.get("nodes", []):
        if password and _ping(node["port"], password):
            _refuse_strangers(state["nodes"], password)
            return f"redis://:{password}@{HOST}:{node['port']}"
    raise ServerError(
        "the local cluster is not running; start it with "
        "`hotmesh-nb server cluster start --primaries 3 --replicas 1` "
        "(or hotmesh_nb.server.cluster_start())"
    )


def cluster_stop(remove: bool = False) -> bool:
    """Stop every node (saving its data); ``remove=True`` then deletes the cluster's files.

    Returns False when no node was running.
    """
    folder = _existing()
    if folder is None:
        return False
    stopped = False
    with _locked(folder):
        state = _read_state(folder)
        password = _password(folder) or ""
        nodes = state.get("nodes", [])
        # Replicas first: a primary stopping before its replicas waits for them to catch up.
        # Within each group in parallel, since a node takes seconds to exit after saving.
        for group in ("replica", "primary"):
            members = [n for n in nodes if n.get("role") == group]
            with ThreadPoolExecutor(max_workers=max(1, len(members))) as pool:
                stopped |= any(pool.map(lambda n: _stop_node(n, password), members))
    if remove:
        shutil.rmtree(folder)
    return stopped


def _stop_node(node: dict, password: str) -> bool:
    """Save and stop one node; kill it if it hangs and is provably ours. True if it ran."""
    running = _ping(node["port"], password)
    if running:
        with (
            contextlib.suppress(redis.RedisError),
            _client(node["port"], password, timeout=30.0) as client,
        ):
            client.shutdown(save=True)
    if not _wait_gone(node, 30.0):
        fsguard.kill_if_same(node, signal.SIGKILL)
        _wait_gone(node, 10.0)
    return running


def cluster_describe() -> dict:
    """:func:`cluster_status` as a plain dict (for the CLI and notebooks)."""
    return asdict(cluster_status())
