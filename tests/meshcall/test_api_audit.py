"""MeshCall's remaining public methods from the user's side: ``shutdown`` and the
read-only instance (the original's ``getInstance(..., {readonly: true})``)."""

from __future__ import annotations

import pytest
from waiting import wait_until

from hotmesh_nb import HotMesh, MeshCall


def roles(hm: HotMesh) -> set[tuple[str, str | None]]:
    """(role, topic) of every member of ``hm``'s app that answers a roll call."""
    return {(m["role"], m.get("topic")) for m in hm.roll_call(0.3)}


def test_shutdown_stops_meshcall_only(ns: str) -> None:
    MeshCall.connect("sd.fn", lambda x: x * 2, namespace=ns)
    assert MeshCall.exec("sd.fn", [21], namespace=ns) == 42
    assert MeshCall.cron("sd.fn", [1], interval="1 hour", id="nightly", namespace=ns) is True
    other = HotMesh.init("other", namespace=ns)
    served = roles(MeshCall.hotmesh(namespace=ns))
    assert ("worker", "sd.fn") in served and ("worker", "meshcall.plan") in served

    MeshCall.shutdown()

    # Another app of this process keeps running.
    assert any(role == "engine" for role, _ in roles(other))
    # The cron lives on in Redis; nothing serves the function in this process any more.
    reader = MeshCall.hotmesh(namespace=ns, readonly=True)
    assert reader.get_status("cron:sd.fn:nightly") > 0
    assert ("worker", "sd.fn") not in roles(MeshCall.hotmesh(namespace=ns))
    # Connecting again serves it again.
    MeshCall.connect("sd.fn", lambda x: x * 3, namespace=ns)
    assert MeshCall.exec("sd.fn", [2], namespace=ns) == 6
    assert MeshCall.interrupt("sd.fn", "nightly", namespace=ns) is True


def test_a_readonly_instance_reads_without_running_an_engine(ns: str) -> None:
    reader = MeshCall.hotmesh(namespace=ns, readonly=True)
    assert not any(role == "engine" for role, _ in roles(reader))
    # A cron scheduled from here waits for an engine and a worker elsewhere.
    assert MeshCall.cron("ro.fn", ["a"], id="r", interval=1, max_cycles=1, namespace=ns)
    assert reader.get_status("cron:ro.fn:r") > 0
    runs: list[str] = []
    MeshCall.connect("ro.fn", runs.append, namespace=ns)
    wait_until(lambda: runs == ["a"])
    wait_until(lambda: reader.get_status("cron:ro.fn:r") == 0)
    assert MeshCall.hotmesh(namespace=ns, readonly=True).get_state("cron:ro.fn:r")["data"] == {
        "topic": "ro.fn",
        "cycle": 1,
    }


def test_the_planners_topic_is_reserved(ns: str) -> None:
    with pytest.raises(ValueError, match=r"'meshcall\.plan' is reserved"):
        MeshCall.connect("meshcall.plan", lambda: None, namespace=ns)
    with pytest.raises(ValueError, match=r"'meshcall\.plan' is reserved"):
        MeshCall.cron("meshcall.plan", [], interval="1 hour", namespace=ns)
    with pytest.raises(ValueError, match="non-empty string"):
        MeshCall.connect("", lambda: None, namespace=ns)
