"""Compiling valid apps: topology, back-references, conditions, lookups, round trip."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

import hotmesh_nb.model as model
from hotmesh_nb.model import (
    ActivitySpec,
    AppSpec,
    GraphSpec,
    HookRuleSpec,
    MatchSpec,
    TransitionSpec,
    load_app,
)

APPS = Path(__file__).parent / "apps"


def load(text: str) -> AppSpec:
    return load_app(textwrap.dedent(text))


def test_public_api_is_curated() -> None:
    assert model.__all__ == sorted(model.__all__)
    for name in model.__all__:
        assert getattr(model, name) is not None


def test_seed_example_from_file() -> None:
    app = load_app(APPS / "seed.yaml")
    assert (app.id, app.version, app.settings) == ("myfirstapp", "1", {})
    assert app.source == str((APPS / "seed.yaml").resolve())
    [graph] = app.graphs
    assert graph.subscribes == "myfirstapp.test"
    assert graph.trigger == "t1"
    assert graph.publishes is None and graph.expire is None
    assert list(graph.activities) == ["t1", "w1"]
    t1, w1 = graph.activities["t1"], graph.activities["w1"]
    assert t1.type == "trigger" and t1.parent is None and t1.ancestors == ()
    assert t1.children == ("w1",)
    assert w1.type == "worker" and w1.topic == "work.do" and w1.subtype == "work.do"
    assert w1.parent == "t1" and w1.ancestors == ("t1",) and w1.children == ()
    assert w1.config == {"type": "worker", "topic": "work.do"}
    assert w1.file == app.source and w1.line == 10
    assert w1.subscribes == "myfirstapp.test" and w1.trigger == "t1"
    assert graph.transitions == {"t1": [TransitionSpec(to="w1", unconditional=True)]}
    assert app.activity("w1") is w1
    assert app.graph_for_topic("myfirstapp.test") is graph
    assert app.graph_for_topic("nope") is None
    assert app.graph_of("w1") is graph


def test_path_given_as_str_and_inline_text_agree() -> None:
    from_path = load_app(str(APPS / "seed.yaml"))
    inline = load_app((APPS / "seed.yaml").read_text())
    assert inline.source is None
    assert inline.activity("w1").file is None
    # Same model apart from where it came from.
    assert from_path.activity("w1").config == inline.activity("w1").config
    assert from_path.activity("w1").line == inline.activity("w1").line


def test_inline_text_starting_with_app_needs_no_newline() -> None:
    app = load_app(
        "app: {id: one, version: 1, graphs: [{subscribes: one.go, "
        "activities: {t: {type: trigger}}}]}"
    )
    assert app.id == "one" and app.version == "1"
    assert app.activity("t").children == ()


def test_inline_name_labels_activities() -> None:
    app = load_app((APPS / "seed.yaml").read_text(), name="<cell 1>")
    assert app.activity("t1").file == "<cell 1>"
    assert app.source == "<cell 1>"


def test_unknown_activity_lookup_names_known_ids() -> None:
    app = load_app(APPS / "seed.yaml")
    with pytest.raises(KeyError, match="known: t1, w1"):
        app.activity("w2")


def test_multi_file_app_with_refs() -> None:
    app = load_app(APPS / "multi" / "app.yaml")
    assert app.settings == {"region": "eu"}
    place, approve = app.graphs
    assert place.subscribes == "order.place" and approve.subscribes == "order.approve"
    assert place.publishes == "order.placed" and place.expire == 120
    assert place.input_schema["properties"]["price"] == {"type": "number"}
    assert place.output_schema == {"type": "object"}
    done = app.activity("place_done")
    assert done.type == "hook" and done.title == "all done"
    assert done.job_maps == {"done": True}
    assert done.file == str((APPS / "multi" / "graphs" / "place.yaml").resolve())
    assert done.ancestors == ("place_trigger", "place_approval")
    awaiter = app.activity("place_approval")
    assert awaiter.topic == "order.approve" and awaiter.awaits is True
    assert awaiter.input_maps == {"price": "{place_trigger.output.data.price}"}
    assert awaiter.output_maps == {}
    assert awaiter.expire == 120 and awaiter.publishes == "order.placed"
    assert app.activity("place_trigger").stats == {"id": "{$self.input.data.order_id}"}
    worker = app.activity("approve_worker")
    assert worker.retry == {"500": [3]}
    assert worker.publishes is None and worker.expire is None
    assert app.graph_of("approve_worker") is approve
    assert set(app.activities) == {
        "place_trigger",
        "place_approval",
        "place_done",
        "approve_trigger",
        "approve_worker",
    }


def test_round_trip_through_json() -> None:
    for app in (load_app(APPS / "multi" / "app.yaml"), load(CYCLE_APP), load(HOOK_APP)):
        text = json.dumps(app.to_dict())
        again = AppSpec.from_dict(json.loads(text))
        assert again == app
        assert again.activity("t1" if "t1" in app.activities else "place_trigger")
        assert again.to_dict() == app.to_dict()


def test_from_dict_rejects_unknown_format() -> None:
    data = load_app(APPS / "seed.yaml").to_dict()
    data["format"] = 99
    with pytest.raises(ValueError, match="redeploy"):
        AppSpec.from_dict(data)


def test_reprs_are_compact() -> None:
    app = load_app(APPS / "seed.yaml")
    assert repr(app) == "AppSpec(id='myfirstapp', version='1', graphs=['myfirstapp.test'])"
    assert repr(app.graphs[0]) == (
        "GraphSpec(subscribes='myfirstapp.test', trigger='t1', activities=['t1', 'w1'])"
    )


CYCLE_APP = """
    app:
      id: cycler
      version: '3'
      graphs:
        - subscribes: cycle.run
          expire: '{t1.output.data.expire}'
          persistent: true
          activities:
            t1: {type: trigger}
            pivot:
              type: hook
              output:
                maps: {counter: 0}
            w1:
              type: worker
              topic: cycle.work
            again:
              type: cycle
              ancestor: pivot
              input:
                maps:
                  counter: {'@pipe': [['{w1.output.data.counter}', 1], ['{@math.add}']]}
            stop:
              type: interrupt
              expire: 5
          transitions:
            t1:
              - to: pivot
            pivot:
              - to: w1
            w1:
              - to: again
                conditions:
                  match:
                    - expected: true
                      actual:
                        '@pipe':
                          - ['{w1.output.data.counter}', 5]
                          - ['{@conditional.less_than}']
              - to: stop
                conditions:
                  code: 500
"""


def test_cycle_marks_its_ancestor() -> None:
    app = load(CYCLE_APP)
    pivot, again = app.activity("pivot"), app.activity("again")
    assert pivot.cycle is True and "cycle" not in pivot.config
    assert again.ancestor == "pivot" and again.ancestors == ("t1", "pivot", "w1")
    assert again.cycle is False
    assert app.activity("w1").children == ("again", "stop")
    graph = app.graphs[0]
    assert graph.expire == "{t1.output.data.expire}" and graph.persistent is True
    assert app.activity("w1").expire == "{t1.output.data.expire}"
    assert app.activity("stop").expire == 5  # an activity's own expire wins
    assert app.activity("w1").persistent is True


def test_explicit_cycle_true_is_kept() -> None:
    app = load(
        """
        app:
          id: c
          version: '1'
          graphs:
            - subscribes: c.go
              activities:
                t1: {type: trigger}
                h1: {type: hook, cycle: true}
              transitions:
                t1: [{to: h1}]
        """
    )
    assert app.activity("h1").cycle is True


HOOK_APP = """
    app:
      id: hooker
      version: '1'
      graphs:
        - subscribes: hook.test
          publishes: hook.tested
          activities:
            t1:
              type: trigger
              emit: true
            waiter:
              type: hook
              hook:
                type: object
                properties: {done: {type: boolean}}
              job:
                maps:
                  done: '{$self.hook.data.done}'
            legacy:
              type: activity
            sleeper:
              type: hook
              sleep: 5
          transitions:
            t1:
              - to: waiter
              - to: legacy
              - to: sleeper
          hooks:
            hook.resume:
              - to: waiter
                conditions:
                  match:
                    - expected: '{t1.output.data.id}'
                      actual: '{$self.hook.data.id}'
        - subscribes: signal.test
          activities:
            st:
              type: trigger
            one:
              type: signal
              topic: hook.resume
              status: pending
              code: 202
              signal:
                maps:
                  id: '{st.output.data.id}'
            everyone:
              type: signal
              subtype: all
              topic: hook.resume
              key_name: parent_job_id
              key_value: '{$job.metadata.jid}'
              resolver:
                maps:
                  data: {parent_job_id: '{$job.metadata.jid}'}
                  scrub: true
              signal:
                maps: {done: true}
          transitions:
            st:
              - to: one
              - to: everyone
"""


def test_hooks_section_back_reference() -> None:
    app = load(HOOK_APP)
    waiter = app.activity("waiter")
    assert waiter.hook_topic == "hook.resume"
    assert waiter.config["hook"]["type"] == "object"  # the schema is left alone
    assert app.activity("sleeper").hook_topic is None and app.activity("sleeper").sleep == 5
    rules = app.graphs[0].hooks["hook.resume"]
    assert rules == [
        HookRuleSpec(
            to="waiter",
            match=(MatchSpec(expected="{t1.output.data.id}", actual="{$self.hook.data.id}"),),
        )
    ]
    assert app.hooks == {"hook.resume": rules}
    assert app.activity("t1").emit is True


def test_legacy_activity_type_becomes_hook() -> None:
    legacy = load(HOOK_APP).activity("legacy")
    assert legacy.type == "hook" and legacy.config["type"] == "hook"


def test_signal_accessors() -> None:
    app = load(HOOK_APP)
    one, everyone = app.activity("one"), app.activity("everyone")
    assert one.subtype == "one" and one.topic == "hook.resume"
    assert one.signal_maps == {"id": "{st.output.data.id}"}
    assert everyone.subtype == "all"
    assert everyone.resolver_maps["scrub"] is True


def conditions_app(extra: str) -> AppSpec:
    """An app whose only transition t1 -> w1 has ``extra`` written beside its ``to``."""
    head = textwrap.dedent(
        """\
        app:
          id: cond
          version: '1'
          graphs:
            - subscribes: cond.go
              activities:
                t1: {type: trigger}
                w1: {type: worker, topic: w}
              transitions:
                t1:
                  - to: w1
        """
    )
    return load_app(head + textwrap.indent(textwrap.dedent(extra).strip("\n"), " " * 12) + "\n")


@pytest.mark.parametrize(
    ("conditions", "code"),
    [
        ("conditions: {}", ("200",)),
        ("conditions: {code: 422}", ("422",)),
        ("conditions: {code: '404'}", ("404",)),
        ("conditions: {code: [200, '202', 588]}", ("200", "202", "588")),
    ],
)
def test_condition_codes_are_normalised_to_strings(conditions: str, code: tuple[str, ...]) -> None:
    [transition] = conditions_app(conditions).graphs[0].transitions["t1"]
    assert transition.code == code
    assert transition.unconditional is False and transition.gate == "and"
    assert transition.accepts_code(code[0]) and transition.accepts_code(int(code[0]))
    assert not transition.accepts_code(599)


def test_condition_gate_and_match() -> None:
    [transition] = (
        conditions_app(
            """
            conditions:
              gate: or
              match:
                - expected: true
                  actual: '{t1.output.data.a}'
                - expected: 3
                  actual: {'@pipe': [['{t1.output.data.b}']]}
            """
        )
        .graphs[0]
        .transitions["t1"]
    )
    assert transition.gate == "or"
    assert transition.match == (
        MatchSpec(True, "{t1.output.data.a}"),
        MatchSpec(3, {"@pipe": [["{t1.output.data.b}"]]}),
    )


def test_code_beside_to_is_ignored() -> None:
    [transition] = conditions_app("code: 500").graphs[0].transitions["t1"]
    assert transition.unconditional is True
    assert transition.accepts_code(500) and transition.accepts_code("200")


def test_null_conditions_mean_unconditional() -> None:
    [transition] = conditions_app("conditions:").graphs[0].transitions["t1"]
    assert transition.unconditional is True


def test_join_and_unreachable_activities() -> None:
    app = load(
        """
        app:
          id: join
          version: '1'
          graphs:
            - subscribes: join.go
              activities:
                t1: {type: trigger}
                a: {type: hook}
                b: {type: hook}
                j: {type: hook}
                lonely: {type: hook}
              transitions:
                t1: [{to: a}, {to: b}]
                a: [{to: j}]
                b: [{to: j}]
        """
    )
    # The first path that reaches an activity (depth first, YAML order) defines it.
    assert app.activity("j").ancestors == ("t1", "a") and app.activity("j").parent == "a"
    assert app.activity("b").children == ("j",)
    assert app.activity("lonely").ancestors == () and app.activity("lonely").parent is None


def test_worker_subtype_wins_over_topic() -> None:
    app = load(
        """
        app:
          id: sub
          version: '1'
          graphs:
            - subscribes: sub.go
              activities:
                t1: {type: trigger}
                w1: {type: worker, subtype: real.topic, topic: other}
                w2: {type: worker, subtype: only.subtype}
                w3: {type: worker, topic: '{t1.output.data.topic}'}
              transitions:
                t1: [{to: w1}, {to: w2}, {to: w3}]
        """
    )
    assert app.activity("w1").topic == "real.topic"
    assert app.activity("w2").topic == "only.subtype"
    assert app.activity("w3").topic == "{t1.output.data.topic}"


def test_yaml_1_2_scalars_and_numeric_keys() -> None:
    app = load(
        """
        app:
          id: scalars
          version: 1.0
          settings: {flag: yes, at: 2024-01-01, n: 1e3, t: 1:30}
          graphs:
            - subscribes: s.go
              activities:
                t1: {type: trigger}
                w1:
                  type: worker
                  topic: w
                  retry: {500: [3], 404: [2]}
              transitions:
                t1: [{to: w1}]
        """
    )
    assert app.version == "1"
    assert app.settings == {"flag": "yes", "at": "2024-01-01", "n": 1000.0, "t": "1:30"}
    assert app.activity("w1").retry == {"500": [3], "404": [2]}


def test_dataclasses_are_frozen() -> None:
    spec = load_app(APPS / "seed.yaml").activity("w1")
    with pytest.raises(AttributeError):
        spec.type = "hook"  # type: ignore[misc]
    assert isinstance(spec, ActivitySpec)
    assert isinstance(load_app(APPS / "seed.yaml").graphs[0], GraphSpec)


def test_accessor_defaults() -> None:
    spec = ActivitySpec(id="x", type="await", config={"type": "await", "topic": "t"})
    assert spec.awaits is True and spec.input_maps == {} and spec.job_maps == {}
    assert spec.hook_maps == {} and spec.retry is None and spec.sleep is None
    assert spec.emit is None and spec.persist is None and spec.status_threshold is None
    assert spec.stats == {} and spec.title is None and spec.ancestor is None
    hook = ActivitySpec(id="h", type="hook", config={"type": "hook", "hook": {"maps": {"a": 1}}})
    assert hook.hook_maps == {"a": 1} and hook.topic is None and hook.subtype is None
