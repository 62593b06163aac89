"""The local Redis Cluster (issue 14): real nodes from the embedded binary, private files.

Started through the command line under umask 000, it must form a healthy cluster of
3 primaries and 3 replicas on loopback, demand its password, keep its files 0600 in
0700 folders, spread keys over every primary, and keep its data across a restart.
"""

from __future__ import annotations

import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster
from server_intruder import commands_served, foreign_server, intruder
from waiting import wait_until

from hotmesh_nb import ServerError, server
from hotmesh_nb._fsguard import identify

pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private HOTMESH_HOME; the cluster in it is stopped and removed afterwards."""
    folder = tmp_path / "h"
    monkeypatch.setenv("HOTMESH_HOME", str(folder))
    yield folder
    server.cluster_stop(remove=True)


def _cli(*args: str, umask: int = 0o022) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "hotmesh_nb.cli", "server", "cluster", *args],
        capture_output=True,
        text=True,
        timeout=180,
        umask=umask,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _nodes(client: redis.Redis) -> list[list[str]]:
    return [line.split() for line in client.execute_command("CLUSTER", "NODES").splitlines()]


def test_a_local_cluster_of_three_primaries_and_three_replicas(home: Path) -> None:
    out = _cli("start", "--primaries", "3", "--replicas", "1", umask=0)
    assert "local cluster ok" in out and "***" in out
    url = _cli("url")
    assert url == server.cluster_url()
    password = url.split(":", 2)[2].split("@", 1)[0]
    status = server.cluster_status()
    assert status.running and status.state == "ok"
    assert [n.actual_role for n in status.nodes] == ["master"] * 3 + ["slave"] * 3

    node = redis.Redis.from_url(url, decode_responses=True)
    info = node.execute_command("CLUSTER", "INFO")
    assert "cluster_state:ok" in info
    assert "cluster_known_nodes:6" in info and "cluster_size:3" in info
    nodes = _nodes(node)
    masters = {n[0] for n in nodes if "master" in n[2]}
    replicas = [n for n in nodes if "slave" in n[2]]
    assert len(masters) == 3 and len(replicas) == 3
    assert {r[3] for r in replicas} == masters  # each primary has its own replica
    assert node.config_get("bind")["bind"] == "127.0.0.1"

    port = status.nodes[0].port
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=port, password="guess").ping()
    anonymous = redis.Redis(port=port, protocol=2)
    with pytest.raises(redis.AuthenticationError):
        anonymous.get("k")

    cluster = RedisCluster.from_url(url, decode_responses=True)
    for i in range(300):
        cluster.set(f"key:{i}", str(i))
    for n in status.nodes[:3]:
        assert redis.Redis(port=n.port, password=password).dbsize() > 0

    modes = {}
    for path in [home / "cluster", *(home / "cluster").rglob("*")]:
        st = path.lstat()
        modes[str(path)] = oct(stat.S_IMODE(st.st_mode))
        assert modes[str(path)] == ("0o700" if stat.S_ISDIR(st.st_mode) else "0o600"), path
    names = {Path(p).name for p in modes}
    assert {"password", "node.conf", "nodes.conf", "cluster.json"} <= names

    with pytest.raises(ServerError, match="3 primaries with 1 replica"):
        server.cluster_start(primaries=2, replicas=1)

    pids = [n.pid for n in status.nodes]
    assert _cli("stop") == "local cluster stopped"
    assert all(pid is not None and identify(pid) is None for pid in pids)
    assert server.cluster_status().state == "stopped"
    with pytest.raises(ServerError, match="not running"):
        server.cluster_url()

    again = server.cluster_start(primaries=3, replicas=1)
    assert again.running and [n.port for n in again.nodes] == [n.port for n in status.nodes]
    cluster = RedisCluster.from_url(server.cluster_url(), decode_responses=True)
    assert cluster.get("key:299") == "299"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_another_users_listener_or_node_is_refused(home: Path) -> None:
    other = intruder()
    first = server.cluster_start(primaries=3, replicas=0)
    recorded = first.nodes[0].port
    assert server.cluster_stop()

    # They listen on a port our cluster recorded: we must not send them the password.
    with foreign_server(other, port=recorded) as theirs:
        served = commands_served(theirs)
        with pytest.raises(ServerError, match=f"port {recorded}.*hmintruder") as caught:
            server.cluster_start(primaries=3, replicas=0)
        assert "password" in str(caught.value)
        assert commands_served(theirs) == served + 1

    # The cluster bus has no password: their node meets ours and joins. It is detected.
    status = server.cluster_start(primaries=3, replicas=0)
    bus = _free_port()
    cluster_conf = (
        f"cluster-enabled yes\ncluster-port {bus}\ncluster-config-file their-nodes.conf\n"
    )
    their_port = _free_port()
    with foreign_server(other, port=their_port, extra=cluster_conf) as theirs:
        with redis.Redis(unix_socket_path=str(theirs), decode_responses=True) as them:
            them.execute_command(
                "CLUSTER", "MEET", "127.0.0.1", status.nodes[0].port, status.nodes[0].bus_port
            )
        wait_until(lambda: bool(server.cluster_status().strangers), timeout=60)
        report = server.cluster_status()
        assert not report.running and report.strangers
        assert all(s.startswith(f"127.0.0.1:{their_port} ") for s in report.strangers)
        with pytest.raises(ServerError, match="did not start"):
            server.cluster_url()
