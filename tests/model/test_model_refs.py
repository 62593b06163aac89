"""``$ref`` between files: relative paths, JSON pointers, sibling keys, cycles, errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hotmesh_nb.errors import ValidationError
from hotmesh_nb.model import load_app


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def main_app(tmp_path: Path, graphs: str) -> Path:
    return write(
        tmp_path / "app.yaml",
        "app:\n  id: refs\n  version: '1'\n  graphs:\n" + textwrap.indent(graphs, "    "),
    )


GRAPH = """
subscribes: g.run
activities:
  t1: {type: trigger}
  w1: {type: worker, topic: w}
transitions:
  t1: [{to: w1}]
"""


def test_graph_from_another_file(tmp_path: Path) -> None:
    write(tmp_path / "graphs" / "g.yaml", GRAPH)
    app = load_app(main_app(tmp_path, "- $ref: ./graphs/g.yaml\n"))
    w1 = app.activity("w1")
    assert w1.file == str(tmp_path / "graphs" / "g.yaml")
    assert w1.line == 4 and w1.parent == "t1"


def test_nested_refs_resolve_relative_to_their_file(tmp_path: Path) -> None:
    write(
        tmp_path / "graphs" / "g.yaml",
        """
        subscribes: g.run
        activities:
          $ref: ./parts/activities.yaml
        transitions:
          $ref: ../shared.yaml#/flows/~1t~0x
        """,
    )
    write(
        tmp_path / "graphs" / "parts" / "activities.yaml",
        """
        t1: {type: trigger}
        w1:
          $ref: ../../shared.yaml#/workers/0
        """,
    )
    write(
        tmp_path / "shared.yaml",
        "workers:\n  - {type: worker, topic: shared.w}\nflows:\n  /t~x:\n    t1: [{to: w1}]\n",
    )
    app = load_app(main_app(tmp_path, "- $ref: graphs/g.yaml\n"))
    assert app.activity("w1").topic == "shared.w"
    # An activity is located where its id is written.
    assert app.activity("w1").file == str(tmp_path / "graphs" / "parts" / "activities.yaml")
    # The '/t~x' key is reached through pointer escapes ('~1' is '/', '~0' is '~').
    assert app.activity("w1").parent == "t1"


def test_internal_pointer_and_sibling_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path / "app.yaml",
        """
        defaults:
          worker: {type: worker, topic: default.topic, retry: {'500': [2]}}
        app:
          id: refs
          version: '1'
          graphs:
            - subscribes: g.run
              activities:
                t1: {type: trigger}
                w1:
                  $ref: '#/defaults/worker'
                  topic: special.topic
                w2:
                  $ref: '#/defaults/worker'
              transitions:
                t1: [{to: w1}, {to: w2}]
        """,
    )
    app = load_app(path)
    assert app.activity("w1").topic == "special.topic"
    assert app.activity("w1").retry == {"500": [2]}
    assert app.activity("w2").topic == "default.topic"


def test_inline_text_refs_use_base_dir(tmp_path: Path) -> None:
    write(tmp_path / "g.yaml", GRAPH)
    text = "app:\n  id: refs\n  version: '1'\n  graphs:\n    - $ref: g.yaml\n"
    app = load_app(text, base_dir=tmp_path)
    assert app.activity("w1").file == str(tmp_path / "g.yaml")


def test_inline_text_refs_default_to_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "g.yaml", GRAPH)
    monkeypatch.chdir(tmp_path)
    app = load_app("app:\n  id: refs\n  version: '1'\n  graphs:\n    - $ref: g.yaml\n")
    assert app.activity("t1").children == ("w1",)


def test_a_file_referenced_twice_is_shared(tmp_path: Path) -> None:
    write(tmp_path / "hook.yaml", "type: hook\njob: {maps: {done: true}}\n")
    write(
        tmp_path / "g.yaml",
        """
        subscribes: g.run
        activities:
          t1: {type: trigger}
          h1: {$ref: hook.yaml}
          h2: {$ref: ./hook.yaml}
        transitions:
          t1: [{to: h1}, {to: h2}]
        """,
    )
    app = load_app(main_app(tmp_path, "- $ref: g.yaml\n"))
    assert app.activity("h1").config == app.activity("h2").config
    assert app.activity("h1").config is not app.activity("h2").config  # each its own copy


def ref_error(path: Path) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        load_app(path)
    return info.value


def test_cycle_between_files(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "x:\n  $ref: b.yaml\n")
    write(tmp_path / "b.yaml", "y:\n  $ref: a.yaml\n")
    error = ref_error(main_app(tmp_path, "- $ref: a.yaml\n"))
    assert "circular $ref" in str(error) and "a.yaml" in str(error)
    assert error.file == str(tmp_path / "b.yaml") and error.line == 2


def test_self_reference(tmp_path: Path) -> None:
    path = write(tmp_path / "app.yaml", "app:\n  id: x\n  loop:\n    $ref: '#/app'\n")
    error = ref_error(path)
    assert "circular $ref" in str(error) and error.line == 4


def test_reference_to_the_root_from_inside(tmp_path: Path) -> None:
    path = write(tmp_path / "app.yaml", "app:\n  id: x\n  loop: {$ref: '#'}\n")
    assert "circular $ref" in str(ref_error(path))


def test_missing_referenced_file(tmp_path: Path) -> None:
    error = ref_error(main_app(tmp_path, "- $ref: ./graphs/missing.yaml\n"))
    assert error.file == str(tmp_path / "app.yaml") and error.line == 5
    assert "missing.yaml" in str(error) and "file not found" in str(error)


def test_missing_pointer_target(tmp_path: Path) -> None:
    write(tmp_path / "g.yaml", GRAPH)
    error = ref_error(main_app(tmp_path, "- $ref: g.yaml#/nope\n"))
    assert "'nope' not found" in str(error) and error.line == 5


@pytest.mark.parametrize(
    ("ref", "fragment"),
    [
        ("3", "$ref must be a string"),
        ("''", "$ref must be a string"),
        ("http://example.com/g.yaml", "only local files"),
        ("'g.yaml#nope'", "JSON pointer"),
    ],
)
def test_malformed_refs(tmp_path: Path, ref: str, fragment: str) -> None:
    write(tmp_path / "g.yaml", GRAPH)
    error = ref_error(main_app(tmp_path, f"- $ref: {ref}\n"))
    assert fragment in str(error) and error.line == 5


def test_pointer_into_a_list(tmp_path: Path) -> None:
    write(
        tmp_path / "lib.yaml",
        "graphs:\n" + textwrap.indent("- " + GRAPH.strip().replace("\n", "\n  "), "  "),
    )
    app = load_app(main_app(tmp_path, "- $ref: lib.yaml#/graphs/0\n"))
    assert app.graphs[0].subscribes == "g.run"
    error = ref_error(main_app(tmp_path, "- $ref: lib.yaml#/graphs/3\n"))
    assert "'3' not found" in str(error)


def test_siblings_need_a_mapping_target(tmp_path: Path) -> None:
    write(tmp_path / "list.yaml", "- 1\n- 2\n")
    error = ref_error(main_app(tmp_path, "- $ref: list.yaml\n  extra: 1\n"))
    assert "only a mapping can be extended" in str(error)


def test_errors_inside_a_referenced_file_name_that_file(tmp_path: Path) -> None:
    write(
        tmp_path / "g.yaml",
        """
        subscribes: g.run
        activities:
          t1: {type: trigger}
          w1: {type: worker}
        """,
    )
    error = ref_error(main_app(tmp_path, "- $ref: g.yaml\n"))
    assert error.file == str(tmp_path / "g.yaml") and error.line == 4 and error.activity == "w1"


def test_syntax_error_inside_a_referenced_file(tmp_path: Path) -> None:
    write(tmp_path / "g.yaml", "subscribes: [oops\n")
    error = ref_error(main_app(tmp_path, "- $ref: g.yaml\n"))
    assert error.file == str(tmp_path / "g.yaml") and "YAML syntax error" in str(error)


def test_duplicate_activity_in_a_referenced_file(tmp_path: Path) -> None:
    write(tmp_path / "acts.yaml", "t1: {type: trigger}\nw1: {type: hook}\nw1: {type: hook}\n")
    write(tmp_path / "g.yaml", "subscribes: g.run\nactivities: {$ref: acts.yaml}\n")
    error = ref_error(main_app(tmp_path, "- $ref: g.yaml\n"))
    assert error.file == str(tmp_path / "acts.yaml") and error.line == 3
    assert "first defined at line 2" in str(error)


def test_pointer_through_a_ref_back_to_itself(tmp_path: Path) -> None:
    path = write(tmp_path / "app.yaml", "app:\n  $ref: '#/app'\n")
    assert "circular $ref" in str(ref_error(path))


def test_pointer_through_a_ref(tmp_path: Path) -> None:
    write(tmp_path / "g.yaml", GRAPH)
    path = write(
        tmp_path / "app.yaml",
        """
        lib:
          $ref: g.yaml
        app:
          id: x
          version: '1'
          graphs:
            - subscribes: other
              activities:
                t9: {type: trigger}
                w9:
                  $ref: '#/lib/activities/w1'
              transitions:
                t9: [{to: w9}]
        """,
    )
    assert load_app(path).activity("w9").topic == "w"
