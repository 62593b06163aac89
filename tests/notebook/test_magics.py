"""The %hotmesh magics through a real IPython shell: every subcommand and its errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from IPython.core.error import UsageError
from nb_apps import BRANCHES, SEED, wait_done

from hotmesh_nb import ConnectError, JobError, JobNotFoundError
from hotmesh_nb.notebook import GraphView, JobView, RunResult
from hotmesh_nb.notebook import _magics as magics
from hotmesh_nb.notebook._monitor import Dashboard
from hotmesh_nb.runtime import get_runtime

WORKER_CELL = """
from hotmesh_nb import HotMesh, Worker

def work(message):
    return {{"greeting": "hello " + message.data.get("name", "world"), "version": {version}}}

hm = HotMesh.init("myfirstapp", connection=URL, namespace=NS, workers=[Worker("work.do", work)])
"""

SEED_WITH_INPUT = SEED.replace(
    "          topic: work.do\n",
    "          topic: work.do\n"
    "          input:\n"
    "            maps:\n"
    "              name: '{t1.output.data.name}'\n"
    "          job:\n"
    "            maps:\n"
    "              greeting: '{$self.output.data.greeting}'\n"
    "              version: '{$self.output.data.version}'\n",
)


def services(kind: str) -> list:
    return [key for key in get_runtime().services() if key[0] == kind]


@pytest.fixture
def seeded(cell) -> object:
    """The seed app deployed and active, with an in-kernel worker defined in a cell."""
    cell(f"%%hotmesh deploy --activate\n{SEED_WITH_INPUT}")
    cell(WORKER_CELL.format(version=1))
    return cell


# -- connect ----------------------------------------------------------------------------


def test_connect_names_the_server_and_namespace(cell, redis_url: str, namespace: str) -> None:
    notice = cell(f"%hotmesh connect {redis_url} --namespace {namespace}")
    assert str(notice) == f"connected to {redis_url} (namespace '{namespace}')"
    assert repr(notice) == str(notice)  # displays without quotes
    assert cell("%hotmesh connect $URL --namespace $NS") == notice  # $names are expanded


def test_connect_errors(cell) -> None:
    with pytest.raises(UsageError, match="invalid namespace"):
        cell("%hotmesh connect --namespace 'bad name'")
    with pytest.raises(UsageError, match="usage: %hotmesh connect"):
        cell("%hotmesh connect a b")
    with pytest.raises(ConnectError, match="cannot reach"):
        cell("%hotmesh connect redis://127.0.0.1:1/0")


# -- deploy and activate -------------------------------------------------------------------


def test_cell_deploy_shows_the_dag_and_rerunning_starts_no_second_engine(cell) -> None:
    view = cell(f"%%hotmesh deploy\n{SEED}")
    assert isinstance(view, GraphView) and view.spec.id == "myfirstapp"
    assert view.text().startswith("myfirstapp v1\ngraph myfirstapp.test\n")
    engines = services("engine")
    cell(f"%%hotmesh deploy\n{SEED}")
    assert services("engine") == engines and len(engines) == 1


def test_cell_deploy_does_not_expand_dollars_or_braces(cell, shell) -> None:
    shell.user_ns["t1"] = "EXPANDED"
    view = cell(f"%%hotmesh deploy\n{SEED_WITH_INPUT}")
    maps = view.spec.activity("w1").config["job"]["maps"]
    assert maps["greeting"] == "{$self.output.data.greeting}"
    assert view.spec.activity("w1").input_maps == {"name": "{t1.output.data.name}"}


def test_a_broken_yaml_cell_shows_the_line_and_the_reason(cell) -> None:
    broken = SEED.replace("type: worker", "type: wroker")
    with pytest.raises(UsageError) as caught:
        cell(f"%%hotmesh deploy\n{broken}")
    message = str(caught.value)
    # Line numbers are the cell's: its first line is %%hotmesh deploy, the YAML starts on 2.
    assert message.startswith("deploy failed: cell line 11, activity 'w1': unknown activity type")
    assert "did you mean 'worker'?" in message
    assert ">   11 |           type: wroker" in message
    assert "    10 |         w1:" in message and "    12 |           topic: work.do" in message
    assert services("engine") == []  # nothing started for an app that did not deploy


def test_yaml_syntax_errors_too(cell) -> None:
    with pytest.raises(UsageError, match=r"(?s)YAML syntax error.*>    4 \| \(end of the YAML\)"):
        cell("%%hotmesh deploy\napp: [\n  id: x\n")


def test_the_cell_magic_only_deploys(cell) -> None:
    with pytest.raises(UsageError, match=r"usage: %%hotmesh deploy"):
        cell(f"%%hotmesh graph\n{SEED}")
    with pytest.raises(UsageError, match=r"unrecognized arguments: --now"):
        cell(f"%%hotmesh deploy --now\n{SEED}")


def test_deploy_a_file_and_activate(cell, tmp_path: Path) -> None:
    path = tmp_path / "myfirstapp.1.yaml"
    path.write_text(SEED)
    view = cell(f"%hotmesh deploy {path} --activate")
    assert isinstance(view, GraphView)
    assert cell("%hotmesh activate myfirstapp 1") == "myfirstapp version 1 is active"
    with pytest.raises(UsageError, match="no YAML file"):
        cell(f"%hotmesh deploy {tmp_path / 'missing.yaml'}")
    bad = tmp_path / "bad.yaml"
    bad.write_text(SEED.replace("- to: w1", "- to: w9"))
    with pytest.raises(UsageError, match=r"(?s)bad.yaml:14.*>   14 \|           - to: w9"):
        cell(f"%hotmesh deploy {bad}")


def test_activate_errors(cell) -> None:
    cell(f"%%hotmesh deploy\n{SEED}")
    with pytest.raises(UsageError, match="version '7' of app 'myfirstapp' was never deployed"):
        cell("%hotmesh activate myfirstapp 7")
    with pytest.raises(UsageError, match="app 'nope' is not deployed"):
        cell("%hotmesh activate nope 1")
    with pytest.raises(UsageError, match="the following arguments are required: version"):
        cell("%hotmesh activate myfirstapp")


# -- workers defined in cells -----------------------------------------------------------------


def test_rerunning_a_worker_cell_does_not_start_a_second_worker(seeded) -> None:
    first = seeded('%hotmesh run myfirstapp.test {"name": "Ada"}')
    assert first.data == {"greeting": "hello Ada", "version": 1}
    seeded(WORKER_CELL.format(version=2))
    assert len(services("worker")) == 1 and len(services("engine")) == 1
    second = seeded('%hotmesh run myfirstapp.test {"name": "Ada"}')
    assert second.data["version"] == 2  # the new callback serves the running worker
    members = seeded("%hotmesh workers")
    assert sorted(members["role"]) == ["engine", "worker"]


# -- jobs --------------------------------------------------------------------------------------


def test_pub_returns_the_job_id(seeded, magics) -> None:
    job_id = seeded('%hotmesh pub myfirstapp.test {"name": "Bo"}')
    assert isinstance(job_id, str) and magics.session.last_job == job_id
    hm = seeded("hm")
    wait_done(hm, job_id)
    assert hm.get_state(job_id)["data"]["greeting"] == "hello Bo"


def test_job_data_may_be_a_python_dict_or_come_anywhere(seeded, shell) -> None:
    shell.user_ns["payload"] = {"name": "Cy"}
    assert seeded("%hotmesh run myfirstapp.test $payload").data["greeting"] == "hello Cy"
    result = seeded('%hotmesh run myfirstapp.test {"name": "Di"} --timeout 5 --app myfirstapp')
    assert result.data["greeting"] == "hello Di"
    assert seeded("%hotmesh run myfirstapp.test").data["greeting"] == "hello world"


def test_pub_and_run_errors(seeded, shell) -> None:
    with pytest.raises(UsageError, match=r"no deployed app .* subscribes to 'nobody\.listens'"):
        seeded("%hotmesh pub nobody.listens {}")
    with pytest.raises(UsageError, match="cannot read the job data"):
        seeded("%hotmesh pub myfirstapp.test {name: oops")
    shell.user_ns["numbers"] = {1, 2}
    with pytest.raises(UsageError, match="job data must be an object, not set"):
        seeded("%hotmesh pub myfirstapp.test $numbers")
    with pytest.raises(UsageError, match="required: topic"):
        seeded("%hotmesh run")
    with pytest.raises(UsageError, match="invalid float value"):
        seeded("%hotmesh run myfirstapp.test --timeout soon")


def test_run_returns_id_and_data_and_failures_raise(seeded, magics) -> None:
    result = seeded('%hotmesh run myfirstapp.test {"name": "Ed"}')
    assert isinstance(result, RunResult) and result.topic == "myfirstapp.test"
    assert result.text().startswith(f"job {result.job_id} on myfirstapp.test: done\n")
    assert magics.session.last_job == result.job_id
    seeded(WORKER_CELL.format(version="1 / 0"))
    with pytest.raises(JobError, match="division by zero") as caught:
        seeded("%hotmesh run myfirstapp.test {}")
    assert magics.session.last_job == caught.value.job_id


def test_job_shows_status_data_and_the_painted_path(seeded) -> None:
    result = seeded('%hotmesh run myfirstapp.test {"name": "Fa"}')
    view = seeded(f"%hotmesh job {result.job_id}")
    assert isinstance(view, JobView) and view.status == "done"
    assert view.data == {"greeting": "hello Fa", "version": 1}
    text = view.text()
    assert f"job      {result.job_id}" in text and "status   done" in text
    assert "t1 [trigger] | done" in text and "-> w1 [worker work.do] | done" in text
    bundle = view._repr_mimebundle_()
    assert "<table>" in bundle["text/html"] and bundle["text/plain"] == text
    assert seeded("%hotmesh job").id == result.job_id  # default: the last job
    with pytest.raises(JobNotFoundError):
        seeded("%hotmesh job Hnope")


def test_graph_of_an_app_and_of_a_job(seeded) -> None:
    plain = seeded("%hotmesh graph myfirstapp")
    assert isinstance(plain, GraphView) and plain.overlay is None
    result = seeded("%hotmesh run myfirstapp.test {}")
    painted = seeded(f"%hotmesh graph myfirstapp --job {result.job_id}")
    assert painted.job.id == result.job_id and painted.job.status == "done"
    assert {k: v.status for k, v in painted.overlay.items()} == {"t1": "done", "w1": "done"}
    assert seeded("%hotmesh graph --version 1").spec.version == "1"  # APP: the last one
    with pytest.raises(UsageError, match="app 'other' is not deployed"):
        seeded("%hotmesh graph other")
    with pytest.raises(UsageError, match="version '9' of app 'myfirstapp' is not deployed"):
        seeded("%hotmesh graph myfirstapp --version 9")


def test_jobs_lists_a_dataframe(seeded) -> None:
    for name in ("a", "b", "c"):
        seeded(f'%hotmesh run myfirstapp.test {{"name": "{name}"}}')
    jobs = seeded("%hotmesh jobs")
    assert isinstance(jobs, pd.DataFrame) and len(jobs) == 3
    assert list(jobs.columns) == [
        "id",
        "topic",
        "status",
        "created",
        "updated",
        "duration",
        "error",
        "failed",
    ]
    assert len(seeded("%hotmesh jobs myfirstapp --status done --limit 2")) == 2
    assert seeded("%hotmesh jobs --status running").empty
    with pytest.raises(UsageError, match="unknown job status finished"):
        seeded("%hotmesh jobs --status finished")
    with pytest.raises(UsageError, match="--limit must be 0 or more"):
        seeded("%hotmesh jobs --limit -1")


def test_jobs_needs_an_app_when_there_are_several(cell, magics) -> None:
    cell(f"%%hotmesh deploy --activate\n{SEED}")
    cell(f"%%hotmesh deploy --activate\n{BRANCHES}")
    magics.session.last_app = None
    with pytest.raises(UsageError, match=r"name the app \(known: myfirstapp, branches\)"):
        cell("%hotmesh jobs")
    assert cell("%hotmesh jobs branches").empty


# -- dashboard, stop, help ------------------------------------------------------------------


def test_dashboard_and_stop(seeded) -> None:
    board = seeded("%hotmesh dashboard")
    assert isinstance(board, Dashboard) and board.running
    assert seeded("%hotmesh dashboard") is board  # displayed again, not started again
    assert seeded("%hotmesh stop myfirstapp") == "stopped the engine and workers of myfirstapp"
    assert services("engine") == [] and services("worker") == []
    assert seeded("%hotmesh stop myfirstapp") == (
        "myfirstapp has no engine or worker running in this process"
    )
    assert seeded("%hotmesh stop") == "stopped every engine, worker and dashboard of this process"
    assert not board.running


def test_help_lists_every_subcommand(shell, cell) -> None:
    doc = shell.find_line_magic("hotmesh").__doc__
    for usage in [
        "connect [URL] [--namespace NS]",
        "deploy PATH [--activate]",
        "activate APP VERSION",
        "graph [APP] [--version V] [--job ID]",
        "pub TOPIC [JSON] [--app APP]",
        "run TOPIC [JSON] [--app APP] [--timeout S]",
        "job [ID] [--app APP]",
        "jobs [APP] [--status S] [--limit N]",
        "workers [APP]",
        "dashboard [APP ...]",
        "stop [APP]",
    ]:
        assert f"%hotmesh {usage}" in doc, usage
    assert "%%hotmesh deploy" in doc
    assert cell("%hotmesh help") == doc


def test_bad_subcommands(cell) -> None:
    with pytest.raises(UsageError, match="name a subcommand"):
        cell("%hotmesh")
    with pytest.raises(UsageError, match="unknown subcommand 'deplyo'"):
        cell("%hotmesh deplyo x")
    with pytest.raises(UsageError, match="no search index covers entity 'status:done'"):
        cell("%hotmesh search status:done")  # MeshData registers it; no index here


def test_other_modules_can_add_subcommands(cell, shell) -> None:
    def hello(m: magics.HotMeshMagics, args: str) -> str:
        return f"hello {args} in {m.session.namespace}"

    magics.register_subcommand(magics.Subcommand("hello", "hello NAME", "say hello", hello))
    try:
        assert cell("%hotmesh hello mesh").startswith("hello mesh in t")
        assert "%hotmesh hello NAME" in shell.find_line_magic("hotmesh").__doc__
    finally:
        magics.SUBCOMMANDS.pop("hello")
        magics.HotMeshMagics.hotmesh.__doc__ = magics.help_text()


def test_unloading_removes_the_magics(shell) -> None:
    shell.run_line_magic("unload_ext", "hotmesh_nb")
    assert shell.find_line_magic("hotmesh") is None and shell.find_cell_magic("hotmesh") is None
    shell.run_line_magic("load_ext", "hotmesh_nb")
    assert shell.find_line_magic("hotmesh") is not None


def test_every_help_line_fits_in_100_characters(cell) -> None:
    import hotmesh_nb.meshdata  # noqa: F401  (registers %hotmesh search)

    texts = [str(cell("%hotmesh help")), magics.HotMeshMagics.hotmesh.__doc__ or ""]
    for text in texts:
        assert "%hotmesh run TOPIC" in text
        too_long = [line for line in text.splitlines() if len(line) > 100]
        assert not too_long, too_long
