"""The live dashboard: one widget tree, updated from the runtime thread while cells block."""

from __future__ import annotations

import threading
import time

import pytest
from nb_apps import SEED, wait_done
from waiting import check_deadline

import hotmesh_nb
from hotmesh_nb import WorkerMessage
from hotmesh_nb.notebook import monitor
from hotmesh_nb.runtime import get_runtime


def ok(message: WorkerMessage) -> dict:
    return {}


def fail(message: WorkerMessage) -> dict:
    raise RuntimeError("the printer is on fire")


def test_the_model_updates_while_a_cell_sleeps(mesh, cell) -> None:
    hm = mesh(SEED, {"work.do": ok})
    cell.shell.user_ns["hm"] = hm
    board = cell("board = %hotmesh dashboard myfirstapp\nboard")
    assert board.interval == 0.5
    seen: list[tuple[float, int]] = []
    writers: set[str] = set()
    board.counts["done"].observe(lambda change: writers.add(threading.current_thread().name))
    stop = threading.Event()

    def watch() -> None:  # the test's own thread reads the widget values
        while not stop.is_set():
            seen.append((time.monotonic(), board.counts["done"].value))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        began = time.monotonic()
        cell('for _ in range(3):\n    hm.pub("myfirstapp.test", {})\nimport time\ntime.sleep(2.5)')
        ended = time.monotonic()
    finally:
        stop.set()
        watcher.join()
    during = [value for moment, value in seen if began <= moment <= ended]
    assert during and during[-1] == 3, during  # updated while the kernel thread slept
    assert writers == {"hotmesh-runtime"}  # trait changes come from the runtime thread
    assert board.updates >= 3
    assert "work.do" in board.streams.value and "engine" in board.streams.value


def test_members_errors_and_throughput(mesh) -> None:
    hm = mesh(SEED, {"work.do": fail})
    board = hotmesh_nb.dashboard(hm, interval=0.25)
    job_id = hm.pub("myfirstapp.test", {})
    wait_done(hm, job_id)
    deadline = time.monotonic() + 10
    while board.counts["error"].value != 1 or "worker" not in board.members.value:
        check_deadline(deadline, str((board.counts["error"].value, board.members.value)))
        time.sleep(0.05)
    assert job_id in board.errors.value and "the printer is on fire" in board.errors.value
    assert board.jobs_per_second.value > 0  # one job finished within the window
    assert "myfirstapp" in board.members.value and "work.do" in board.members.value


def test_one_dashboard_per_scope_and_it_stops_on_shutdown(mesh) -> None:
    hm = mesh(SEED, {"work.do": ok})
    board = hotmesh_nb.dashboard(hm, interval=0.01)
    assert board.interval == monitor.MIN_INTERVAL  # at most 4 updates per second
    assert hotmesh_nb.dashboard(hm) is board
    local = hotmesh_nb.dashboard()
    assert local is not board and local.meshes is None
    assert ("dashboard", "local") in get_runtime().services()
    hotmesh_nb.shutdown()
    assert not board.running and not local.running
    assert board.footer.value.startswith("stopped after")
    updates = board.updates
    time.sleep(0.6)
    assert board.updates == updates


def test_display_offers_the_widget_and_a_stable_text(mesh) -> None:
    hm = mesh(SEED, {"work.do": ok})
    board = hotmesh_nb.dashboard(hm)
    bundle = board._repr_mimebundle_()
    assert bundle["text/plain"] == f"HotMesh dashboard: myfirstapp ({hm.namespace})"
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == board.widget.model_id
    assert repr(board).startswith("<Dashboard running: HotMesh dashboard: myfirstapp")


def test_a_failing_refresh_is_shown_and_retried(mesh, monkeypatch: pytest.MonkeyPatch) -> None:
    hm = mesh(SEED, {"work.do": ok})
    calls = []

    async def broken(client: object, keys: object) -> list:
        calls.append(1)
        raise ConnectionError("server went away")

    monkeypatch.setattr(monitor.probe, "read_jobs", broken)
    board = hotmesh_nb.dashboard(hm, interval=0.25)
    deadline = time.monotonic() + 5
    while len(calls) < 2:
        check_deadline(deadline)
        time.sleep(0.05)
    assert "server went away" in board.footer.value and board.running
