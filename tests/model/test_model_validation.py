"""Every validation error: located by file, line and activity, with a fix in the message."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from hotmesh_nb.errors import DeployError, MappingError, ValidationError
from hotmesh_nb.model import _rules as rules_module
from hotmesh_nb.model import load_app


def block(text: str, indent: int) -> str:
    return textwrap.indent(textwrap.dedent(text).strip("\n"), " " * indent)


def app_yaml(activities: str, transitions: str = "", graph_extra: str = "", more: str = "") -> str:
    """A one-graph app (plus ``more`` graphs) with the given YAML pieces."""
    text = textwrap.dedent(
        """\
        app:
          id: test
          version: '1'
          graphs:
            - subscribes: test.run
        """
    )
    if graph_extra:
        text += block(graph_extra, 6) + "\n"
    text += "      activities:\n" + block(activities, 8) + "\n"
    if transitions:
        text += "      transitions:\n" + block(transitions, 8) + "\n"
    if more:
        text += block(more, 4) + "\n"
    return text


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the ``nth`` line containing ``needle``."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return hits[nth - 1]


def fails(text: str, *, file: str | None = None) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        load_app(text, name=file)
    return info.value


def check(
    text: str,
    needle: str | None,
    activity: str | None,
    *fragments: str,
    nth: int = 1,
) -> ValidationError:
    error = fails(text, file="app.yaml")
    assert error.file == "app.yaml"
    if needle is not None:
        assert error.line == line_of(text, needle, nth), str(error)
    assert error.activity == activity, str(error)
    for fragment in fragments:
        assert fragment in str(error), str(error)
    return error


OK = "t1: {type: trigger}\nw1: {type: worker, topic: work.do}"


def test_error_is_a_deploy_error() -> None:
    error = fails("nothing: here\n")
    assert isinstance(error, DeployError)


# -- the app header ---------------------------------------------------------------------


def test_missing_app() -> None:
    text = "application:\n  id: x\n"
    check(text, "application", None, "no top-level 'app:'")


def test_empty_document() -> None:
    error = fails("# only a comment\n")
    assert "no top-level 'app:'" in str(error)


def test_app_not_a_mapping() -> None:
    check("app: [1, 2]\n", "app:", None, "'app' must be a mapping")


def test_missing_app_id() -> None:
    text = "app:\n  version: '1'\n  graphs: []\n"
    check(text, "app:", None, "'app.id' is missing", "id: myapp")


@pytest.mark.parametrize("bad", ["my_app", "'my app'", "'app.x'", "''"])
def test_bad_app_id(bad: str) -> None:
    text = f"app:\n  id: {bad}\n  version: '1'\n  graphs: []\n"
    error = fails(text)
    assert error.line == 2


def test_app_id_charset_message() -> None:
    text = "app:\n  id: my_app\n  version: '1'\n"
    check(text, "id:", None, "letters, digits and '-'")


def test_reserved_app_id() -> None:
    text = "app:\n  id: a\n  version: '1'\n"
    check(text, "id:", None, "'a' is reserved")


@pytest.mark.parametrize("version", ["", "version: ''\n", "version: [1]\n", "version: true\n"])
def test_missing_version(version: str) -> None:
    text = "app:\n  id: x\n  " + version + "  graphs: []\n" if version else "app:\n  id: x\n"
    check(text, None, None, "'app.version' is missing")


@pytest.mark.parametrize("graphs", ["", "  graphs: []\n", "  graphs: {a: 1}\n"])
def test_missing_graphs(graphs: str) -> None:
    text = "app:\n  id: x\n  version: '1'\n" + graphs
    check(text, None, None, "'app.graphs' is missing or empty")


def test_settings_must_be_a_mapping() -> None:
    text = app_yaml(OK).replace("  version: '1'\n", "  version: '1'\n  settings: [1]\n")
    check(text, "settings", None, "'app.settings' must be a mapping")


# -- graphs -----------------------------------------------------------------------------


def test_graph_not_a_mapping() -> None:
    text = "app:\n  id: x\n  version: '1'\n  graphs:\n    - just a string\n"
    check(text, "just a string", None, "graph 1 must be a mapping")


def test_graph_without_subscribes() -> None:
    text = (
        "app:\n  id: x\n  version: '1'\n  graphs:\n    - activities:\n        t: {type: trigger}\n"
    )
    check(text, "- activities", None, "no 'subscribes' topic")


def test_graph_without_activities() -> None:
    text = "app:\n  id: x\n  version: '1'\n  graphs:\n    - subscribes: x.go\n"
    check(text, "subscribes", None, "has no 'activities'")


def test_graph_with_empty_activities() -> None:
    text = (
        "app:\n  id: x\n  version: '1'\n  graphs:\n    - subscribes: x.go\n      activities: {}\n"
    )
    check(text, "activities", None, "has no 'activities'")


def test_two_graphs_with_one_topic() -> None:
    text = app_yaml(
        OK,
        more="""
        - subscribes: test.run
          activities:
            t2: {type: trigger}
        """,
    )
    check(text, "subscribes: test.run", None, "two graphs subscribe to 'test.run'", nth=2)


def test_graph_without_trigger() -> None:
    text = app_yaml("w1: {type: worker, topic: work.do}")
    check(text, "activities:", None, "has no trigger", "type: trigger")


def test_graph_with_two_triggers() -> None:
    text = app_yaml("t1: {type: trigger}\nt2: {type: trigger}")
    check(text, "t2:", "t2", "more than one trigger ('t1' and 't2')")


def test_bad_publishes_and_graph_sections() -> None:
    error = check(app_yaml(OK, graph_extra="publishes: [x]"), "publishes", None, "topic string")
    assert len(error.errors) == 1  # type: ignore[attr-defined]
    check(app_yaml(OK, graph_extra="input: 3"), "input", None, "graph 'input' must be a mapping")


# -- activities -------------------------------------------------------------------------


def test_unknown_type_suggests_the_nearest() -> None:
    text = app_yaml("t1: {type: trigger}\nw1: {type: wroker, topic: work.do}")
    check(
        text,
        "w1:",
        "w1",
        "unknown activity type 'wroker'",
        "did you mean 'worker'?",
        "trigger, worker, await, hook, signal, cycle, interrupt",
    )


def test_activity_without_type() -> None:
    check(app_yaml("t1: {type: trigger}\nw1: {topic: x}"), "w1:", "w1", "has no 'type'")


def test_activity_not_a_mapping() -> None:
    check(app_yaml("t1: {type: trigger}\nw1: worker"), "w1:", "w1", "must be a mapping")


def test_duplicate_activity_id_in_one_graph_names_both_lines() -> None:
    text = app_yaml("t1: {type: trigger}\nw1: {type: worker, topic: a}\nw1: {type: hook}")
    error = check(text, "w1: {type: hook}", "w1", "duplicate key 'w1'")
    assert f"first defined at line {line_of(text, 'w1:')}" in str(error)
    assert f"again at line {error.line}" in str(error)


def test_duplicate_activity_id_across_graphs() -> None:
    text = app_yaml(
        OK,
        more="""
        - subscribes: other.run
          activities:
            t2: {type: trigger}
            w1: {type: hook}
        """,
    )
    error = check(text, "w1:", "w1", "already used in graph 'test.run'", nth=2)
    assert f"(line {line_of(text, 'w1:')})" in str(error)


def test_worker_and_await_need_a_topic() -> None:
    check(app_yaml("t1: {type: trigger}\nw1:\n  type: worker"), "type: worker", "w1", "'topic'")
    check(
        app_yaml("t1: {type: trigger}\na1:\n  type: await\n  topic: ''"),
        "topic: ''",
        "a1",
        "await activity needs a 'topic'",
    )


def test_signal_needs_topic_and_valid_subtype() -> None:
    check(app_yaml("t1: {type: trigger}\ns1:\n  type: signal"), "type: signal", "s1", "'topic'")
    check(
        app_yaml("t1: {type: trigger}\ns1:\n  type: signal\n  topic: h\n  subtype: some"),
        "subtype: some",
        "s1",
        "'one'",
        "'all'",
    )


def test_cycle_needs_an_ancestor() -> None:
    check(app_yaml("t1: {type: trigger}\nc1:\n  type: cycle"), "type: cycle", "c1", "'ancestor'")


@pytest.mark.parametrize("ancestor", ["h2", "nowhere", "c1"])
def test_cycle_ancestor_must_be_an_ancestor(ancestor: str) -> None:
    text = app_yaml(
        f"t1: {{type: trigger}}\nh1: {{type: hook}}\nh2: {{type: hook}}\n"
        f"c1:\n  type: cycle\n  ancestor: {ancestor}",
        "t1: [{to: h1}, {to: h2}]\nh1: [{to: c1}]",
    )
    check(text, "ancestor:", "c1", f"cycle ancestor '{ancestor}' is not an ancestor", "t1, h1")


def test_cycle_that_is_unreachable() -> None:
    text = app_yaml("t1: {type: trigger}\nh1: {type: hook}\nc1: {type: cycle, ancestor: h1}")
    check(text, "c1:", "c1", "not reachable")


@pytest.mark.parametrize(
    ("retry", "fragment"),
    [
        ("retry: 3", "'retry' must be a mapping"),
        ("retry: {abc: [1]}", "retry key 'abc' is not a status code"),
        ("retry: {'500': 3}", "must be a list starting with a non-negative integer"),
        ("retry: {'500': ['x']}", "must be a list starting"),
        ("retry: {'500': [-1]}", "must be a list starting"),
        ("retry: {'500': []}", "must be a list starting"),
        ("retry: {'500': [true]}", "must be a list starting"),
    ],
)
def test_bad_retry(retry: str, fragment: str) -> None:
    text = app_yaml(f"t1: {{type: trigger}}\nw1:\n  type: worker\n  topic: w\n  {retry}")
    check(text, "retry", "w1", fragment, "retry: {'500': [3]}")


@pytest.mark.parametrize("section", ["input", "output", "job", "hook", "signal", "resolver"])
def test_section_must_be_a_mapping(section: str) -> None:
    text = app_yaml(f"t1: {{type: trigger}}\nh1:\n  type: hook\n  {section}: [1]")
    check(text, f"{section}: [1]", "h1", f"'{section}' must be a mapping")


def test_maps_must_be_a_mapping() -> None:
    text = app_yaml("t1: {type: trigger}\nh1:\n  type: hook\n  job:\n    maps: [1, 2]")
    check(text, "maps:", "h1", "'job.maps' must be a mapping")


def test_stats_must_be_a_mapping() -> None:
    text = app_yaml("t1:\n  type: trigger\n  stats: 7")
    check(text, "stats", "t1", "'stats' must be a mapping")


# -- transitions ------------------------------------------------------------------------


def test_transitions_must_be_a_mapping() -> None:
    check(app_yaml(OK, "- to: w1"), "transitions", None, "'transitions' must be a mapping")


def test_transition_list_must_be_a_list() -> None:
    check(app_yaml(OK, "t1: {to: w1}"), "t1: {to: w1}", "t1", "must be a list")


def test_transition_from_unknown_activity() -> None:
    check(
        app_yaml(OK, "t1: [{to: w1}]\nw2: [{to: t1}]"),
        "w2:",
        None,
        "transition from unknown activity 'w2' (did you mean 'w1'?)",
    )


def test_transition_to_unknown_activity() -> None:
    check(
        app_yaml(OK, "t1:\n  - to: w2"),
        "to: w2",
        "t1",
        "transition to unknown activity 'w2' (did you mean 'w1'?)",
    )


def test_transition_without_to() -> None:
    check(app_yaml(OK, "t1:\n  - from: w1"), "- from", "t1", "'to: <activity id>'")


def test_transition_to_another_graph() -> None:
    text = app_yaml(
        OK,
        "t1:\n  - to: w1\n  - to: w9",
        more="""
        - subscribes: other.run
          activities:
            t9: {type: trigger}
            w9: {type: hook}
        """,
    )
    check(text, "to: w9", "t1", "belongs to graph 'other.run'")


def test_transition_from_another_graph() -> None:
    text = app_yaml(
        OK,
        "w9:\n  - to: w1",
        more="""
        - subscribes: other.run
          activities:
            t9: {type: trigger}
            w9: {type: hook}
        """,
    )
    check(text, "w9:", "w9", "transition from 'w9', which belongs to graph 'other.run'")


def test_transition_to_the_trigger() -> None:
    check(app_yaml(OK, "w1:\n  - to: t1"), "to: t1", "w1", "transition to the trigger 't1'")


def test_transition_loop() -> None:
    text = app_yaml(
        "t1: {type: trigger}\na: {type: hook}\nb: {type: hook}",
        "t1: [{to: a}]\na: [{to: b}]\nb: [{to: a}]",
    )
    check(text, "b: {type", "b", "transitions loop from 'b' back to 'a'", "'cycle'")


def test_duplicate_transition() -> None:
    check(
        app_yaml(OK, "t1:\n  - to: w1\n  - to: w1"),
        "to: w1",
        "t1",
        "two transitions from 't1' to 'w1'",
        nth=2,
    )


@pytest.mark.parametrize(
    ("conditions", "needle", "fragment"),
    [
        ("conditions: [1]", "conditions", "'conditions' must be a mapping"),
        ("conditions: {gate: xor}", "conditions", "'conditions.gate' must be 'and'"),
        ("conditions: {code: abc}", "conditions", "'conditions.code' must be a status code"),
        ("conditions: {code: []}", "conditions", "'conditions.code'"),
        ("conditions: {code: true}", "conditions", "'conditions.code'"),
        ("conditions: {code: 2.5}", "conditions", "'conditions.code'"),
        ("conditions: {code: [200, x]}", "conditions", "'conditions.code'"),
        ("conditions: {match: {expected: 1}}", "conditions", "'match' must be a list"),
        ("conditions:\n  match:\n    - expected: 1", "- expected", "both 'expected' and 'actual'"),
        ("conditions:\n  match:\n    - 7", "- 7", "match entry 1 must be a mapping"),
    ],
)
def test_malformed_conditions(conditions: str, needle: str, fragment: str) -> None:
    text = app_yaml(OK, "t1:\n  - to: w1\n" + textwrap.indent(conditions, "    "))
    check(text, needle, "t1", fragment)


# -- hooks ------------------------------------------------------------------------------

HOOKED = "t1: {type: trigger}\nh1: {type: hook}\nw1: {type: worker, topic: w}"


def hooks_app(hooks: str, more: str = "") -> str:
    return app_yaml(HOOKED, "t1: [{to: h1}, {to: w1}]", graph_extra="hooks:\n" + hooks, more=more)


def test_hooks_must_be_a_mapping() -> None:
    check(app_yaml(OK, graph_extra="hooks: [1]"), "hooks", None, "'hooks' must be a mapping")


def test_hook_rules_must_be_a_list() -> None:
    check(hooks_app("  my.topic: {to: h1}"), "my.topic", None, "needs a list of rules")


def test_hook_rule_without_to() -> None:
    check(hooks_app("  my.topic:\n    - conditions: {}"), "- conditions", None, "'to: <hook")


def test_hook_to_unknown_activity() -> None:
    check(
        hooks_app("  my.topic:\n    - to: h2"),
        "to: h2",
        None,
        "targets 'h2', which is not an activity of this graph (did you mean 'h1'?)",
    )


def test_hook_to_a_non_hook_activity() -> None:
    check(hooks_app("  my.topic:\n    - to: w1"), "to: w1", "w1", "a worker activity")


def test_hook_to_another_graph() -> None:
    more = """
    - subscribes: other.run
      activities:
        t9: {type: trigger}
        h9: {type: hook}
    """
    check(hooks_app("  my.topic:\n    - to: h9", more), "to: h9", None, "graph 'other.run'")


def test_hook_activity_with_two_topics() -> None:
    text = hooks_app("  my.topic:\n    - to: h1\n  your.topic:\n    - to: h1")
    check(text, "- to: h1", "h1", "already listens on hook topic 'my.topic'", nth=2)


def test_hook_topic_in_two_graphs() -> None:
    more = """
    - subscribes: other.run
      hooks:
        my.topic:
          - to: h9
      activities:
        t9: {type: trigger}
        h9: {type: hook}
      transitions:
        t9: [{to: h9}]
    """
    text = hooks_app("  my.topic:\n    - to: h1", more)
    check(text, "my.topic", None, "also declared in graph 'test.run'", nth=2)


def test_hook_conditions_must_be_valid() -> None:
    check(
        hooks_app("  my.topic:\n    - to: h1\n      conditions: 5"), "conditions", "h1", "mapping"
    )
    check(
        hooks_app("  my.topic:\n    - to: h1\n      conditions:\n        match: yes"),
        "match",
        "h1",
        "'match' must be a list",
    )


# -- mapping rules ----------------------------------------------------------------------


@pytest.fixture
def strict_rules(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, str]]:
    """A stand-in ``compile_rule`` that rejects any string containing 'BAD'."""
    seen: list[tuple[Any, str]] = []

    def compile_rule(rule: Any, path: str | None = None) -> Any:
        seen.append((rule, path or ""))
        if "BAD" in repr(rule):
            raise MappingError("unknown function '@bad.fn'", rule=rule, path=path)
        return rule

    monkeypatch.setattr(rules_module, "_compiler", compile_rule)
    return seen


def test_every_rule_is_checked(strict_rules: list[tuple[Any, str]]) -> None:
    text = app_yaml(
        """
        t1:
          type: trigger
          stats: {id: '{$self.input.data.id}', key: k}
          emit: '{$job.data.x}'
        w1:
          type: worker
          topic: '{t1.output.data.topic}'
          input: {maps: {a: '{t1.output.data.a}'}}
          output: {maps: {b: 1}}
          job: {maps: {c: 2}}
          persist: false
          statusThreshold: 1
        a1: {type: await, topic: x, await: false}
        h1: {type: hook, sleep: 5, hook: {maps: {d: 3}}}
        s1:
          type: signal
          topic: t
          signal: {maps: {e: 4}}
          resolver: {maps: {f: 5}}
        i1: {type: interrupt, target: '{t1.output.data.id}', throw: false, expire: 3}
        """,
        """
        t1:
          - to: w1
            conditions:
              match: [{expected: true, actual: '{t1.output.data.ok}'}]
        """,
        graph_extra="expire: 10\npersistent: true",
    )
    load_app(text)
    paths = {path for _, path in strict_rules}
    assert {
        "test.run.expire",
        "test.run.persistent",
        "t1.stats.id",
        "t1.stats.key",
        "t1.emit",
        "w1.topic",
        "w1.input.maps.a",
        "w1.output.maps.b",
        "w1.job.maps.c",
        "w1.persist",
        "w1.statusThreshold",
        "a1.topic",
        "a1.await",
        "h1.sleep",
        "h1.hook.maps.d",
        "s1.topic",
        "s1.signal.maps.e",
        "s1.resolver.maps.f",
        "i1.target",
        "i1.throw",
        "i1.expire",
        "t1->w1.conditions.match[0].expected",
        "t1->w1.conditions.match[0].actual",
    } <= paths


@pytest.mark.usefixtures("strict_rules")
def test_malformed_rule_becomes_a_validation_error() -> None:
    text = app_yaml(
        "t1: {type: trigger}\nw1:\n  type: worker\n  topic: w\n  job:\n    maps:\n"
        "      total: {'@pipe': [['{@BAD}']]}"
    )
    check(
        text,
        "total:",
        "w1",
        "malformed mapping rule w1.job.maps.total: unknown function '@bad.fn'",
        "'@pipe'",
    )


@pytest.mark.usefixtures("strict_rules")
def test_malformed_rules_in_conditions_and_hooks() -> None:
    text = app_yaml(
        OK, "t1:\n  - to: w1\n    conditions:\n      match:\n        - {expected: 1, actual: BAD}"
    )
    check(text, "actual: BAD", "t1", "t1->w1.conditions.match[0].actual")
    text = hooks_app(
        "  my.topic:\n    - to: h1\n      conditions:\n        match:\n"
        "          - expected: 1\n            actual: '{BAD}'"
    )
    check(text, "actual:", "h1", "hooks.my.topic.match[0].actual")
    check(app_yaml(OK, graph_extra="expire: BAD"), "expire", None, "test.run.expire")


# -- reporting --------------------------------------------------------------------------


def test_all_problems_are_reported_first_one_located() -> None:
    text = app_yaml(
        "t1: {type: trigger}\nw1: {type: worker}\nc1: {type: cycle}\nx1: {type: nope}",
        "t1: [{to: zz}]",
    )
    error = check(text, "w1:", "w1", "3 more problem(s)", "'ancestor'", "'nope'", "'zz'")
    errors = error.errors  # type: ignore[attr-defined]
    assert [e.activity for e in errors] == ["w1", "c1", "x1", "t1"]
    assert all(isinstance(e, ValidationError) and e.file == "app.yaml" for e in errors)


# -- files ------------------------------------------------------------------------------


def test_yaml_syntax_error_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("app:\n  id: x\n  graphs: [\n    {a: 1\n")
    with pytest.raises(ValidationError, match="YAML syntax error") as info:
        load_app(path)
    assert info.value.file == str(path)
    assert info.value.line is not None and info.value.line >= 4


def test_duplicate_key_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(app_yaml(OK).replace("t1: {type: trigger}", "t1: {type: trigger, type: hook}"))
    with pytest.raises(ValidationError, match="duplicate key 'type'") as info:
        load_app(str(path))
    assert info.value.file == str(path)
    assert info.value.line == line_of(path.read_text(), "t1:")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="file not found") as info:
        load_app(tmp_path / "nope.yaml")
    assert info.value.file == str(tmp_path / "nope.yaml")


def test_directory_is_not_an_app(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot read"):
        load_app(tmp_path)


@pytest.mark.parametrize("source", [b"app:", 42, None, "bad\0path"])
def test_unusable_source(source: Any) -> None:
    with pytest.raises(ValidationError, match="YAML text or the path"):
        load_app(source)


def test_app_id_with_trailing_newline_is_rejected() -> None:
    text = "app:\n  id: |\n    myapp\n  version: '1'\n"
    check(text, "id:", None, "letters, digits and '-'")
