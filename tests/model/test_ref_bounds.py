"""``$ref`` as an attack: files outside the app, special files, huge files, billion laughs.

Each case is the YAML a hostile author would write; each must be refused with a
clear :class:`ValidationError`, quickly, and read nothing it should not.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from hotmesh_nb.errors import ValidationError
from hotmesh_nb.model import load_app
from hotmesh_nb.model._refs import MAX_NODES
from hotmesh_nb.model._yaml_loader import MAX_FILE_BYTES

GRAPH = """
subscribes: g.run
activities:
  t1: {type: trigger}
  w1: {type: worker, topic: w}
transitions:
  t1: [{to: w1}]
"""


def app_with_ref(folder: Path, ref: str) -> Path:
    """An app whose only graph is ``$ref: <ref>``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "app.yaml"
    path.write_text(f"app:\n  id: refs\n  version: '1'\n  graphs:\n    - $ref: '{ref}'\n")
    return path


def test_a_file_under_the_app_folder_still_resolves(tmp_path: Path) -> None:
    (tmp_path / "app" / "graphs").mkdir(parents=True)
    (tmp_path / "app" / "graphs" / "g.yaml").write_text(GRAPH)
    app = load_app(app_with_ref(tmp_path / "app", "./graphs/g.yaml"))
    assert app.activity("w1").topic == "w"


def test_an_absolute_path_outside_the_app_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="outside the app's folder") as caught:
        load_app(app_with_ref(tmp_path / "app", "/etc/passwd"))
    assert caught.value.file == str(tmp_path / "app" / "app.yaml") and caught.value.line == 5
    assert "root:" not in str(caught.value)  # nothing of the file leaks into the message


def test_a_dot_dot_escape_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.yaml").write_text(GRAPH)
    with pytest.raises(ValidationError, match="outside the app's folder"):
        load_app(app_with_ref(tmp_path / "app", "../secret.yaml"))
    # The same escape hidden in a nested file is refused too.
    (tmp_path / "app" / "sub").mkdir(parents=True)
    (tmp_path / "app" / "sub" / "g.yaml").write_text("$ref: ../../secret.yaml\n")
    with pytest.raises(ValidationError, match="outside the app's folder"):
        load_app(app_with_ref(tmp_path / "app", "sub/g.yaml"))


def test_a_symlink_pointing_outside_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.yaml").write_text(GRAPH)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "g.yaml").symlink_to(tmp_path / "secret.yaml")
    with pytest.raises(ValidationError, match="outside the app's folder"):
        load_app(app_with_ref(tmp_path / "app", "g.yaml"))


def test_a_wider_base_dir_can_be_allowed(tmp_path: Path) -> None:
    (tmp_path / "shared.yaml").write_text(GRAPH)
    app = load_app(app_with_ref(tmp_path / "app", "../shared.yaml"), base_dir=tmp_path)
    assert app.activity("w1").topic == "w"


def test_dev_zero_is_refused_without_reading_it() -> None:
    # base_dir='/' lets the path through the folder check: the file check must stop it.
    text = "app:\n  id: refs\n  version: '1'\n  graphs:\n    - $ref: /dev/zero\n"
    with pytest.raises(ValidationError, match="a device, not a regular file"):
        load_app(text, base_dir="/")
    with pytest.raises(ValidationError, match="outside the app's folder"):
        load_app(text, base_dir=os.getcwd())


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    os.mkfifo(tmp_path / "app" / "g.yaml")
    with pytest.raises(ValidationError, match="a FIFO, not a regular file"):
        load_app(app_with_ref(tmp_path / "app", "g.yaml"))


def test_a_huge_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    with open(tmp_path / "app" / "g.yaml", "w") as handle:
        handle.write("# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    with pytest.raises(ValidationError, match=f"over the {MAX_FILE_BYTES} bytes"):
        load_app(app_with_ref(tmp_path / "app", "g.yaml"))


def laughs(levels: int, width: int = 10) -> str:
    """The 'billion laughs' YAML: each level lists the previous one ``width`` times."""
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels + 1):
        items = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"l{level}: &l{level} [{items}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_inline_is_refused_by_the_cap() -> None:
    text = "app:\n  id: refs\n  version: '1'\n  graphs: []\n" + laughs(9)  # 10**10 values
    with pytest.raises(ValidationError, match=f"more than {MAX_NODES} values"):
        load_app(text)


def test_billion_laughs_through_a_ref_is_refused_by_the_cap(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "lol.yaml").write_text(laughs(9))
    with pytest.raises(ValidationError, match=f"more than {MAX_NODES} values") as caught:
        load_app(app_with_ref(tmp_path / "app", "lol.yaml#/l9"))
    assert caught.value.file == str(tmp_path / "app" / "lol.yaml")


def test_aliases_used_a_reasonable_number_of_times_still_load() -> None:
    text = textwrap.dedent(
        """
        defaults: &worker {type: worker, topic: shared.w, retry: {'500': [2]}}
        app:
          id: refs
          version: '1'
          graphs:
            - subscribes: g.run
              activities:
                t1: {type: trigger}
                w1: *worker
                w2: {<<: *worker, topic: other.w}
              transitions:
                t1: [{to: w1}, {to: w2}]
        """
    )
    app = load_app(text)
    assert app.activity("w1").topic == "shared.w" and app.activity("w2").topic == "other.w"
    assert app.activity("w1").retry == {"500": [2]}
