"""Which job data a YAML app keeps: the paths its ``job.maps`` keys declare.

Every expected value here is what the original HotMesh 0.3.32 returned for the same
app and payload (``getState(...).data``), run side by side on one server, except
for the hoisted keys no rule declares, which the original drops and we keep
(said where it shows).
"""

from __future__ import annotations

from typing import Any

from hotmesh_nb import WorkerMessage

SHAPES = """
app:
  id: shapes
  version: '1'
  graphs:
    - subscribes: shapes.test
      activities:
        t1:
          type: trigger
          job:
            maps:
              whole: '{t1.output.data.arr}'
              obj: '{t1.output.data.obj}'
              empty: '{t1.output.data.empty}'
              eobj: '{t1.output.data.eobj}'
              nul: '{t1.output.data.nul}'
              zero: '{t1.output.data.z}'
              three[3]: '{t1.output.data.arr}'
              objN[2]: '{t1.output.data.obj}'
              five[5]: '{t1.output.data.arr}'
              lit:
                x: '{t1.output.data.empty}'
                y: '{t1.output.data.arr}'
                z:
                  w: '{t1.output.data.obj}'
                n: '{t1.output.data.nul}'
              alist: ['{t1.output.data.a}', 'x', '']
              hoist[-]: '{t1.output.data.hoist}'
        w1:
          type: worker
          topic: shapes.work
          input:
            maps:
              n: 1
          job:
            maps:
              back: '{$self.output.data.n}'
      transitions:
        t1:
          - to: w1
"""

ARR = [1, "", None, {"a": ""}, [2, 3]]
OBJ = {"inner": {"deep": "", "v": 1}, "list": [1, 2], "e": "", "nul": None}


def _echo(message: WorkerMessage) -> dict[str, Any]:
    return dict(message.data)


PAYLOAD = {
    "arr": ARR,
    "obj": OBJ,
    "a": "A",
    "empty": "",
    "eobj": {},
    "nul": None,
    "z": 0,
    "hoist": {"_s": "a", "-m": 1, "q": 2, "lit": {"y": "H"}},
}


def test_values_are_kept_along_the_declared_paths(mesh) -> None:
    hm = mesh("shapes", SHAPES, {"shapes.work": _echo})
    data = hm.pubsub("shapes.test", PAYLOAD)
    assert data == {
        # a key declared whole keeps its value as it is, empty strings inside included
        "whole": ARR,
        "obj": OBJ,
        "eobj": {},
        "nul": None,
        "zero": 0,
        # (an empty string at a declared path is not kept: no "empty")
        # name[N]: the first N items, by index, without the empty string
        "three": {"0": 1, "2": None},
        "five": {"0": 1, "2": None, "3": {"a": ""}, "4": [2, 3]},
        # (objN[2]: the object has no key "0" or "1", so nothing is kept)
        # the hoisted "lit" replaced the literal one (and keeps its declared paths)
        "lit": {"y": "H"},
        # declared nowhere: the original drops a hoisted "q"; we keep it (see _job_paths)
        "q": 2,
        # a literal list declares its indices
        "alist": {"0": "A", "1": "x"},
        "back": 1,
    }


def test_a_literal_object_keeps_its_members_one_by_one(mesh) -> None:
    hm = mesh("shapes", SHAPES, {"shapes.work": _echo})
    data = hm.pubsub("shapes.test", {"arr": ARR, "obj": OBJ, "empty": "", "hoist": {}})
    assert data["lit"] == {"y": ARR, "z": {"w": OBJ}}  # x was "", n undefined
    assert data["three"] == {"0": 1, "2": None}


ORDER = """
app:
  id: order
  version: '1'
  graphs:
    - subscribes: order.test
      activities:
        t1:
          type: trigger
          job:
            maps:
              k[2]: '{t1.output.data.arr}'
              k: plain
              h: plain
              hoist[-]: '{t1.output.data.hoist}'
"""


def test_suffixed_keys_are_applied_after_the_plain_ones(mesh) -> None:
    # As the original's mapJobData: plain keys first, then name[N] and the hoists,
    # each overwriting what came before. "k" is also declared whole (by the plain
    # key), so the array is kept whole.
    hm = mesh("order", ORDER)
    data = hm.pubsub("order.test", {"arr": ["a", "b", "c"], "hoist": {"h": "hoisted", "x": 1}})
    assert data == {"k": ["a", "b", "c"], "h": "hoisted", "x": 1}  # (x: see _job_paths)


MERGE = """
app:
  id: merge
  version: '1'
  graphs:
    - subscribes: merge.test
      activities:
        t1:
          type: trigger
          job:
            maps:
              out:
                first: '{t1.output.data.a}'
                both: '{t1.output.data.a}'
        w1:
          type: worker
          topic: merge.work
          input:
            maps:
              n: '{t1.output.data.n}'
          job:
            maps:
              out:
                second: '{$self.output.data.n}'
                both: '{$self.output.data.empty}'
      transitions:
        t1:
          - to: w1
"""


def test_a_nested_key_written_by_two_steps_keeps_both(mesh) -> None:
    # Each member is a path of its own: the worker's step adds "second" to what the
    # trigger wrote, and its empty "both" leaves the trigger's value in place.
    def work(message: WorkerMessage) -> dict[str, Any]:
        return {"n": message.data["n"], "empty": ""}

    hm = mesh("merge", MERGE, {"merge.work": work})
    data = hm.pubsub("merge.test", {"a": "A", "n": 2})
    assert data == {"out": {"first": "A", "both": "A", "second": 2}}


INPUT_KEY = """
app:
  id: inkey
  version: '1'
  graphs:
    - subscribes: inkey.test
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: inkey.work
          input:
            maps:
              lit: '{t1.output.data.lit}'
              free: '{t1.output.data.lit}'
          job:
            maps:
              lit:
                y: '{$self.output.data.y}'
      transitions:
        t1:
          - to: w1
"""


def test_an_input_key_named_like_job_data_sets_only_its_declared_paths(mesh) -> None:
    hm = mesh("inkey", INPUT_KEY, {"inkey.work": lambda message: {}})
    data = hm.pubsub("inkey.test", {"lit": {"y": "Y", "z": "not declared"}})
    assert data == {"lit": {"y": "Y"}}


INLINE = """
app:
  id: inline
  version: '1'
  graphs:
    - subscribes: inline.test
      activities:
        t1:
          type: trigger
          job:
            maps:
              out:
                first: '{t1.output.data.a}'
                second: '{t1.output.data.none}'
        w1:
          type: worker
          topic: inline.one
          input:
            maps:
              n: '{t1.output.data.n}'
        w2:
          type: worker
          topic: inline.two
          input:
            maps:
              out:
                second: '{w1.output.data.n}'
      transitions:
        t1:
          - to: w1
        w1:
          - to: w2
"""


def test_an_input_key_merges_even_when_its_step_starts_from_an_answer(mesh) -> None:
    # w1's answer starts w2 in the same step, and w2's input key "out" is job data
    # declared with nested paths (by the trigger): that step reads the job, and keeps
    # what the trigger wrote.
    hm = mesh("inline", INLINE, {"inline.one": _echo, "inline.two": lambda message: {}})
    assert hm.pubsub("inline.test", {"a": "A", "n": 2}) == {"out": {"first": "A", "second": 2}}
