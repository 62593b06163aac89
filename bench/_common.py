"""Shared pieces of the benchmarks: a bench server, the peers, the comparison table.

Every system runs against the same server in the same run: a Valkey from the
embedded server's binary, on a loopback TCP port, with persistence off (as in
``../shared/bench/ts-peer``). The original runs from a copy of that harness
(``npm ci`` once, cached in ``~/.cache/hotmesh-nb/ts-peer``); the Python peers
(arq, DBOS: ``bench/peers/``) run in processes of their own, with the
interpreter that has the ``bench`` extra.

The measuring helpers (``sequential``, ``throughput``, ``commands_per_call``)
import neither hotmesh_nb nor anything outside the standard library and
redis-py, so the peers' processes use them too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import redis

PEER_SOURCE = Path(__file__).resolve().parents[2] / "shared" / "bench" / "ts-peer"
PEER_CACHE = Path(os.environ.get("HOTMESH_PEER_DIR", Path.home() / ".cache/hotmesh-nb/ts-peer"))
BENCH_DIR = Path(__file__).resolve().parent
OWN_PEER_SCRIPTS = Path(__file__).resolve().parent / "peer"
"""Peer scripts of our own (written in the harness's style), copied next to it."""

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def bench_server() -> Iterator[int]:
    """A throwaway server on 127.0.0.1 (no persistence); yields its port."""
    import redis

    from hotmesh_nb import server

    port = free_port()
    folder = tempfile.mkdtemp(prefix="hotmesh-bench-")
    proc = subprocess.Popen(
        [
            str(server.find_binary()), "--port", str(port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", folder,
        ],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port)
    for _ in range(500):
        with contextlib.suppress(redis.ConnectionError):
            client.ping()
            break
        time.sleep(0.01)
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    s = sorted(samples_ms)

    def pick(p: float) -> float:
        return s[min(len(s) - 1, max(0, int(-(-p * len(s) // 100)) - 1))]

    return {"p50": pick(50), "p95": pick(95), "p99": pick(99), "mean": sum(s) / len(s)}


def command_stats(client: redis.Redis) -> dict[str, int]:
    info = client.info("commandstats")
    out = {}
    for name, values in info.items():
        cmd = name.removeprefix("cmdstat_")
        if cmd in ("info", "config", "config|resetstat"):
            continue
        out[cmd] = int(values["calls"])
    return out


def ensure_peer() -> Path | None:
    """The original's harness with its node_modules, or None when it cannot be set up.

    Our own peer scripts (``bench/peer/*.mjs``) are copied next to the harness
    every time, so an edited script is the one that runs.
    """
    if (PEER_CACHE / "node_modules" / "@hotmeshio" / "hotmesh").is_dir():
        _copy_own_scripts()
        return PEER_CACHE
    if not PEER_SOURCE.is_dir() or shutil.which("npm") is None:
        return None
    PEER_CACHE.mkdir(parents=True, exist_ok=True)
    for item in PEER_SOURCE.iterdir():
        if item.is_file():
            shutil.copy(item, PEER_CACHE / item.name)
            (PEER_CACHE / item.name).chmod(0o644)
    print("installing the original (npm ci) once ...", file=sys.stderr)
    done = subprocess.run(["npm", "ci", "--silent"], cwd=PEER_CACHE, capture_output=True)
    if done.returncode != 0:
        print(done.stderr.decode()[-2000:], file=sys.stderr)
        return None
    _copy_own_scripts()
    return PEER_CACHE


def _copy_own_scripts() -> None:
    for script in OWN_PEER_SCRIPTS.glob("*.mjs"):
        shutil.copy(script, PEER_CACHE / script.name)


def run_peer(script: str, port: int, env: dict[str, str] | None = None) -> dict[str, Any] | None:
    """Run one of the original's benchmark scripts; its JSON result line, or None."""
    folder = ensure_peer()
    if folder is None:
        print("the original could not be installed; its column stays empty", file=sys.stderr)
        return None
    done = subprocess.run(
        ["node", script],
        cwd=folder,
        env={**os.environ, "REDIS_PORT": str(port), **(env or {})},
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(rows: list[tuple[str, Any, Any, str]]) -> str:
    """Rows of (metric, ours, original, better) → a Markdown table with ratios."""
    lines = [
        "| metric | hotmesh_nb | original 0.3.32 | ratio (ours/original) |",
        "|---|---:|---:|---:|",
    ]
    for metric, ours, theirs, better in rows:
        ratio = "—"
        if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)) and theirs:
            value = ours / theirs
            ratio = f"{value:.2f}× ({'higher' if better == 'high' else 'lower'} is better)"
        lines.append(f"| {metric} | {_fmt(ours)} | {_fmt(theirs)} | {ratio} |")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    """A figure for a table: hundredths below 100, whole numbers above (the rest is noise)."""
    if value is None:
        return "—"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    return str(value)


Call = Callable[[int], Awaitable[Any]]
"""One benchmarked operation, given a distinct number; it checks its own answer."""


async def sequential(fn: Call, count: int, start: int = 0) -> dict[str, float]:
    """Latency percentiles (ms) of ``count`` calls made one after another."""
    latencies = []
    for i in range(start, start + count):
        began = time.perf_counter()
        await fn(i)
        latencies.append((time.perf_counter() - began) * 1000)
    return percentiles(latencies)


async def throughput(fn: Call, total: int, concurrency: int, start: int = 0) -> dict[str, float]:
    """Operations per second with ``concurrency`` in flight, and client CPU per operation."""
    counter = iter(range(start, start + total))

    async def lane() -> None:
        for i in counter:
            await fn(i)

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu_ms = (cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime) * 1000
    return {"per_sec": total / elapsed, "cpu_ms": cpu_ms / total}


async def idle_rate(admin: redis.Redis, seconds: float = 3.0) -> float:
    """Commands per second the mesh sends while idle (blocking reads, the scout)."""
    admin.config_resetstat()
    await asyncio.sleep(seconds)
    return sum(command_stats(admin).values()) / seconds


async def commands_per_call(
    admin: redis.Redis, fn: Call, count: int, idle: float, start: int = 0
) -> tuple[float, dict[str, float]]:
    """Redis commands per call net of idle traffic, and the most frequent ones."""
    admin.config_resetstat()
    began = time.perf_counter()
    for i in range(start, start + count):
        await fn(i)
    elapsed = time.perf_counter() - began
    stats = command_stats(admin)
    top = sorted(stats.items(), key=lambda kv: -kv[1])[:10]
    per_call = (sum(stats.values()) - idle * elapsed) / count
    return per_call, {name: round(calls / count, 2) for name, calls in top}


def peer_env(args: Any, **extra: Any) -> dict[str, str]:
    """The original's harness settings matching our run's sizes."""
    env = {
        "SEQ": args.seq,
        "TOTAL": args.total,
        "CONC": args.concurrency,
        "WARMUP": args.warmup,
        "COUNT_K": args.count,
        **extra,
    }
    return {k: str(v) for k, v in env.items()}


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return value


def size_parser(
    description: str, *, total: int, seq: int, warmup: int, count: int, host: bool = True
) -> argparse.ArgumentParser:
    """The options every benchmark takes (sizes, which columns to skip), with its defaults.

    ``host``: also the host options (``--busy-cores``, ``--halt-poll-ns``,
    ``--caller-cpus``), for a script that applies them with :func:`host_settings`.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--total", type=int, default=total)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seq", type=int, default=seq)
    parser.add_argument("--warmup", type=int, default=warmup)
    parser.add_argument("--count", type=int, default=count)
    parser.add_argument(
        "--no-peer", action="store_true", help="skip every peer (the original, arq, DBOS)"
    )
    parser.add_argument(
        "--no-separate",
        action="store_true",
        help="skip hotmesh_nb with its worker in a separate process",
    )
    parser.add_argument(
        "--rounds",
        type=positive_int,
        default=1,
        metavar="N",
        help="measure every column N times in turn (ours, the original, the peer, ours, …); "
        "each figure is then the median of its N, so a drift of the machine's speed falls on "
        "every column alike",
    )
    if host:
        parser.add_argument(
            "--busy-cores",
            type=int,
            default=0,
            metavar="N",
            help="keep N cores out of idle for the run with a spinning process each, at the "
            "lowest priority (shows what waking an idle core costs a sequential call)",
        )
        parser.add_argument(
            "--halt-poll-ns",
            type=int,
            default=None,
            metavar="NS",
            help="on a KVM guest with the cpuidle-haltpoll driver: let an idle core poll up to "
            "NS nanoseconds before it halts, for the run (root; the value before is restored)",
        )
        parser.add_argument(
            "--caller-cpus",
            type=cpu_list,
            default=None,
            metavar="CPUS",
            help="run hotmesh_nb's caller (its loop and the runtime thread) on these CPUs only, "
            "e.g. 0 or 0,1; the server, separate workers and peers keep every CPU",
        )
    parser.add_argument(
        "--peers-python",
        default=os.environ.get("HOTMESH_BENCH_PYTHON", sys.executable),
        metavar="PYTHON",
        help="the interpreter that has the bench extra (arq, DBOS); default: "
        "$HOTMESH_BENCH_PYTHON, else this one",
    )
    return parser


@contextlib.contextmanager
def busy_cores(count: int) -> Iterator[list[int]]:
    """``count`` processes spinning at nice 19 for the duration; yields their pids.

    On a VM an idle core halts, and waking it (the reply of a sequential call, the
    other thread's hand-off) costs tens of microseconds each time. A spinner at the
    lowest priority keeps a core awake and gives way to any other work.
    """
    spin = "import os; os.nice(19)\nwhile True: pass"
    procs = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(count)]
    try:
        yield [proc.pid for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


HALT_POLL = Path("/sys/module/haltpoll/parameters/guest_halt_poll_ns")
IDLE_DRIVER = Path("/sys/devices/system/cpu/cpuidle/current_driver")


@contextlib.contextmanager
def guest_halt_polling(ns: int | None) -> Iterator[None]:
    """With ``ns``, this VM's idle cores poll up to ``ns`` ns before they halt, for the run.

    A KVM guest's idle core halts, and the host must wake it again for the next
    message (the cost ``busy_cores`` shows). The guest kernel's ``cpuidle-haltpoll``
    driver can poll first instead; ``guest_halt_poll_ns`` bounds how long (0, the
    setting here, never polls). The value before is written back afterwards. A
    machine without the driver, or a user who may not write the setting, stops the
    run with a message saying so.
    """
    if ns is None:
        yield
        return
    driver = IDLE_DRIVER.read_text().strip() if IDLE_DRIVER.exists() else "none"
    if driver != "haltpoll" or not HALT_POLL.exists():
        raise SystemExit(
            f"--halt-poll-ns: this machine's idle driver is {driver!r}, not the KVM "
            "guest's 'haltpoll' (no guest halt-polling to set)"
        )
    before = HALT_POLL.read_text().strip()
    try:
        HALT_POLL.write_text(str(ns))
    except OSError as exc:
        raise SystemExit(
            f"--halt-poll-ns: cannot write {HALT_POLL} ({exc}); it needs root"
        ) from None
    try:
        yield
    finally:
        HALT_POLL.write_text(before)


def cpu_list(text: str) -> frozenset[int]:
    """``--caller-cpus`` as a set: ``0`` or ``0,1``."""
    try:
        cpus = frozenset(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of CPU numbers: {text!r}") from None
    if not cpus or min(cpus) < 0:
        raise argparse.ArgumentTypeError(f"not a list of CPU numbers: {text!r}")
    return cpus


_caller_cpus: frozenset[int] | None = None
"""Where :func:`drive` runs hotmesh_nb's caller (``--caller-cpus``); None: anywhere."""

_every_cpu: frozenset[int] = frozenset()
"""The CPUs this process could use before ``--caller-cpus`` (its children get them back)."""


@contextlib.contextmanager
def caller_cpus(cpus: frozenset[int] | None) -> Iterator[None]:
    """For the duration, :func:`drive` runs its loop, and hotmesh_nb's runtime thread
    (started from it, so it inherits the mask), on ``cpus`` only.

    The two threads of one Python process take turns on the GIL anyway. On one CPU, a
    hand-off between them is a switch on that CPU instead of a wake-up of another
    (halted) one. Processes started meanwhile (a separate worker) get every CPU back
    (:func:`worker_process`); the server and the peers start outside :func:`drive`.
    """
    global _caller_cpus, _every_cpu
    if cpus is None:
        yield
        return
    available = os.sched_getaffinity(0)
    if not cpus <= available:
        raise SystemExit(
            f"--caller-cpus: CPU(s) {sorted(cpus - available)} not available here "
            f"(this process may use {sorted(available)})"
        )
    _caller_cpus, _every_cpu = cpus, frozenset(available)
    try:
        yield
    finally:
        _caller_cpus = None


@contextlib.contextmanager
def _on_caller_cpus() -> Iterator[None]:
    if _caller_cpus is None:
        yield
        return
    # Linux: the mask of this thread only; threads started meanwhile inherit it.
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, _caller_cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


@contextlib.contextmanager
def host_settings(args: argparse.Namespace) -> Iterator[str]:
    """The host conditions the options ask for (``--busy-cores``, ``--halt-poll-ns``,
    ``--caller-cpus``), for the duration; yields a line naming them for the report
    ("" when none)."""
    notes = []
    if args.busy_cores:
        notes.append(f"{args.busy_cores} core(s) kept busy by a spinner at nice 19")
    if args.halt_poll_ns is not None:
        notes.append(f"guest halt-polling up to {args.halt_poll_ns} ns")
    if args.caller_cpus is not None:
        cpus = ",".join(str(cpu) for cpu in sorted(args.caller_cpus))
        notes.append(
            f"hotmesh_nb's caller and runtime thread on CPU {cpus} only (the server, "
            "separate workers and peers on every CPU)"
        )
    with (
        busy_cores(args.busy_cores),
        guest_halt_polling(args.halt_poll_ns),
        caller_cpus(args.caller_cpus),
    ):
        yield f"Host for this run: {'; '.join(notes)}." if notes else ""


def drive(coro: Awaitable[T]) -> T:
    """Run ``coro`` on a loop of the caller's own, as a user's program would.

    hotmesh_nb's ``*_async`` calls hop to its runtime thread from there; running
    the benchmark on the runtime loop itself would skip that hop, which no user
    skips. The runtime is shut down afterwards, so the next measure starts fresh.
    """
    import hotmesh_nb

    async def main() -> T:
        return await coro

    with _on_caller_cpus():
        try:
            return asyncio.run(main())
        finally:
            hotmesh_nb.shutdown()


def run_both(
    measure: Callable[[str, redis.Redis, Any], Awaitable[dict[str, Any]]],
    args: Any,
    peer_script: str,
    env: dict[str, str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Measure ours, then the original, against one fresh server; ``(ours, theirs)``
    (``--rounds`` times in turn, each figure the median of its rounds)."""
    import redis

    ours: list[dict[str, Any]] = []
    peer: list[dict[str, Any]] = []
    with bench_server() as port:
        admin = redis.Redis(port=port, decode_responses=True)
        for _ in range(rounds_of(args)):
            ours.append(drive(measure(f"redis://127.0.0.1:{port}", admin, args)))
            admin.flushall()
            if not args.no_peer:
                peer.append(run_peer(peer_script, port, env) or {})
                admin.flushall()
    return median_result(ours), median_result(peer) if peer else {}


def rounds_of(args: Any) -> int:
    """How many times to measure each column (``--rounds``, which ``size_parser`` keeps at
    least 1; a namespace built without it measures once)."""
    return int(getattr(args, "rounds", 1))


def median_result(rounds: list[Any]) -> Any:
    """One result from several rounds of one measure: every number the median of its rounds.

    Dicts merge key by key (a key some rounds lack takes the median of those that have
    it); anything that is not a number in every round (an error word, a label) is the
    first round's.
    """
    first = rounds[0]
    if isinstance(first, dict):
        keys = dict.fromkeys(key for r in rounds if isinstance(r, dict) for key in r)
        return {
            key: median_result([r[key] for r in rounds if isinstance(r, dict) and key in r])
            for key in keys
        }
    if all(isinstance(r, (int, float)) and not isinstance(r, bool) for r in rounds):
        return statistics.median(rounds)
    return first


# --- hotmesh_nb with its worker in a process of its own -------------------------------------


def hotmesh_worker_argv(
    app: str, url: str, namespace: str, topics: dict[str, str], *, engine: bool = False
) -> list[str]:
    """``hotmesh-nb worker`` serving ``topics`` ({topic: "module:function"}) from ``bench/``.

    It runs as ``python -m hotmesh_nb.cli`` with this interpreter, so it uses
    the same hotmesh_nb as the caller (``PYTHONPATH`` included).
    """
    argv = [sys.executable, "-m", "hotmesh_nb.cli", "worker", app, "--namespace", namespace]
    argv += ["--url", url, "--path", str(BENCH_DIR)]
    for topic, target in topics.items():
        argv += ["--topic", f"{topic}={target}"]
    return [*argv, "--engine"] if engine else argv


@contextlib.contextmanager
def worker_process(argv: list[str], ready: str, timeout: float = 60.0) -> Iterator[int]:
    """Start a worker process, wait for the line containing ``ready``; yields its pid.

    On exit it gets SIGTERM (a clean drain) and is waited for. Its stderr goes
    to a temporary file, shown when it fails to start.
    """
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, text=True)
        if _caller_cpus is not None:
            # Started from a pinned caller: the worker is another process, free to run
            # anywhere (it has not started its threads yet).
            os.sched_setaffinity(proc.pid, _every_cpu)
        assert proc.stdout is not None
        # A worker that hangs before printing would block the readline below forever.
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            for line in proc.stdout:
                if ready in line:
                    break
            else:
                log.seek(0)
                raise RuntimeError(f"{argv[:5]} exited before it was ready:\n{log.read()[-3000:]}")
        finally:
            killer.cancel()
        try:
            yield proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- the Python peers (bench/peers/*.py, run with the bench extra's interpreter) --------------

PEERS_DIR = Path(__file__).resolve().parent / "peers"
INSTALL_HINT = "pip install -e '.[bench]'"
NOT_INSTALLED = "not installed"


def run_python_peer(script: str, port: int, args: Any, *extra: str) -> dict[str, Any]:
    """Run ``bench/peers/<script>`` against the bench server; its JSON result.

    A peer whose package is missing answers ``{"missing": "<requirement>"}``;
    that becomes ``{"error": "not installed"}`` and a hint on stderr rather than a crash.
    """
    argv = [args.peers_python, str(PEERS_DIR / script), "--port", str(port)]
    for name in ("total", "concurrency", "seq", "warmup", "count"):
        argv += [f"--{name}", str(getattr(args, name))]
    try:
        done = subprocess.run(
            [*argv, *extra], capture_output=True, text=True, timeout=900, cwd=BENCH_DIR
        )
    except FileNotFoundError:
        print(f"{args.peers_python}: no such interpreter (--peers-python)", file=sys.stderr)
        return {"error": NOT_INSTALLED}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        print(f"{script} failed:\n{done.stderr[-3000:]}", file=sys.stderr)
        return {"error": "failed"}
    result: dict[str, Any] = json.loads(lines[-1])
    if "missing" in result:
        print(
            f"{result['missing']} is not installed for {args.peers_python}: {INSTALL_HINT} "
            "(or point --peers-python at an interpreter that has it); its column says "
            f"'{NOT_INSTALLED}'",
            file=sys.stderr,
        )
        return {"error": NOT_INSTALLED}
    return result


def peer_main(
    description: str,
    requirement: str,
    measure: Callable[[argparse.Namespace], Awaitable[dict[str, Any]]],
    defaults: dict[str, int],
) -> None:
    """Entry point of a Python peer: parse the sizes, measure, print one JSON line.

    ``measure`` imports its library itself; an ImportError of it prints
    ``{"missing": requirement}`` so that the caller shows a "not installed" column.
    """
    parser = size_parser(description, **defaults)
    parser.add_argument("--port", type=int, required=True, help="the bench server's port")
    args = parser.parse_args()
    try:
        result = asyncio.run(measure(args))
    except ImportError as exc:
        print(f"{exc}", file=sys.stderr)
        result = {"missing": requirement}
    print(json.dumps(result))


# --- the comparison table ------------------------------------------------------------------

COLUMNS = ("same", "separate", "original", "peer")
"""Result keys: hotmesh_nb with its worker in the caller's process, in another process,
the original (0.3.32 under node), and the Python peer of the benchmark (arq or DBOS)."""


@dataclasses.dataclass
class Row:
    """One measure of the comparison table."""

    measure: str
    """What is measured, with its unit."""
    better: str
    """``"higher"`` or ``"lower"``: which way is better (the ratios are plain quotients)."""
    values: dict[str, Any]
    """Per column of :data:`COLUMNS`: a number, a word (``"not installed"``, ``"n/a"``) or None."""


def compare_table(rows: list[Row], peer: str) -> str:
    """The Markdown table: the four columns, then hotmesh_nb ÷ original and ÷ the peer."""
    short = peer.split()[0]
    head = [
        "measure",
        "better",
        "hotmesh_nb (same proc)",
        "hotmesh_nb (separate proc)",
        "original 0.3.32",
        peer,
        "same ÷ original",
        "separate ÷ original",
        f"same ÷ {short}",
        f"separate ÷ {short}",
    ]
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    for row in rows:
        v = row.values
        cells = [row.measure, row.better, *(_fmt(v.get(c)) for c in COLUMNS)]
        cells += [
            _ratio(v.get("same"), v.get("original")),
            _ratio(v.get("separate"), v.get("original")),
            _ratio(v.get("same"), v.get("peer")),
            _ratio(v.get("separate"), v.get("peer")),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _ratio(ours: Any, theirs: Any) -> str:
    numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (ours, theirs))
    return f"{ours / theirs:.2f}×" if numbers and theirs else "—"


def column(result: dict[str, Any], path: str) -> Any:
    """``result["a"]["b"]`` for ``path="a.b"``; the result's error word, or None, when absent."""
    if "error" in result:
        return result["error"]
    value: Any = result
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def original_columns(result: dict[str, Any] | None, per: str, top: int) -> dict[str, Any]:
    """The node harness's answer in the shape of ours (``per`` is ``job`` or ``workflow``)."""
    if result is None:
        return {}
    return {
        "seq": result["sequential"],
        "per_sec": result["throughput"][f"{per}sPerSec"],
        "cpu_ms": result["throughput"]["node_cpu_ms_per_item"],
        "commands": result["commands"][f"per_{per}_net_of_idle"],
        "top": {t["cmd"]: t[f"per_{per}"] for t in result["commands"]["top"][:top]},
    }


def collect_columns(
    args: argparse.Namespace,
    measure: Callable[..., Awaitable[dict[str, Any]]],
    *,
    node_script: str,
    python_peer: str,
    per: str,
    top: int,
) -> dict[str, dict[str, Any]]:
    """Every column's figures, measured one after another against one fresh server:
    hotmesh_nb with its worker in this process and in another, the original, the peer
    (``--rounds`` times in turn, each figure the median of its rounds)."""
    import redis

    rounds: list[dict[str, dict[str, Any]]] = []
    with bench_server() as port:
        url = f"redis://127.0.0.1:{port}"
        admin = redis.Redis(port=port, decode_responses=True)
        for _ in range(rounds_of(args)):
            results: dict[str, dict[str, Any]] = {}
            results["same"] = drive(measure(url, admin, args))
            admin.flushall()
            if not args.no_separate:
                results["separate"] = drive(measure(url, admin, args, separate=True))
                admin.flushall()
            if not args.no_peer:
                answer = run_peer(node_script, port, peer_env(args))
                results["original"] = original_columns(answer, per, top)
                admin.flushall()
                results["peer"] = run_python_peer(python_peer, port, args)
                admin.flushall()
            rounds.append(results)
    return median_result(rounds)  # type: ignore[no-any-return]
