"""``hotmesh-nb`` as a user runs it: bad options, missing code, URLs with secrets, --path.

Every case runs the real command in its own process (``python -P -m``: the
interpreter itself then puts nothing on ``sys.path``, as with the installed
``hotmesh-nb`` script).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from waiting import check_deadline

COMMAND = [sys.executable, "-P", "-m", "hotmesh_nb.cli"]


def run(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**os.environ, **env},
    )


def one_error_line(done: subprocess.CompletedProcess[str], status: int = 2) -> str:
    """The single ``error: …`` line of a failed command (asserting there is nothing else)."""
    assert done.returncode == status, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--reclaim-after", "-1"], "--reclaim-after: '-1' must be a number of seconds above 0"),
        (["--reclaim-after", "0"], "must be a number of seconds above 0"),
        (["--reclaim-after", "nan"], "must be a number of seconds above 0"),
        (["--reclaim-after", "soon"], "'soon' is not a number of seconds"),
        (["--delivery-cap", "0"], "--delivery-cap: '0' must be 1 or more"),
        (["--delivery-cap", "2.5"], "'2.5' is not a whole number"),
        (["--namespace", "bad space"], "invalid namespace 'bad space'"),
        (["--topic", "work.do"], "'work.do' must look like TOPIC=module:function"),
        (["--topic", "work.do=tasks"], "must look like TOPIC=module:function"),
        (["--path", "/no/such/folder"], "'/no/such/folder' is not a folder"),
        (["--url", "http://example.com"], "is not a server URL"),
        (["--url-file", "/no/such/file"], "'/no/such/file' is not a file"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
    ],
)
def test_every_worker_option_is_checked(args: list[str], expected: str) -> None:
    line = one_error_line(run("worker", "myapp", *args))
    assert expected in line


def test_bad_app_ids_and_commands_are_usage_errors() -> None:
    assert "invalid app id 'my_app'" in one_error_line(run("worker", "my_app"))
    assert "invalid app id 'a'" in one_error_line(run("worker", "a"))
    assert "invalid choice: 'explode'" in one_error_line(run("server", "explode"))
    assert "required: command" in one_error_line(run())


def test_a_missing_module_or_function_is_one_line(tmp_path: Path) -> None:
    line = one_error_line(run("worker", "myapp", "--topic", "w=nosuchmodule:fn", cwd=tmp_path))
    assert "no module named 'nosuchmodule'" in line and "--path" in line
    line = one_error_line(run("worker", "myapp", "--topic", "w=json:nosuch", cwd=tmp_path))
    assert line == "error: module 'json' has no 'nosuch'"
    line = one_error_line(run("worker", "myapp", "--topic", "w=json:__doc__", cwd=tmp_path))
    assert "json:__doc__ is a str, not a function" in line


def test_debug_adds_the_traceback(tmp_path: Path) -> None:
    done = run("worker", "myapp", "--topic", "w=nosuchmodule:fn", "--debug", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: no module named")


def test_a_url_with_a_password_is_masked_in_the_error(tmp_path: Path) -> None:
    done = run(
        "demo", "hotmesh", "--url", "redis://bob:hunter2@127.0.0.1:1/0", cwd=tmp_path
    )  # nothing listens on port 1
    line = one_error_line(done, status=1)
    assert "bob:***@127.0.0.1:1" in line and "hunter2" not in done.stderr + done.stdout
    # The ps warning belongs to a command that runs, never to one that failed.
    assert "--url carries a password" not in done.stderr


# -- real worker processes -------------------------------------------------------------------


class Running:
    """A ``hotmesh-nb worker`` process, stopped with Ctrl-C (SIGINT) at the end."""

    def __init__(self, *args: str, cwd: Path, **env: str) -> None:
        self.proc = subprocess.Popen(
            [*COMMAND, "worker", *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **env},
        )

    def first_line(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline()

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        _, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, err


@pytest.fixture
def acl_url(redis_url: str) -> Iterator[str]:
    """The test server's URL with a password: an ACL user made for this test."""
    user = f"cli{uuid.uuid4().hex[:8]}"
    admin = redis.Redis.from_url(redis_url)
    admin.acl_setuser(
        user, enabled=True, passwords=["+s3cret-pw"], keys=["*"], channels=["*"], commands=["+@all"]
    )
    head, _, tail = redis_url.partition("://")
    yield f"{head}://{user}:s3cret-pw@{tail}"
    admin.acl_deluser(user)
    admin.close()


def test_url_with_a_password_works_and_warns_once_running(acl_url: str, tmp_path: Path) -> None:
    worker = Running("myapp", "--url", acl_url, "--namespace", "clitest", cwd=tmp_path)
    assert worker.first_line().startswith("serving app 'myapp'")
    status, err = worker.stop()
    assert status == 0
    assert "--url carries a password" in err and "HOTMESH_REDIS_URL" in err
    assert "--url-file" in err and "s3cret-pw" not in err


def test_url_file_keeps_the_password_out_of_the_command_line(acl_url: str, tmp_path: Path) -> None:
    url_file = tmp_path / "redis.url"
    url_file.write_text(acl_url + "\n")
    url_file.chmod(0o600)
    worker = Running("myapp", "--url-file", str(url_file), "--namespace", "clitest", cwd=tmp_path)
    assert worker.first_line().startswith("serving app 'myapp'")
    status, err = worker.stop()
    assert status == 0 and "password" not in err
    assert "s3cret-pw" not in " ".join(worker.proc.args)  # what ps shows
    # A wrong password in the file: one line, masked, no warning.
    url_file.write_text(acl_url.replace("s3cret-pw", "wrong-pw"))
    done = run("worker", "myapp", "--url-file", str(url_file), cwd=tmp_path)
    line = one_error_line(done, status=1)
    assert ":***@" in line and "wrong-pw" not in done.stderr
    assert "--url carries a password" not in done.stderr
    url_file.write_text("one\ntwo\n")
    assert "must hold one URL" in one_error_line(run("worker", "x", "--url-file", str(url_file)))


def test_the_worker_does_not_import_from_the_current_folder_first(
    redis_url: str, tmp_path: Path
) -> None:
    # A module in the current folder named like a standard one must not shadow it ...
    (tmp_path / "colorsys.py").write_text("raise SystemExit('the shadow module was imported')\n")
    # ... while the folder still serves the callbacks (after site-packages).
    (tmp_path / "tasks.py").write_text(
        "import colorsys, pathlib\n"
        "pathlib.Path('imported-from.txt').write_text(colorsys.__file__)\n"
        "def handle(message):\n    return {}\n"
    )
    worker = Running(
        "myapp", "--topic", "w=tasks:handle", "--namespace", "clitest",
        cwd=tmp_path, HOTMESH_REDIS_URL=redis_url,
    )  # fmt: skip
    assert worker.first_line().startswith("serving app 'myapp' (w)")
    assert worker.stop()[0] == 0
    imported = Path((tmp_path / "imported-from.txt").read_text())
    assert imported.parent != tmp_path and imported.name == "colorsys.py"


def test_path_names_the_folders_to_import_from(redis_url: str, tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "mytasks.py").write_text("def handle(message):\n    return {}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # Without --path the module is not found from another folder ...
    done = run("worker", "myapp", "--topic", "w=mytasks:handle", cwd=elsewhere)
    assert "no module named 'mytasks'" in one_error_line(done)
    # ... with it, it is.
    worker = Running(
        "myapp", "--topic", "w=mytasks:handle", "--path", str(code),
        cwd=elsewhere, HOTMESH_REDIS_URL=redis_url,
    )  # fmt: skip
    assert worker.first_line().startswith("serving app 'myapp' (w)")
    assert worker.stop()[0] == 0


def test_a_worker_drains_on_sigterm_and_dlq_lists_replays_and_purges(
    redis_url, namespace, tmp_path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from hotmesh_nb import EngineConfig, HotMesh

    (tmp_path / "drainwork.py").write_text(
        "import time\ndef slow(msg):\n    time.sleep(1.5)\n    return {'n': msg.data['n']}\n"
    )
    app = """
app:
  id: drain
  version: '1'
  graphs:
    - subscribes: drain.go
      activities:
        t1: { type: trigger }
        w:
          type: worker
          topic: drain.work
          input: { maps: { n: '{t1.output.data.n}' } }
          job: { maps: { n: '{$self.output.data.n}' } }
      transitions:
        t1: [ { to: w } ]
"""
    hm = HotMesh.init(
        "drain", connection=redis_url, namespace=namespace, config=EngineConfig(block_ms=500)
    )
    hm.deploy(app)
    hm.activate("1")
    command = [
        sys.executable, "-m", "hotmesh_nb.cli", "worker", "drain", "--namespace", namespace,
        "--url", redis_url, "--topic", "drain.work=drainwork:slow", "--path", str(tmp_path),
    ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert "serving" in proc.stdout.readline()
        job_id = hm.pub("drain.go", {"n": 7})
        deadline = time.monotonic() + 10
        while not hm.roll_call() or hm.get_status(job_id) == 0:
            check_deadline(deadline, "the job did not start")
            time.sleep(0.05)
        time.sleep(0.3)  # the callback is under way
        os.kill(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
    assert proc.returncode == 0 and "drained and stopped" in out
    assert hm.get_status(job_id) == 0  # the callback in hand finished before the exit
    assert hm.get_state(job_id)["data"] == {"n": 7}

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "hotmesh_nb.cli", "dlq", "drain", *args,
             "--namespace", namespace, "--url", redis_url],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "no dead letters" in cli("list")
    import redis

    client = redis.Redis.from_url(redis_url)
    for n in range(2):  # in two partitions when the app has several
        part = hm.keys.parts[n % hm.keys.count]
        client.xadd(part.dead_letters, {"stream": part.worker_stream("drain.work"),
                                        "id": f"1-{n}", "error": "test", "m": "{}"})  # fmt: skip
    listed = cli("list").strip().splitlines()
    assert len(listed) == 2
    first = json.loads(listed[0])["id"]
    assert "replayed 1 " in cli("replay", "--id", first)
    assert "purged 1 " in cli("purge")
    assert "no dead letters" in cli("list")


def test_a_short_drain_hands_the_message_back_to_another_worker_at_once(
    redis_url, namespace, tmp_path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from hotmesh_nb import EngineConfig, HotMesh

    (tmp_path / "handwork.py").write_text(
        "import os, time\n"
        "def slow(msg):\n"
        "    if os.environ.get('SLOW'):\n"
        "        time.sleep(5)\n"
        "    return {'pid': os.getpid()}\n"
    )
    app = """
app:
  id: hand
  version: '1'
  graphs:
    - subscribes: hand.go
      activities:
        t1: { type: trigger }
        w:
          type: worker
          topic: hand.work
          job: { maps: { pid: '{$self.output.data.pid}' } }
      transitions:
        t1: [ { to: w } ]
"""
    hm = HotMesh.init(
        "hand", connection=redis_url, namespace=namespace, config=EngineConfig(block_ms=500)
    )
    hm.deploy(app)
    hm.activate("1")

    def worker(slow: bool, drain: str) -> subprocess.Popen[str]:
        command = [
            sys.executable, "-m", "hotmesh_nb.cli", "worker", "hand", "--namespace", namespace,
            "--url", redis_url, "--topic", "hand.work=handwork:slow", "--path", str(tmp_path),
            "--drain", drain,
        ]  # fmt: skip
        env = dict(os.environ, SLOW="1" if slow else "")
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
        assert "serving" in proc.stdout.readline()
        return proc

    first = worker(slow=True, drain="0.2")
    second = None
    try:
        job_id = hm.pub("hand.go", {})
        time.sleep(1.0)  # the slow callback is under way in the first worker
        second = worker(slow=False, drain="5")
        os.kill(first.pid, signal.SIGTERM)
        first.communicate(timeout=20)
        # Handed back and announced: the second worker takes it at once (reclaim_after is
        # 60 s, so only the hand-back can explain a quick finish).
        deadline = time.monotonic() + 15
        while hm.get_status(job_id) != 0:
            check_deadline(deadline, "the handed-back message was not taken over")
            time.sleep(0.05)
        assert hm.get_state(job_id)["data"]["pid"] == second.pid
    finally:
        for proc in (first, second):
            if proc is not None:
                if proc.poll() is None:
                    proc.kill()
                proc.wait(10)
                proc.stdout.close()


def test_a_burst_worker_stops_once_the_work_is_done(redis_url, namespace, tmp_path) -> None:
    import subprocess
    import sys

    from hotmesh_nb import EngineConfig, HotMesh

    (tmp_path / "burstwork.py").write_text("def work(msg):\n    return {'n': msg.data['n']}\n")
    app = """
app:
  id: burst
  version: '1'
  graphs:
    - subscribes: burst.go
      activities:
        t1: { type: trigger }
        w:
          type: worker
          topic: burst.work
          input: { maps: { n: '{t1.output.data.n}' } }
          job: { maps: { n: '{$self.output.data.n}' } }
      transitions:
        t1: [ { to: w } ]
"""
    hm = HotMesh.init(
        "burst", connection=redis_url, namespace=namespace, engine=False,
        config=EngineConfig(block_ms=500),
    )  # fmt: skip
    hm.deploy(app)
    hm.activate("1")
    ids = [hm.pub("burst.go", {"n": n}) for n in range(20)]
    done = subprocess.run(
        [sys.executable, "-m", "hotmesh_nb.cli", "worker", "burst", "--engine", "--burst",
         "--namespace", namespace, "--url", redis_url, "--topic", "burst.work=burstwork:work",
         "--path", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "drained and stopped" in done.stdout
    assert [hm.get_state(i)["data"] for i in ids] == [{"n": n} for n in range(20)]
