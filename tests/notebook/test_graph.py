"""App graphs: DOT and text DAG from a compiled app, job painting, SVG rendering, reprs."""

from __future__ import annotations

import html
import re
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from nb_apps import BRANCHES, SEED

from hotmesh_nb.meshflow._factory import APP_VERSION
from hotmesh_nb.model import load_app
from hotmesh_nb.notebook import GraphView
from hotmesh_nb.notebook import _render as render
from hotmesh_nb.notebook._graph import (
    STATE_STYLES,
    TYPE_STYLES,
    ActivityState,
    DagBuilder,
    JobMark,
    format_duration,
)
from hotmesh_nb.notebook._paint import job_status, overlay

ALL_TYPES = """
app:
  id: kinds
  version: '2'
  graphs:
    - subscribes: kinds.go
      publishes: kinds.done
      activities:
        t1: {type: trigger}
        w1: {type: worker, topic: kinds.work}
        a1: {type: await, topic: kinds.child}
        h1: {type: hook}
        s1: {type: signal, topic: kinds.resume, signal: {maps: {id: '{t1.output.data.id}'}}}
        c1: {type: cycle, ancestor: h1}
        i1: {type: interrupt}
      transitions:
        t1: [{to: w1}, {to: a1}, {to: h1}, {to: s1}]
        h1: [{to: c1}]
        w1:
          - to: i1
            conditions:
              code: [500, 404]
      hooks:
        kinds.resume:
          - to: h1
            conditions:
              match:
                - expected: '{t1.output.data.id}'
                  actual: '{$self.hook.data.id}'
    - subscribes: kinds.child
      activities:
        ct: {type: trigger}
"""

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def node_attrs(dot: str, node: str) -> str:
    match = re.search(rf'^\s*"{re.escape(node)}" \[(.*)\]$', dot, re.MULTILINE)
    assert match, f"no node {node} in\n{dot}"
    return match.group(1)


def edge_attrs(dot: str, source: str, target: str) -> str:
    match = re.search(rf'^\s*"{re.escape(source)}" -> "{re.escape(target)}" \[(.*)\]$', dot, re.M)
    assert match, f"no edge {source} -> {target} in\n{dot}"
    return match.group(1)


def test_each_activity_type_has_its_own_shape_and_colour() -> None:
    dot = DagBuilder(load_app(ALL_TYPES)).dot()
    for node, kind in [
        ("t1", "trigger"),
        ("w1", "worker"),
        ("a1", "await"),
        ("h1", "hook"),
        ("s1", "signal"),
        ("c1", "cycle"),
        ("i1", "interrupt"),
    ]:
        shape, fill, border = TYPE_STYLES[kind]
        attrs = node_attrs(dot, node)
        assert f'shape="{shape}"' in attrs and f'fillcolor="{fill}"' in attrs, (node, attrs)
        assert f'color="{border}"' in attrs
    assert len({style[:2] for style in TYPE_STYLES.values()}) == len(TYPE_STYLES)


def test_colours_are_six_digit_hex_only() -> None:
    dot = DagBuilder(load_app(ALL_TYPES), {"t1": ActivityState("done")}, JobMark("j", "done")).dot()
    colours = re.findall(r'color="([^"]*)"', dot)
    assert colours and all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colours), colours


def test_edges_carry_conditions_and_hooks_cycles_and_links() -> None:
    spec = load_app(ALL_TYPES)
    dot = DagBuilder(spec).dot()
    assert "label" not in edge_attrs(dot, "t1", "w1")  # unconditional: no label
    assert 'label="code 500|404"' in edge_attrs(dot, "w1", "i1")
    hook = edge_attrs(dot, "hook topic kinds.resume", "h1")
    assert 'style="dashed"' in hook and "{$self.hook.data.id} = {t1.output.data.id}" in hook
    assert 'shape="note"' in node_attrs(dot, "hook topic kinds.resume")
    back = edge_attrs(dot, "c1", "h1")
    assert 'label="cycle"' in back and 'constraint="false"' in back
    assert 'label="signal"' in edge_attrs(dot, "s1", "hook topic kinds.resume")
    assert 'label="await"' in edge_attrs(dot, "a1", "ct")
    assert "subgraph cluster_0" in dot and "subgraph cluster_1" in dot  # two graphs


def test_match_conditions_are_summarised_on_edges() -> None:
    dot = DagBuilder(load_app(BRANCHES)).dot()
    assert 'label="{check.output.data.big} = true"' in edge_attrs(dot, "check", "big")
    assert 'label="{check.output.data.big} = false"' in edge_attrs(dot, "check", "small")
    assert 'label="code 500"' in edge_attrs(dot, "check", "failed")


def test_text_dag_is_an_indented_tree() -> None:
    text = DagBuilder(load_app(ALL_TYPES)).text()
    assert text.splitlines()[:3] == [
        "kinds v2",
        "graph kinds.go (publishes kinds.done)",
        "  t1 [trigger]",
    ]
    assert "    -> w1 [worker kinds.work]" in text
    assert "      -> i1 [interrupt] | when code 500|404" in text
    assert "      -> c1 [cycle to h1]" in text and "        => h1 (cycle)" in text
    assert "  hook topic kinds.resume ~> h1" in text
    assert "graph kinds.child\n  ct [trigger]" in text


def test_a_job_overlay_paints_states_and_durations() -> None:
    states = {
        "t1": ActivityState("done", timedelta(0)),
        "check": ActivityState("done", timedelta(milliseconds=12)),
        "big": ActivityState("running", timedelta(seconds=1.5)),
        "failed": ActivityState("error", timedelta(minutes=2), runs=2),
    }
    builder = DagBuilder(load_app(BRANCHES), states, JobMark("job-1", "running"))
    dot = builder.dot()
    for node, state in [("check", "done"), ("big", "running"), ("small", "not reached")]:
        fill = STATE_STYLES[state][0]
        assert f'fillcolor="{fill}"' in node_attrs(dot, node), node
    assert "dashed" in node_attrs(dot, "small")
    assert 'penwidth="2"' in edge_attrs(dot, "check", "big")  # taken
    assert 'label="branches v1 - job: running\\njob job-1\\ngreen done' in dot  # id, legend
    assert 'color="#bbbbbb"' in edge_attrs(dot, "check", "small")  # not taken
    text = builder.text()
    assert text.startswith("branches v1 - job job-1: running\n")
    assert "-> check [worker branches.check] | done 12 ms" in text
    assert "-> big [worker branches.big] | running 1.5 s | when" in text
    assert "-> failed [worker branches.small] | error 2.0 min x2 | when code 500" in text
    assert "-> small [worker branches.small] | not reached | when" in text


def test_layout_does_not_depend_on_durations_or_job_ids() -> None:
    spec = load_app(BRANCHES)
    fast = {"t1": ActivityState("done", timedelta(0)), "check": ActivityState("done")}
    slow = {
        "t1": ActivityState("done", timedelta(hours=3)),
        "check": ActivityState("done", timedelta(seconds=42.5), runs=12),
    }
    first = GraphView(spec, fast, JobMark("Hiiiiiiiiiiiiiiiiiiiiii", "done")).svg()
    second = GraphView(spec, slow, JobMark("HWWWWWWWWWWWWWWWWWWWWWW", "done")).svg()
    # The project installs a Graphviz binary (graphviz-pure): drawing must work.
    assert first is not None and second is not None
    without_text = re.compile(r">[^<]*</text>")
    assert without_text.sub(">", first) == without_text.sub(">", second)


def test_durations_are_short_and_readable() -> None:
    assert [format_duration(timedelta(seconds=s)) for s in (0, 0.0123, 1.25, 75, 7200)] == [
        "0 ms",
        "12 ms",
        "1.2 s",
        "1.2 min",
        "2.0 h",
    ]
    assert format_duration(None) == ""


def test_overlay_merges_dimensions_and_flags_errors() -> None:
    step = timedelta(milliseconds=10)
    timeline = [
        {"activity": "t1", "start": T0, "end": T0, "status": "done"},
        {"activity": "h1", "start": T0, "end": T0 + step, "status": "success"},
        {"activity": "h1", "start": T0 + 2 * step, "end": T0 + 3 * step, "status": "success"},
        {"activity": "w1", "start": T0 + step, "end": T0 + 2 * step, "status": "error"},
        {"activity": "w2", "start": T0 + step, "end": None, "status": "pending"},
        {"activity": "w3", "start": None, "end": T0 + step, "status": "success"},
    ]
    states = overlay(timeline, now=T0 + 10 * step)
    assert states["t1"] == ActivityState("done", timedelta(0), 1)
    assert states["h1"] == ActivityState("done", 3 * step, 2)
    assert states["w1"].status == "error"
    assert states["w2"] == ActivityState("running", 9 * step, 1)
    assert states["w3"] == ActivityState("done", None, 1)  # no start recorded: no duration


@pytest.mark.parametrize(
    ("semaphore", "failed", "label"),
    [
        (2, False, "running"),
        (0, False, "done"),
        (0, True, "error"),
        (-1, False, "pending"),
        (-100_000_000, True, "interrupted"),
        (None, False, "unknown"),
    ],
)
def test_job_status_labels(semaphore: int | None, failed: bool, label: str) -> None:
    assert job_status(semaphore, failed) == label


# -- rendering ----------------------------------------------------------------------------


def test_svg_is_deterministic_and_clean() -> None:
    spec = load_app(ALL_TYPES)
    first, second = GraphView(spec).svg(), GraphView(spec).svg()
    # The project installs a Graphviz binary (graphviz-pure): drawing must work.
    assert first is not None
    assert first == second  # same input, same bytes
    assert first.startswith("<svg") and first.endswith("</svg>\n")
    assert "<!--" not in first and "Generated by graphviz" not in first and "<?xml" not in first
    assert "<title>kinds v2</title>" in first


def test_clean_svg_strips_the_version_comment() -> None:
    raw = (
        '<?xml version="1.0"?>\n<!DOCTYPE svg>\n<!-- Generated by graphviz version 2.43.0 (0)\n'
        " -->\n<!-- Title: g Pages: 1 -->\n<svg>\n<!-- a -->\n<g/>\n</svg>\n"
    )
    assert render.clean_svg(raw) == "<svg>\n<g/>\n</svg>\n"


def test_without_a_binary_the_reprs_give_the_text_dag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTMESH_DOT", "none")
    view = GraphView(load_app(SEED))
    bundle = view._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    assert bundle["text/plain"] == (
        "myfirstapp v1\ngraph myfirstapp.test\n  t1 [trigger]\n    -> w1 [worker work.do]\n"
        + render.NO_DOT_HINT
        + "\n"
    )
    assert view._repr_svg_() is None
    assert "<pre>" in view._repr_html_() and "graphviz-pure" in view._repr_html_()


def test_the_lookup_finds_nothing_on_an_empty_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("HOTMESH_DOT", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(render, "script_folders", lambda: [str(tmp_path)])
    assert render.find_dot() is None
    assert render.render_svg("digraph { a -> b }") is None
    assert (
        GraphView(load_app(SEED))
        ._repr_mimebundle_()["text/plain"]
        .endswith(render.NO_DOT_HINT + "\n")
    )


def test_a_named_binary_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "mydot"
    fake.write_text("#!/bin/sh\necho '<?xml?><svg>fake</svg>'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("HOTMESH_DOT", str(fake))
    assert render.find_dot() == fake
    assert GraphView(load_app(SEED)).svg() == "<svg>fake</svg>\n"


def test_a_failing_binary_degrades_to_text(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    broken = tmp_path / "dot"
    broken.write_text("#!/bin/sh\necho boom >&2\nexit 3\n")
    broken.chmod(0o755)
    monkeypatch.setenv("HOTMESH_DOT", str(broken))
    bundle = GraphView(load_app(SEED))._repr_mimebundle_()
    assert "image/svg+xml" not in bundle and render.NO_DOT_HINT in bundle["text/plain"]


def test_reprs_never_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    view = GraphView(load_app(SEED))

    def explode() -> str:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(view, "svg", explode)
    assert "kaboom" in view._repr_mimebundle_()["text/plain"]
    assert view._repr_svg_() is None and view._repr_html_() is None
    assert repr(view) == "GraphView(app='myfirstapp', version='1')"


def test_to_graphviz_gives_a_source_object() -> None:
    source = GraphView(load_app(SEED)).to_graphviz()
    assert source.source.startswith('digraph "myfirstapp v1" {')


def test_quotes_and_backslashes_in_rules_are_escaped() -> None:
    yaml_text = textwrap.dedent(
        """
        app:
          id: quoting
          version: '1'
          graphs:
            - subscribes: q.go
              activities:
                t1: {type: trigger}
                w1: {type: worker, topic: q.work}
              transitions:
                t1:
                  - to: w1
                    conditions:
                      match:
                        - expected: 'say "hi" \\\\ bye'
                          actual: '{t1.output.data.x}'
        """
    )
    dot = DagBuilder(load_app(yaml_text)).dot()
    assert '\\"hi\\" \\\\\\\\ ' in edge_attrs(dot, "t1", "w1")
    view = GraphView(load_app(yaml_text))
    if view.svg() is not None:
        assert "say &quot;hi&quot;" in view.svg() or 'say "hi"' in view.svg()


def test_big_graphs_fit_the_width_run_left_to_right_and_show_a_legend() -> None:
    from hotmesh_nb.meshflow._factory import app_yaml

    view = GraphView(load_app(app_yaml()))
    svg = view.svg()
    assert svg is not None and svg.startswith('<svg style="max-width:100%;height:auto" ')
    assert 'rankdir="LR"' in view.source  # a wide fan-out runs down the page
    assert 'rankdir="TB"' in GraphView(load_app(BRANCHES)).source  # a small app stays TB
    painted = GraphView(
        load_app(BRANCHES),
        {"t1": ActivityState("done"), "check": ActivityState("done")},
        JobMark("job-1", "running"),
    )
    assert "red error (hover: why)" in painted.source
    assert "legend" not in view.source and "hover: why" not in view.source


def test_the_path_view_draws_only_the_reached_activities() -> None:
    states = {"t1": ActivityState("done"), "check": ActivityState("done")}
    view = GraphView(load_app(BRANCHES), states, JobMark("job-1", "running")).reached()
    assert '"check" [' in view.source and '"big" [' not in view.source
    assert '"check" -> "big"' not in view.source and '"t1" -> "check"' in view.source
    assert "big" not in view.text()


def test_a_painted_wide_app_shows_the_job_path_and_full_draws_everything() -> None:
    from hotmesh_nb.meshflow._factory import app_yaml

    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    export = {
        "metadata": {"jid": "wf-1", "tpc": "meshflow.execute"},
        "status": 0,
        "timeline": [
            {"activity": a, "dimension": ",0", "status": "success", "start": start, "end": start}
            for a in ("trigger", "run", "wf", "done")
        ],
    }
    view = GraphView.of_job(load_app(app_yaml()), export)
    assert view.reached_only and "[the job's path only]" in view.text()
    assert '"sleeper" [' not in view.source and '"wf" [' in view.source
    assert (view.natural_width() or 0) <= 1000  # fits a notebook with readable labels
    full = view.full()
    assert not full.reached_only and '"sleeper" [' in full.source
    assert '"c_fan" [' not in full.source  # the job's own graph only: it never runs in collate
    wide = full.html() or ""
    assert wide.startswith("<div style='overflow:auto")  # too wide to shrink: it scrolls


def test_the_path_option_of_the_graph_magic_needs_a_job(cell) -> None:
    from IPython.core.error import UsageError

    cell(f"%%hotmesh deploy\n{SEED}")
    with pytest.raises(UsageError, match="--path draws a job's path: name the job with --job ID"):
        cell("%hotmesh graph myfirstapp --path")


def test_condition_labels_sit_beside_their_edges() -> None:
    view = GraphView(load_app(BRANCHES))
    assert 'forcelabels="true"' in view.source
    edges = [line for line in view.source.splitlines() if '"check" -> ' in line]
    assert edges and all(" label=" not in e and "[label=" not in e for e in edges), edges
    assert any('xlabel="code 500"' in e for e in edges), edges
    svg = view.svg() or ""
    assert "{check.output.data.big} = true" in html.unescape(svg)  # drawn, off the line
    assert GraphView(load_app(BRANCHES)).svg() == svg  # still byte-stable


def test_collapsed_graphs_and_branches_make_meshflow_narrower() -> None:
    from hotmesh_nb.meshflow._factory import app_yaml

    spec = load_app(app_yaml())
    full = GraphView(spec)
    view = full.collapse()  # every graph but the entry: meshflow.collate
    assert view.collapsed == {"meshflow.collate"}
    assert '"graph meshflow.collate" [' in view.source and '"c_fan" [' not in view.source
    assert "graph meshflow.collate: 13 activities (collapsed)" in view.text()
    # The collate branch's await now points at the folded graph.
    branches = view.collapse("act", "sleeper", "childer", "collate", "retry_wait")
    source = branches.source
    assert '"branch act" [' in source and '"proxy" [' not in source
    assert '"branch collate" -> "graph meshflow.collate"' in source
    assert source.count('"branch act" -> "run"') == 1  # folded cycle edges are drawn once
    assert '"wf" -> "branch act" [xlabel=' in source  # the condition into the branch stays
    assert "-> act [hook] | when code 589" in branches.text()
    assert "(collapsed: 5 activities)" in branches.text()
    narrow, wide = branches.natural_width() or 0, full.natural_width() or 0
    assert 0 < narrow < wide / 1.5  # about half as wide as the whole app
    assert branches.expand().collapsed == frozenset() and '"proxy" [' in branches.expand().source
    assert branches.expand("act").collapsed == branches.collapsed - {"act"}
    with pytest.raises(ValueError, match="cannot collapse nope: app meshflow has no such graph"):
        full.collapse("nope")


def test_the_graph_magic_collapses_by_name(cell) -> None:
    from IPython.core.error import UsageError

    cell(f"%%hotmesh deploy\n{BRANCHES}")
    view = cell("%hotmesh graph branches --collapse check")
    assert view.collapsed == {"check"} and '"branch check" [' in view.source
    assert "(collapsed: 4 activities)" in view.text()
    with pytest.raises(UsageError, match="cannot collapse nope"):
        cell("%hotmesh graph branches --collapse nope")


def test_the_whole_meshflow_app_is_folded_to_fit_a_notebook() -> None:
    from hotmesh_nb.meshflow._factory import app_yaml
    from hotmesh_nb.notebook._views import FIT_NOTE, FIT_UNITS

    full = GraphView(load_app(app_yaml()))
    assert (full.natural_width() or 0) > FIT_UNITS  # too wide to shrink with readable labels
    view = full.fit()
    assert 0 < (view.natural_width() or 0) <= FIT_UNITS, view.natural_width()
    # The other graph and every branch out of the workflow's fan-out are one node each.
    assert view.collapsed == {"meshflow.collate", "act", "sleeper", "childer", "collate"} | {
        "retry_wait"
    }
    assert '"wf" -> "branch act" [xlabel=' in view.source and '"proxy" [' not in view.source
    assert '"done" [' in view.source and '"fail" [' in view.source  # one-node branches stay
    assert FIT_NOTE in view.source and f"({FIT_NOTE})" in view.text().splitlines()[1]
    assert view.html() == f"<div>{view.svg()}</div>"  # fitted, not a scrolling box
    # Everything again: .full() and .expand() (which also drop the note).
    for every in (view.full(), view.expand()):
        assert '"proxy" [' in every.source and '"c_fan" [' in every.source
        assert FIT_NOTE not in every.source
    # An app that fits is its own fitted view.
    small = GraphView(load_app(BRANCHES))
    assert small.fit() is small


def test_nodes_are_as_wide_as_their_own_text_and_data_topics_are_shortened() -> None:
    from hotmesh_nb.meshflow._factory import app_yaml

    dot = GraphView(load_app(app_yaml())).source
    width = re.compile(r'width="([0-9.]+)"')
    wf, done = (float(width.search(node_attrs(dot, n)).group(1)) for n in ("wf", "done"))
    assert done < wf  # 'done / hook' needs less room than the workflow worker
    assert "worker {trigger…topic}" in node_attrs(dot, "wf")  # {trigger.output.data.topic}


def test_the_graph_magic_fits_by_default_and_draws_everything_with_full(cell) -> None:
    from hotmesh_nb.meshflow._factory import app_yaml
    from hotmesh_nb.notebook._views import FIT_NOTE

    deployed = cell(f"%%hotmesh deploy\n{app_yaml()}")
    assert deployed.note == FIT_NOTE and "meshflow.collate" in deployed.collapsed
    cell(f"%hotmesh activate meshflow {APP_VERSION}")
    assert cell("%hotmesh graph meshflow").collapsed == deployed.collapsed
    every = cell("%hotmesh graph meshflow --full")
    assert every.collapsed == frozenset() and every.note is None and '"c_fan" [' in every.source
    named = cell("%hotmesh graph meshflow --collapse act")  # only what is named
    assert named.collapsed == {"act"} and '"c_fan" [' in named.source
