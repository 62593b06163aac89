"""The local cluster on Debian's ``redis-server`` (Redis 7.0), not only on the embedded Valkey.

Issue 14 sets Redis 7.0 as the floor and asks for the local cluster to be tested with
both servers. The module fixture installs Debian's ``redis-server`` with apt-get when it
is missing and the suite runs as root (as on CI); elsewhere install it yourself
(``apt-get install redis-server``) or point ``HOTMESH_REDIS_SERVER`` at a Redis 7+
binary. The cluster (3 primaries, 1 replica each) lives under a home of its own, apart
from the session's Valkey cluster, and is removed at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from cluster_helpers import cluster_home, run_demos

import hotmesh_nb
from hotmesh_nb import ServerError, server


def _find_redis_server() -> str | None:
    override = os.environ.get("HOTMESH_REDIS_SERVER")
    if override:
        return override
    found = shutil.which("redis-server")
    # valkey packages may install a redis-server alias of valkey-server: not what is tested.
    if found and "valkey" not in os.path.realpath(found):
        return found
    return None


@pytest.fixture(scope="module")
def redis_server_binary() -> str:
    """Debian's redis-server, installed from Debian's packages when missing (as root)."""
    found = _find_redis_server()
    if found is None and shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "redis-server"],
            check=True,
            env=env,
            timeout=900,
        )
        found = _find_redis_server()
    if found is None:
        pytest.fail(
            "no redis-server found: install Debian's redis-server (apt-get install "
            "redis-server) or set HOTMESH_REDIS_SERVER to a Redis 7+ server binary"
        )
    return found


@pytest.fixture(scope="module")
def redis_cluster(
    redis_server_binary: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, str]]:
    """A 3 × 2 cluster of redis-server nodes: (its home, a node's URL)."""
    home = tmp_path_factory.mktemp("redishome")
    with cluster_home(home):
        server.cluster_start(primaries=3, replicas=1, binary=redis_server_binary)
        url = server.cluster_url()
    yield home, url
    hotmesh_nb.shutdown()
    with cluster_home(home):
        server.cluster_stop(remove=True)


def test_the_nodes_run_redis_not_valkey(
    redis_cluster: tuple[Path, str], redis_server_binary: str
) -> None:
    home, url = redis_cluster
    with cluster_home(home):
        status = server.cluster_status()
    assert status.running and status.state == "ok"
    assert [n.actual_role for n in status.nodes] == ["master"] * 3 + ["slave"] * 3
    password = url.split("@")[0].rsplit(":", 1)[1]
    for node in status.nodes:
        with redis.Redis(port=node.port, password=password) as client:
            info = client.info("server")
        assert "server_name" not in info  # Valkey says server_name:valkey
        assert str(info["redis_version"]).split(".")[0] == "7"
        assert os.path.realpath(info["executable"]) == os.path.realpath(redis_server_binary)


def test_the_four_seed_demos_run_on_redis(redis_cluster: tuple[Path, str]) -> None:
    _, url = redis_cluster
    run_demos(url)


def test_a_restart_keeps_the_binary_and_refuses_another(
    redis_cluster: tuple[Path, str], redis_server_binary: str
) -> None:
    home, url = redis_cluster
    hotmesh_nb.shutdown()
    with cluster_home(home):
        assert server.cluster_stop() is True
        # Started again without a binary: the one it was created with, not the embedded one.
        status = server.cluster_start(primaries=3, replicas=1)
        assert status.running
        with pytest.raises(ServerError, match=r"was created with .*redis-server.*--remove"):
            server.cluster_start(primaries=3, replicas=1, binary=server.find_binary())
    password = url.split("@")[0].rsplit(":", 1)[1]
    for node in status.nodes:
        with redis.Redis(port=node.port, password=password) as client:
            executable = client.info("server")["executable"]
        assert os.path.realpath(executable) == os.path.realpath(redis_server_binary)


def test_a_binary_that_is_not_a_server_is_named(tmp_path: Path) -> None:
    with cluster_home(tmp_path), pytest.raises(ServerError, match=r"no-such-server.*PATH"):
        server.cluster_start(primaries=3, replicas=1, binary="no-such-server")
