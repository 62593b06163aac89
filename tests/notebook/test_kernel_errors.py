"""Library errors in a real Jupyter kernel: one short block each, the full traceback on demand.

The kernel runs in its own process (jupyter_client), as in JupyterLab; what is
asserted is what the frontend receives.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kernel import Kernel
from waiting import wait_until

from hotmesh_nb import HotMesh

MAX_LINES = 10

SLOW_APP = """\
app:
  id: slowapp
  version: '1'
  graphs:
    - subscribes: slow.go
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: slow.nobody
      transitions:
        t1:
          - to: w1
"""
"""An app whose worker topic nobody serves: its jobs run until interrupted."""


@pytest.fixture(scope="module")
def kernel(redis_url: str) -> Iterator[Kernel]:
    """One kernel for the module (its environment points at the test server)."""
    k = Kernel()
    reply = k.run("%load_ext hotmesh_nb")
    assert reply.error is None, reply.traceback_lines
    yield k
    k.close()


@pytest.fixture
def connected(kernel: Kernel, redis_url: str, namespace: str) -> Kernel:
    """The kernel connected to a fresh namespace."""
    reply = kernel.run(
        f"%hotmesh connect {redis_url} --namespace {namespace}\nNS_KERNEL = {namespace!r}"
    )
    assert reply.error is None, reply.traceback_lines
    return kernel


def short_block(reply: object) -> list[str]:
    lines = reply.traceback_lines  # type: ignore[attr-defined]
    assert lines, "the cell should have failed"
    assert len(lines) <= MAX_LINES, "\n".join(lines)
    assert all(len(line) <= 100 for line in lines), "\n".join(lines)
    assert not any("File " in line or "concurrent" in line for line in lines), "\n".join(lines)
    assert lines[-1].startswith("full traceback: %tb")
    return lines


def test_job_not_found_is_one_short_block(connected: Kernel) -> None:
    lines = short_block(connected.run("%hotmesh job NOSUCHJOB"))
    assert lines[0] == (
        "JobNotFoundError: job 'NOSUCHJOB' was not found (never created, scrubbed or expired)"
    )
    assert any(line.startswith("  what to do: check the id") for line in lines)


def test_the_full_traceback_stays_behind_tb_and_debug(connected: Kernel) -> None:
    connected.run("%hotmesh job NOSUCHJOB")
    full = connected.run("%hotmesh --debug")
    assert full.error is None
    assert "Traceback (most recent call last)" in full.text
    assert "JobNotFoundError" in full.text and "magics.py" in full.text
    tb = "\n".join(connected.run("%tb").traceback_lines)  # IPython shows it as an error
    assert "JobNotFoundError" in tb and "magics.py" in tb


def test_an_unexpanded_expression_gets_a_hint(connected: Kernel) -> None:
    lines = short_block(connected.run("%hotmesh job {job_id_never_defined}"))
    assert any("'{job_id_never_defined}' was not expanded" in line for line in lines)


def test_a_connect_error_is_short(connected: Kernel) -> None:
    lines = short_block(
        connected.run("import hotmesh_nb\nhotmesh_nb.connect('redis://127.0.0.1:1')")
    )
    assert lines[0].startswith("ConnectError: cannot reach a server at redis://127.0.0.1:1")
    assert any("what to do: start the server" in line for line in lines)


def test_a_failed_job_and_a_meshcall_error_are_short(connected: Kernel, namespace: str) -> None:
    reply = connected.run(
        "from hotmesh_nb import MeshCall\n"
        f"NS = {namespace!r}\n"
        "def divide(a, b):\n"
        "    return a / b\n"
        "MeshCall.connect('math.divide', divide, namespace=NS)\n"
        "MeshCall.exec('math.divide', [1, 0], namespace=NS)\n"
    )
    lines = short_block(reply)
    assert lines[0].startswith("MeshCallError (worker raised ZeroDivisionError): ")
    assert "division by zero" in lines[0]
    debug = connected.run("%hotmesh --debug").text
    assert "Remote traceback" in debug and "ZeroDivisionError" in debug


def test_a_timeout_is_short_and_says_the_job_keeps_running(
    connected: Kernel, redis_url: str, namespace: str
) -> None:
    connected.run(f"%%hotmesh deploy --activate\n{SLOW_APP}")
    lines = short_block(connected.run("%hotmesh run slow.go {} --timeout 0.2"))
    assert lines[0].startswith("TimeoutError: job '")
    assert "still running" in " ".join(" ".join(lines).split())
    assert any("what to do: the job keeps running" in line for line in lines)


def test_an_interrupted_run_names_the_job_that_is_still_running(
    connected: Kernel, redis_url: str, namespace: str
) -> None:
    connected.run(f"%%hotmesh deploy --activate\n{SLOW_APP}")
    watcher = HotMesh.init("slowapp", connection=redis_url, namespace=namespace)
    msg_id = connected.start("%hotmesh run slow.go {}")
    wait_until(lambda: len(watcher.jobs()) == 1)
    job_id = str(watcher.jobs()["id"][0])
    connected.interrupt()
    lines = short_block(connected.collect(msg_id))
    assert lines[0].startswith(f"WaitInterrupted: stopped waiting for job '{job_id}'")
    text = " ".join(" ".join(lines).split())  # wrapped lines joined
    assert "still running" in text and f"%hotmesh job {job_id}" in text
    assert watcher.get_status(job_id) > 0  # it really keeps running
    # ... and the magics remember it: %hotmesh job without an id shows it.
    assert job_id in connected.run("%hotmesh job").text


def test_a_fresh_kernel_finds_the_app_of_a_topic_on_the_server(
    redis_url: str, namespace: str
) -> None:
    deployer = Kernel()
    fresh = Kernel()
    try:
        for k in (deployer, fresh):
            k.run("%load_ext hotmesh_nb")
            k.run(f"%hotmesh connect {redis_url} --namespace {namespace}")
        for name in ("one", "two"):
            app = SLOW_APP.replace("slowapp", f"app-{name}").replace("slow.go", f"{name}.go")
            reply = deployer.run(f"%%hotmesh deploy --activate\n{app}")
            assert reply.error is None, reply.traceback_lines
        # Another kernel, which deployed nothing, starts a job by topic alone.
        reply = fresh.run("%hotmesh pub one.go {}")
        assert reply.error is None, reply.traceback_lines
        apps = fresh.run("%hotmesh apps").text
        assert "app-one" in apps and "one.go" in apps and "app-two" in apps
        # A topic two apps subscribe to lists both.
        both = SLOW_APP.replace("slowapp", "app-three").replace("slow.go", "one.go")
        deployer.run(f"%%hotmesh deploy --activate\n{both}")
        fresher = Kernel()
        try:
            fresher.run("%load_ext hotmesh_nb")
            fresher.run(f"%hotmesh connect {redis_url} --namespace {namespace}")
            text = fresher.run("%hotmesh pub one.go {}").text  # a UsageError: one line
            assert "UsageError: several apps of namespace" in text
            assert "subscribe to 'one.go': app-one, app-three; choose one with --app" in text
        finally:
            fresher.close()
    finally:
        deployer.close()
        fresh.close()


def complete(kernel: Kernel, code: str) -> list[str]:
    """What the frontend gets for a Tab at the end of ``code``."""
    msg_id = kernel.client.complete(code, len(code))
    while True:  # skip the replies of earlier cells
        reply = kernel.client.get_shell_msg(timeout=30)
        if reply["parent_header"].get("msg_id") == msg_id:
            return list(reply["content"]["matches"])


def test_tab_completes_subcommands_options_apps_topics_and_jobs(
    connected: Kernel, redis_url: str, namespace: str
) -> None:
    connected.run(f"%%hotmesh deploy --activate\n{SLOW_APP}")
    assert complete(connected, "%hotmesh ru") == ["run"]
    subcommands = complete(connected, "%hotmesh ")
    assert {"run", "pub", "job", "jobs", "apps", "dashboard", "--debug"} <= set(subcommands)
    assert not {"raise", "return", "import"} & set(subcommands)  # no Python keywords
    assert complete(connected, "%hotmesh run sl") == ["slow.go"]
    assert complete(connected, "%hotmesh run slow.go {} --t") == ["--timeout"]
    assert complete(connected, "%hotmesh graph slo") == ["slowapp"]
    assert complete(connected, "%hotmesh jobs slowapp --status d") == ["done"]
    assert complete(connected, "%%hotmesh dep") == ["deploy"]
    connected.run("%hotmesh pub slow.go {}")
    job_id = connected.run("print(_)").text.strip()
    assert set(complete(connected, "%hotmesh job ")) == {job_id, "--app"}
    assert complete(connected, "%hotmesh graph --job ") == [job_id]


def test_a_stopped_dashboard_leaves_a_snapshot_not_a_widget(connected: Kernel) -> None:
    connected.run(f"%%hotmesh deploy --activate\n{SLOW_APP}")
    shown = connected.run("%hotmesh dashboard slowapp")
    [display] = [o for o in shown.outputs if o["msg_type"] == "display_data"]
    display_id = display["transient"]["display_id"]
    assert "application/vnd.jupyter.widget-view+json" in display["data"]  # live while it runs
    assert "HotMesh dashboard: slowapp" in display["data"]["text/html"]
    stopped = connected.run("import hotmesh_nb\nhotmesh_nb.shutdown()")
    updates = [o for o in stopped.outputs if o["msg_type"] == "update_display_data"]
    assert [u["transient"]["display_id"] for u in updates] == [display_id]
    data = updates[0]["data"]
    # What a saved notebook keeps: HTML only, which says it is a snapshot.
    assert set(data) == {"text/html", "text/plain"}
    assert "a snapshot" in data["text/html"] and "<script" not in data["text/html"]


def test_a_long_run_shows_a_live_status_line(connected: Kernel) -> None:
    slow = SLOW_APP.replace("slowapp", "napapp").replace("slow.go", "nap.go")
    slow = slow.replace("slow.nobody", "nap.work")
    connected.run(f"%%hotmesh deploy --activate\n{slow}")
    connected.run(
        "import time\nfrom hotmesh_nb import HotMesh, Worker\n"
        "def nap(message):\n    time.sleep(3.6)\n    return {'rested': True}\n"
        "nap_hm = HotMesh.init('napapp', namespace=NS_KERNEL, workers=[Worker('nap.work', nap)])"
    )
    reply = connected.run("%hotmesh run nap.go {}")
    assert reply.error is None, reply.traceback_lines
    shown = [o for o in reply.outputs if o["msg_type"] == "display_data"]
    assert (
        len(shown) == 1 and "running; interrupt to stop waiting" in shown[0]["data"]["text/plain"]
    )
    display_id = shown[0]["transient"]["display_id"]
    updates = [o for o in reply.outputs if o["msg_type"] == "update_display_data"]
    assert updates and updates[-1]["transient"]["display_id"] == display_id
    assert ": finished (" in updates[-1]["data"]["text/plain"]
    [result] = [o for o in reply.outputs if o["msg_type"] == "execute_result"]
    assert result["data"]["text/plain"].endswith("on nap.go: done\n{}")
