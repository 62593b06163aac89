"""Clear errors on a cluster: a wrong password, a node that is down, names without a tag.

And a URL that names a replica of the cluster: like any node, it leads to the whole
cluster, whose primaries take the commands.
"""

from __future__ import annotations

import shlex
import socket
from pathlib import Path

import pytest
from cluster_helpers import cluster_home
from redis.asyncio.cluster import RedisCluster
from redis.cluster import RedisCluster as SyncCluster

import hotmesh_nb
from hotmesh_nb import ConnectError, HotMesh, PermissionDeniedError, Worker, acl_rules, server
from hotmesh_nb.keys import Keys
from hotmesh_nb.runtime import get_runtime


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


ACL_APP = """
app:
  id: aclapp
  version: '1'
  graphs:
    - subscribes: aclapp.go
      activities:
        t1:
          type: trigger
        w:
          type: worker
          topic: aclapp.w
          job: { maps: { x: '{$self.output.data.x}' } }
      transitions:
        t1:
          - to: w
"""


def test_an_acl_role_works_on_the_cluster(redis_url: str, namespace: str) -> None:
    """`hotmesh-nb acl` rules, set on every node, are enough for a cluster client too."""
    admin = SyncCluster.from_url(redis_url, decode_responses=True)
    user = f"eng-{namespace}"
    rules = shlex.split(acl_rules(namespace, "engine"))
    with admin:
        for node in admin.get_nodes():  # ACLs are per node: a cluster does not share them
            admin.execute_command(
                "ACL", "SETUSER", user, "reset", "on", ">pw", *rules, target_nodes=node
            )
    password = redis_url.split(":")[2].split("@")[0]
    url = redis_url.replace(f":{password}@", f"{user}:pw@")
    hm = HotMesh.init(
        "aclapp",
        connection=url,
        namespace=namespace,
        workers=[Worker("aclapp.w", lambda m: {"x": 1})],
    )
    hm.deploy(ACL_APP)
    hm.activate("1")
    assert hm.pubsub("aclapp.go", {}, timeout=30) == {"x": 1}
    other = Keys(f"{namespace}x", "aclapp", 16).job("nope")
    with pytest.raises(PermissionDeniedError):
        get_runtime().run(hm.connection.client.hget(other, "a"))
