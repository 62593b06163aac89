"""Benchmark: hello and MeshFlow on a local Redis Cluster beside one node, in one run.

    python bench/cluster.py [--quick] [--primaries 3] [--replicas 1] [--cluster-url URL]

One node is a throwaway server from the embedded binary (as every benchmark here).
The cluster is a throwaway local cluster (``hotmesh_nb.server.cluster_start``,
3 primaries with 1 replica each by default) under a temporary ``HOTMESH_HOME``,
stopped and removed at the end, or a running cluster given by ``--cluster-url``
(left as it was: nothing is flushed there). Both run with persistence off, so that
the comparison is the cluster's and not the disk's.

For the hello app (trigger → worker, ``bench/hello.py``) and the two-activity
MeshFlow workflow (``bench/meshflow.py``), each in the caller's process and driven
from a plain asyncio loop of its own through the ``*_async`` API, it prints one
table: throughput with N in flight, sequential p50, Redis commands per job or
workflow (``INFO commandstats`` summed over the primaries, idle traffic subtracted)
and the share of commands on each primary (``INFO commandstats`` of each primary
over the throughput phase). ``--json`` prints the figures as one JSON line instead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import hello
import meshflow
import redis
from _common import (
    _fmt,
    bench_server,
    commands_per_call,
    drive,
    idle_rate,
    sequential,
    throughput,
)
from redis.cluster import RedisCluster

from hotmesh_nb import HotMesh, MeshFlow, Worker, server

IGNORED = ("info", "config", "cluster")
"""Commands (and their subcommands) of the measuring itself and of a client learning the
topology: not counted."""


@dataclass(frozen=True)
class Sizes:
    """How many calls each phase of one workload makes."""

    warmup: int
    """Calls before anything is measured (connections, scripts loaded, caches warm)."""
    seq: int
    """Calls one after another, for the latency percentiles."""
    total: int
    """Calls of the throughput phase (``--concurrency`` in flight)."""
    count: int
    """Sequential calls whose Redis commands are counted."""


SETTLE_S = 3.0
"""Seconds between the throughput phase and the idle measure (see :func:`measure`)."""

FULL = {"hello": Sizes(50, 500, 2000, 200), "meshflow": Sizes(20, 200, 1000, 100)}
QUICK = {"hello": Sizes(10, 50, 300, 50), "meshflow": Sizes(5, 20, 100, 20)}


class Primaries:
    """The admin clients of every primary, seen as one server by ``_common``'s helpers.

    ``config_resetstat`` resets every primary; ``info("commandstats")`` returns the
    calls summed over them (without :data:`IGNORED`), and keeps each primary's own
    total in :attr:`last`, so that the per-call count and the share of each primary come
    from the same reads.
    """

    def __init__(self, nodes: list[tuple[str, redis.Redis]]) -> None:
        self.nodes = nodes
        self.last: dict[str, int] = {}

    def config_resetstat(self) -> None:
        for _, client in self.nodes:
            client.config_resetstat()

    def info(self, section: str) -> dict[str, dict[str, int]]:
        summed: dict[str, dict[str, int]] = {}
        self.last = {}
        for name, client in self.nodes:
            own = 0
            for key, values in client.info(section).items():
                if key.removeprefix("cmdstat_").split("|")[0] in IGNORED:
                    continue
                calls = int(values["calls"])
                summed.setdefault(key, {"calls": 0})["calls"] += calls
                own += calls
            self.last[name] = own
        return summed

    def shares(self) -> dict[str, float]:
        """Each primary's share (%) of the commands read by the last :meth:`info`."""
        total = sum(self.last.values()) or 1
        return {name: 100 * calls / total for name, calls in self.last.items()}

    def close(self) -> None:
        for _, client in self.nodes:
            client.close()


def primaries_of(url: str) -> Primaries:
    """Admin clients of the primaries of the server (one node or a cluster) at ``url``."""
    probe = redis.Redis.from_url(url, decode_responses=True)
    try:
        clustered = probe.info("cluster").get("cluster_enabled") == 1
    finally:
        probe.close()
    if not clustered:
        return Primaries([("node", redis.Redis.from_url(url, decode_responses=True))])
    cluster = RedisCluster.from_url(url, decode_responses=True)
    try:
        found = sorted(cluster.get_primaries(), key=lambda n: n.port)
        password = cluster.get_connection_kwargs().get("password")
        return Primaries(
            [
                (
                    f"{n.host}:{n.port}",
                    redis.Redis(host=n.host, port=n.port, password=password, decode_responses=True),
                )
                for n in found
            ]
        )
    finally:
        cluster.close()


# -- the two workloads ------------------------------------------------------------------------


async def hello_calls(
    url: str, partitions: int | None
) -> tuple[Callable[[int], Awaitable[None]], int]:
    """The hello app deployed at ``url`` with its worker here; (one job, its partitions)."""
    hm = await HotMesh.init_async(
        "bench", connection=url, namespace="bench", workers=[Worker("work.do", hello.work)]
    )
    await hm.deploy_async(hello.APP_YAML, partitions=partitions)
    await hm.activate_async("1")

    async def job(n: int) -> None:
        out = await hm.pubsub_async("bench.test", {"n": n})
        assert out == {"result": f"done-{n}"}, out

    return job, hm.keys.count


async def meshflow_calls(
    url: str, partitions: int | None
) -> tuple[Callable[[int], Awaitable[None]], int | None]:
    """The two-activity workflow with its worker here; (one workflow, partitions unknown).

    MeshFlow deploys its own app, with the default number of partitions (``partitions``
    is not used).
    """
    await MeshFlow.Worker.create_async(
        connection=url, namespace="bench", task_queue="bench", workflow=meshflow.bench_flow
    )
    client = MeshFlow.Client(connection=url, namespace="bench")

    async def flow(n: int) -> None:
        name = f"n{n}"
        handle = await client.workflow.start_async(
            args=[name], task_queue="bench", workflow_name="bench_flow"
        )
        out = await handle.result_async(timeout=60)
        assert out == f"Hello, {name}! Goodbye!", out

    return flow, None


WORKLOADS = {"hello": hello_calls, "meshflow": meshflow_calls}


async def measure(
    workload: str,
    url: str,
    admin: Primaries,
    sizes: Sizes,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """One workload's figures against one server (one node or a cluster)."""
    call, partitions = await WORKLOADS[workload](url, args.partitions)
    concurrency, idle_s = args.concurrency, 1.0 if args.quick else 3.0
    # Numbers go on rising from phase to phase: a workflow's id must not come back.
    offset = 0
    for i in range(sizes.warmup):
        await call(i)
    offset += sizes.warmup
    seq = await sequential(call, sizes.seq, offset)
    offset += sizes.seq
    admin.config_resetstat()
    rate = await throughput(call, sizes.total, concurrency, offset)
    offset += sizes.total
    admin.info("commandstats")
    shares = admin.shares()
    # After a burst each partition gets one round of housekeeping (trims, pending
    # checks): a cost of the jobs, not of an idle mesh, so the idle rate waits it out.
    await asyncio.sleep(SETTLE_S)
    idle = await idle_rate(admin, idle_s)
    per_call, top = await commands_per_call(admin, call, sizes.count, idle, offset)
    return {
        "p50_ms": seq["p50"],
        "p95_ms": seq["p95"],
        "per_sec": rate["per_sec"],
        "cpu_ms": rate["cpu_ms"],
        "commands": per_call,
        "idle_per_sec": idle,
        "shares": shares,
        "top": top,
        "partitions": partitions,
    }


# -- the servers ------------------------------------------------------------------------------


@contextlib.contextmanager
def _home(folder: str) -> Iterator[None]:
    previous = os.environ.get("HOTMESH_HOME")
    os.environ["HOTMESH_HOME"] = folder
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("HOTMESH_HOME", None)
        else:
            os.environ["HOTMESH_HOME"] = previous


@contextlib.contextmanager
def throwaway_cluster(primaries: int, replicas: int, binary: str | None) -> Iterator[str]:
    """A local cluster under a temporary home, persistence off; stopped and removed after."""
    folder = tempfile.mkdtemp(prefix="hotmesh-bench-cluster-")
    try:
        with _home(folder):
            print(f"starting a local cluster ({primaries}×{1 + replicas}) ...", file=sys.stderr)
            server.cluster_start(primaries=primaries, replicas=replicas, binary=binary)
            url = server.cluster_url()
            password = url.split("@")[0].rsplit(":", 1)[1]
            for node in server.cluster_status().nodes:
                with redis.Redis(port=node.port, password=password) as client:
                    client.config_set("appendonly", "no")
                    client.config_set("save", "")
        yield url
    finally:
        with _home(folder):
            server.cluster_stop(remove=True)
        shutil.rmtree(folder, ignore_errors=True)


def collect(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Every column: ``{"hello/node": {...}, "hello/cluster": {...}, ...}``."""
    sizes = QUICK if args.quick else FULL
    results: dict[str, dict[str, Any]] = {}

    def run_all(target: str, url: str) -> None:
        admin = primaries_of(url)
        try:
            for workload in args.workloads:
                results[f"{workload}/{target}"] = drive(
                    measure(workload, url, admin, sizes[workload], args)
                )
        finally:
            admin.close()

    with bench_server() as port:
        run_all("node", f"redis://127.0.0.1:{port}")
    cluster: contextlib.AbstractContextManager[str] = (
        contextlib.nullcontext(args.cluster_url)
        if args.cluster_url
        else throwaway_cluster(args.primaries, args.replicas, args.binary)
    )
    with cluster as url:
        run_all("cluster", url)
    return results


# -- the table --------------------------------------------------------------------------------


def _shares(result: dict[str, Any]) -> str:
    return " / ".join(f"{share:.0f} %" for share in result["shares"].values())


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    """One Markdown table: each workload on one node, on the cluster, and the quotient."""
    sizes = QUICK if args.quick else FULL
    labels = {"hello": "hello", "meshflow": "MeshFlow"}
    head = ["measure"]
    for workload in args.workloads:
        label = labels[workload]
        head += [f"{label}: one node", f"{label}: cluster", "cluster ÷ node"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]

    def row(name: str, key: str) -> None:
        cells = [name]
        for workload in args.workloads:
            node, cluster = results[f"{workload}/node"][key], results[f"{workload}/cluster"][key]
            cells += [_fmt(node), _fmt(cluster), f"{cluster / node:.2f}×" if node else "—"]
        lines.append("| " + " | ".join(cells) + " |")

    row(f"throughput, {args.concurrency} in flight (per s)", "per_sec")
    row("sequential p50 (ms)", "p50_ms")
    row("sequential p95 (ms)", "p95_ms")
    row("caller-process CPU per call (ms)", "cpu_ms")
    row("Redis commands per call (all primaries)", "commands")
    row("idle commands per s (all primaries)", "idle_per_sec")
    cells = ["share of commands on each primary"]
    for workload in args.workloads:
        cells += [_shares(results[f"{workload}/node"]), _shares(results[f"{workload}/cluster"]), ""]
    lines.append("| " + " | ".join(cells) + " |")
    where = (
        "the cluster at --cluster-url"
        if args.cluster_url
        else f"a local cluster of {args.primaries} primaries with {args.replicas} replica(s) each"
    )
    what = []
    if "hello" in args.workloads:
        partitions = results["hello/cluster"]["partitions"]
        what.append(f"hello ({sizes['hello'].total} jobs, {partitions} partitions)")
    if "meshflow" in args.workloads:
        what.append(f"MeshFlow ({sizes['meshflow'].total} workflows of two activities)")
    out = [
        "",
        " and ".join(what) + f", one node beside {where}, same run",
        "",
        *lines,
        "",
    ]
    for name, result in results.items():
        out.append(f"{name} commands per call: {result['top']}")
    return "\n".join(out)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--primaries", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument(
        "--binary", help="server binary of the cluster's nodes (default: the embedded one)"
    )
    parser.add_argument(
        "--cluster-url", help="measure this running cluster instead of starting one"
    )
    parser.add_argument(
        "--partitions",
        type=int,
        help="partitions of the hello app (default: the library's; MeshFlow keeps its own)",
    )
    parser.add_argument(
        "--workloads",
        nargs="+",
        choices=list(WORKLOADS),
        default=list(WORKLOADS),
        help="which workloads to run (default: both)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    results = collect(args)
    print(json.dumps(results) if args.json else report(results, args))


if __name__ == "__main__":
    main()
