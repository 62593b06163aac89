"""The live dashboard: one widget tree, updated from the runtime thread while cells block."""

from __future__ import annotations

import threading
import time

import pytest
from nb_apps import SEED, wait_done
from waiting import check_deadline, wait_until

import hotmesh_nb
from hotmesh_nb import WorkerMessage
from hotmesh_nb.notebook import _monitor as monitor
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
    board.tiles.observe(lambda change: writers.add(threading.current_thread().name))
    stop = threading.Event()

    def watch() -> None:  # the test's own thread reads the widget values
        while not stop.is_set():
            seen.append((time.monotonic(), board.counts["done"]))
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
    while board.counts["error"] != 1 or "worker" not in board.members.value:
        check_deadline(deadline, str((board.counts["error"], board.members.value)))
        time.sleep(0.05)
    assert job_id in board.errors.value and "the printer is on fire" in board.errors.value
    assert board.failed_count == 1
    assert board.jobs_per_second > 0  # one job finished within the window
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
    assert "a snapshot" in board.footer.value
    # Stopped: the display is the static snapshot only (no widget a saved notebook can lose).
    bundle = board._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" not in bundle
    assert "a snapshot" in bundle["text/html"] and "<script" not in bundle["text/html"]
    updates = board.updates
    time.sleep(0.6)
    assert board.updates == updates


def test_display_offers_the_widget_and_a_stable_text(mesh) -> None:
    hm = mesh(SEED, {"work.do": ok})
    board = hotmesh_nb.dashboard(hm)
    bundle = board._repr_mimebundle_()
    assert bundle["text/plain"] == f"HotMesh dashboard: myfirstapp ({hm.namespace})"
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == board.widget.model_id
    assert bundle["text/html"] == board.snapshot()  # for frontends without the widget
    assert repr(board).startswith("<Dashboard running: HotMesh dashboard: myfirstapp")


def test_a_failing_refresh_is_shown_and_retried(mesh, monkeypatch: pytest.MonkeyPatch) -> None:
    hm = mesh(SEED, {"work.do": ok})
    calls = []

    async def broken(client: object, keys: object, **options: object) -> list:
        calls.append(1)
        raise ConnectionError("server went away")

    monkeypatch.setattr(monitor.probe, "read_jobs", broken)
    board = hotmesh_nb.dashboard(hm, interval=0.25)
    deadline = time.monotonic() + 5
    while len(calls) < 2:
        check_deadline(deadline)
        time.sleep(0.05)
    assert "server went away" in board.footer.value and board.running


def test_tiles_are_html_and_the_text_is_spaced(mesh) -> None:
    hm = mesh(SEED, {"work.do": ok})
    board = monitor.Dashboard([hm])
    get_runtime().run(board.refresh())
    assert "<input" not in board.snapshot()  # stat tiles, not greyed-out form fields
    assert ">running</div>" in board.tiles.value and ">failed (job or activity)</div>" in (
        board.tiles.value
    )
    assert "1 update" in board.footer.value and "1 updates" not in board.footer.value


def test_a_topic_with_no_live_worker_gets_a_banner(mesh) -> None:
    hm = mesh(SEED)  # no worker for work.do
    board = monitor.Dashboard([hm])
    for _ in range(2):
        hm.pub("myfirstapp.test", {})
    wait_until(lambda: "work.do" in str(hm.streams()["stream"].tolist()))
    get_runtime().run(board.refresh())
    assert "2 waiting on topic work.do</b> (myfirstapp), no live worker" in board.banners.value
    # A worker that reads the stream is live: the banner goes once it has caught up.
    hm2 = hotmesh_nb.HotMesh.init(
        "myfirstapp",
        connection=hm.connection.url,
        namespace=hm.namespace,
        workers=[hotmesh_nb.Worker("work.do", ok)],
    )
    wait_until(lambda: len(hm2.jobs(status="done")) == 2)
    get_runtime().run(board.refresh())
    assert "no live worker" not in board.banners.value


def test_dead_letters_get_a_banner_with_their_message(mesh, redis_url: str) -> None:
    hm = mesh(SEED, {"work.do": ok})
    get_runtime().run(
        hm.connection.client.xadd(
            hm.keys.parts[-1].dead_letters, {"stream": "work.do", "error": "poison: cannot decode"}
        )
    )
    board = monitor.Dashboard([hm])
    get_runtime().run(board.refresh())
    assert "1 dead letter(s)" in board.banners.value
    assert "poison: cannot decode" in board.banners.value
