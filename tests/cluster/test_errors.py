"""Clear errors on a cluster: a wrong password, a node that is down, names without a tag.

And a URL that names a replica of the cluster: like any node, it leads to the whole
cluster, whose primaries take the commands.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from cluster_helpers import cluster_home
from redis.asyncio.cluster import RedisCluster

import hotmesh_nb
from hotmesh_nb import ConnectError, HotMesh, server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_wrong_password_names_the_fix(redis_url: str) -> None:
    password = redis_url.split(":")[2].split("@")[0]
    wrong = redis_url.replace(f":{password}@", ":not-it@")
    with pytest.raises(ConnectError, match="refused the credentials") as caught:
        hotmesh_nb.connect(wrong)
    assert "redis://user:password@host:port" in str(caught.value)
    assert "not-it" not in str(caught.value) and password not in str(caught.value)


def test_a_node_that_is_down_names_the_url(redis_url: str) -> None:
    down = redis_url.rsplit(":", 1)[0] + f":{_free_port()}"
    with pytest.raises(ConnectError, match="cannot reach a server") as caught:
        hotmesh_nb.connect(down)
    assert "***" in str(caught.value) and "check that it runs" in str(caught.value)


def test_a_replica_of_the_cluster_leads_to_its_primaries(
    redis_url: str, namespace: str, cluster_home_dir: Path
) -> None:
    with cluster_home(cluster_home_dir):
        replica = next(n for n in server.cluster_status().nodes if n.actual_role == "slave")
    url = redis_url.rsplit(":", 1)[0] + f":{replica.port}"
    conn = hotmesh_nb.connect(url)
    assert conn.cluster and isinstance(conn.client, RedisCluster)
    hm = HotMesh.init("viareplica", connection=conn, namespace=namespace)
    hm.deploy(
        """
app:
  id: viareplica
  version: '1'
  graphs:
    - subscribes: via.go
      activities:
        t1:
          type: trigger
          job: { maps: { echo: '{t1.output.data.x}' } }
"""
    )
    hm.activate("1")
    assert hm.pubsub("via.go", {"x": 42}, timeout=30) == {"echo": 42}


@pytest.mark.parametrize("namespace_name", ["a{b}", "tag}", "x:y", "*"])
def test_a_namespace_that_cannot_be_tagged_is_refused(redis_url: str, namespace_name: str) -> None:
    with pytest.raises(ValueError, match="invalid namespace"):
        HotMesh.init("app", connection=redis_url, namespace=namespace_name)


@pytest.mark.parametrize("app_id", ["a{b}", "app}", "a:b"])
def test_an_app_id_that_cannot_be_tagged_is_refused(
    redis_url: str, namespace: str, app_id: str
) -> None:
    with pytest.raises(ValueError, match="invalid app id"):
        HotMesh.init(app_id, connection=redis_url, namespace=namespace)
