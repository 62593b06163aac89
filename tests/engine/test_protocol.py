"""The wire protocol: each stream message's class, its wire form and the version rule."""

from __future__ import annotations

import json
import re
import time

import pytest
import redis

from hotmesh_nb._codec import dumps
from hotmesh_nb.engine._protocol import (
    WIRE_VERSION,
    Apply,
    Await,
    Cycle,
    Descend,
    Message,
    MessageKind,
    Reply,
    Result,
    SignalAll,
    TimeHook,
    Transition,
    Unindex,
    WebHook,
    WireVersionError,
    Work,
    decode,
)
from tests.waiting import check_deadline

ADDRESS = {
    "guid": "Hguid",
    "job_id": "job-1",
    "gid": "Hgid",
    "activity": "a1",
    "dad": ",0",
    "version": "1",
}

SAMPLES: list[Message] = [
    Work(**ADDRESS, topic="work.do", data={"n": 1}, policy={"retry": {"500": [2]}}),
    Work(**ADDRESS, topic="work.do", started=1_700_000_000_000, trace={"traceparent": "00-x"}),
    Reply(**ADDRESS, reply_guid="Hrg", status="success", code=200, data={"ok": True}, attempt=1),
    Transition(**ADDRESS),
    Result(**ADDRESS),
    Result(**ADDRESS, status="error", code=500, data={"message": "boom", "code": 500}),
    TimeHook(**ADDRESS),
    WebHook(**ADDRESS),
    Cycle(**ADDRESS, data={"i": 2}),
    Await(**ADDRESS, topic="child.go", data={"x": 1}, wait=False),
    SignalAll(guid="Hs", topic="hook.go", data={"a": 1}, facet="k:v", code=202, version="1"),
    Descend(guid="Hd", job_id="job-1", error={"message": "stop", "code": 410}, version="2"),
    Unindex(guid="", job_id="job-1", facets=["{ns:app}:f:color:red"]),
    Apply(guid="Hr", partition=3, ops=[["link", "\x00{ns:app:3.1}:j:p", "c:x", "1"]]),
]


@pytest.mark.parametrize("message", SAMPLES, ids=lambda m: type(m).__name__)
def test_every_message_survives_the_wire_unchanged(message: Message) -> None:
    wire = message.to_wire()
    assert wire["k"] == message.KIND.value and wire["w"] == WIRE_VERSION
    assert decode(dumps(wire)) == message


def test_every_kind_has_exactly_one_class() -> None:
    kinds = {type(m).KIND for m in SAMPLES}
    assert kinds == set(MessageKind)


def test_the_wire_keeps_the_compact_documented_keys() -> None:
    work = Work(**ADDRESS, topic="t", data={"n": 1}, started=5)
    assert work.to_wire() == {
        "k": "work",
        "w": WIRE_VERSION,
        "g": "Hguid",
        "j": "job-1",
        "gid": "Hgid",
        "a": "a1",
        "d": ",0",
        "v": "1",
        "ts": 5,
        "t": "t",
        "try": 0,
        "data": {"n": 1},
    }  # optional fields (trace, retry policy) stay off the wire when unset


def test_messages_completed_in_lua_end_with_a_brace_and_leave_the_outcome_out() -> None:
    # The step script appends status, code and data before the closing brace.
    for message in (WebHook(**ADDRESS), Result(**ADDRESS)):
        text = dumps(message.to_wire())
        assert text.endswith("}")
        assert not {"status", "code", "data"} & set(json.loads(text))
        completed = text[:-1] + ',"status":"success","code":200,"data":{"a":1}}'
        decoded = decode(completed)
        assert (decoded.status, decoded.code, decoded.data) == ("success", 200, {"a": 1})


def test_a_reply_answers_its_work_message() -> None:
    work = Work(**ADDRESS, topic="t", attempt=2, started=7, trace={"traceparent": "00-y"})
    reply = Reply.answering(work, "error", 500, {"message": "no"})
    assert (reply.job_id, reply.gid, reply.activity, reply.dad, reply.version) == (
        "job-1",
        "Hgid",
        "a1",
        ",0",
        "1",
    )
    assert reply.guid == work.guid and reply.reply_guid != work.guid
    assert (reply.attempt, reply.started, reply.trace) == (2, 7, {"traceparent": "00-y"})


@pytest.mark.parametrize("version", [None, 0, 1, WIRE_VERSION + 1, str(WIRE_VERSION)])
def test_another_wire_version_is_refused_with_the_upgrade_rule(version: object) -> None:
    wire = Transition(**ADDRESS).to_wire()
    if version is None:
        del wire["w"]
    else:
        wire["w"] = version
    with pytest.raises(WireVersionError) as caught:
        decode(dumps(wire))
    text = str(caught.value)
    assert f"reads wire version {WIRE_VERSION}" in text and "drain" in text
    assert caught.value.found == version


def test_malformed_messages_are_refused_naming_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="unknown kind 'launch'"):
        decode(dumps({"k": "launch", "w": WIRE_VERSION}))
    wire = Work(**ADDRESS, topic="t").to_wire()
    del wire["t"]
    with pytest.raises(ValueError, match="work message lacks its 't' field"):
        decode(dumps(wire))
    with pytest.raises(ValueError, match="not a JSON object"):
        decode("[1, 2]")


WAITING_APP = """
app:
  id: wire
  version: '1'
  graphs:
    - subscribes: wire.go
      activities:
        t1: {type: trigger}
        h1: {type: hook, sleep: 600}
      transitions:
        t1: [{to: h1}]
"""


def test_a_message_of_another_version_becomes_a_dead_letter_naming_both(
    mesh, redis_url, namespace
) -> None:
    hm = mesh("wire", WAITING_APP, reclaim_after=0.3, delivery_cap=2)
    job_id = hm.pub("wire.go", {})
    gid = hm.get_state(job_id)["metadata"]["gid"]
    keys = hm.keys
    hook = TimeHook(guid="Hx", job_id=job_id, gid=gid, activity="h1", dad=",0", version="1")
    future = {**hook.to_wire(), "w": WIRE_VERSION + 1}
    plain = redis.Redis.from_url(redis_url, decode_responses=True)
    plain.xadd(keys.engine_stream_of(job_id), {"m": json.dumps(future)})
    deadline = time.monotonic() + 30
    while not hm.dead_letters():
        check_deadline(deadline, "the message of another wire version was never buried")
        time.sleep(0.05)
    letter = hm.dead_letters()[0]
    assert f"version {WIRE_VERSION + 1}" in letter["error"]
    assert f"reads wire version {WIRE_VERSION}" in letter["error"]
    # The job does not wait forever for a message no process could read: it is
    # interrupted with the letter's reason (as every engine dead letter does).
    deadline = time.monotonic() + 30
    while hm.get_status(job_id) > 0:
        check_deadline(deadline, "the job was not interrupted")
        time.sleep(0.05)
    err = json.loads(hm.get_state(job_id)["metadata"]["err"])
    assert err["code"] == 999 and "wire version" in err["message"]


def test_a_step_call_declares_every_key_and_sends_operations_as_one_table() -> None:
    from hotmesh_nb.engine._protocol import KEY_REF, StepCall

    call = StepCall(
        "{ns:app}:j:job-1",
        "{ns:app}:x:",
        "step",
        -1,
        gid="g1",
        guard="g:m1",
        done_channel="done",
        expire=60,
        ack=("{ns:app}:x:work", "WORKER", "1-0"),
        writes={"d:a": "1"},
        messages=[("{ns:app}:x:work", '{"k":"work"}')],
        ops=[
            [
                "timer",
                KEY_REF + "{ns:app}:t",
                1764757200123.5,
                '{"k":"timehook"}',
                KEY_REF + "{ns:app}:tw",
            ],
            ["link", KEY_REF + "{ns:app}:j:parent", "c:job-1", "1"],
            ["stat", "hincr", KEY_REF + "{ns:app}:s:k", "count", 12345678901234567890, ""],
        ],
        token="proc",
    )
    keys, args = call.encode()
    assert keys == [
        "{ns:app}:j:job-1",
        "{ns:app}:x:",
        "{ns:app}:x:work",
        "{ns:app}:t",
        "{ns:app}:tw",
        "{ns:app}:j:parent",
        "{ns:app}:s:k",
    ]
    assert args[:11] == ["step", -1, "g1", "g:m1", "done", "", 60, 3, "WORKER", "1-0", 1]
    assert args[11:16] == ["d:a", "1", 1, 3, '{"k":"work"}']
    assert args[16] == 0  # no local work
    assert args[17] == "0" and args[-1] == "proc"
    # Keys by their KEYS index; every value a string, so a big integer stays exact.
    assert json.loads(args[18]) == [
        ["timer", 4, "1764757200123.5", '{"k":"timehook"}', 5],
        ["link", 6, "c:job-1", "1"],
        ["stat", "hincr", 7, "count", "12345678901234567890", ""],
    ]
    assert StepCall("j", "x", "ops").encode()[1][-2] == "[]"


def test_the_scripts_write_the_current_wire_version() -> None:
    """``announce.lua`` writes one message itself: its version must follow the code's."""
    from pathlib import Path

    import hotmesh_nb.engine as engine_package

    lua = Path(engine_package.__file__).parent / "lua" / "announce.lua"
    versions = re.findall(r'\\"w\\":(\d+)|"w":(\d+)', lua.read_text())
    assert versions and all(int(a or b) == WIRE_VERSION for a, b in versions)
