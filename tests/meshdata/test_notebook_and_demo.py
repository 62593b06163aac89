"""``%hotmesh search`` in a real IPython shell, and the MeshData demo."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.getipython import get_ipython
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython
from md_helpers import load_herd

import hotmesh_nb
from hotmesh_nb import MeshData
from hotmesh_nb.meshdata._meshdata_demo import run_demo
from hotmesh_nb.notebook import _magics as magics
from hotmesh_nb.runtime import get_runtime


@pytest.fixture
def shell(redis_url: str) -> Iterator[InteractiveShell]:
    start_ipython()
    ip = get_ipython()
    assert ip is not None
    ip.run_line_magic("load_ext", "hotmesh_nb")
    yield ip
    ip.run_line_magic("unload_ext", "hotmesh_nb")
    hotmesh_nb.shutdown()


def test_hotmesh_search_shows_a_typed_frame(
    shell: InteractiveShell, md: MeshData, redis_url: str, namespace: str
) -> None:
    load_herd(md)
    shell.run_line_magic("hotmesh", f"connect {redis_url} --namespace {namespace}")
    frame = shell.run_line_magic("hotmesh", 'search animal "@_legs:[4 +inf]" --sort weight')
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.index) == ["animal-mouse", "animal-cat", "animal-dog"]
    assert str(frame["name"].dtype) == "category"
    everything = shell.run_line_magic("hotmesh", "search animal")
    assert len(everything) == 5
    with pytest.raises(UsageError, match="usage: %hotmesh search"):
        shell.run_line_magic("hotmesh", "search")
    with pytest.raises(UsageError, match="invalid int value"):
        shell.run_line_magic("hotmesh", "search animal --limit many")
    with pytest.raises(UsageError, match="fallback search index does not support"):
        shell.run_line_magic("hotmesh", 'search animal "ca*"')
    assert "search ENTITY" in magics.help_text()


def test_the_demo_creates_records_and_finds_the_last_word(redis_url: str) -> None:
    lines = get_runtime().run(run_demo(redis_url, ["cat", "dog", "mouse"]))
    assert (
        "exec word-mouse -> {'word': 'mouse', 'letters': 5, 'sentence': 'the mouse was here'}"
        in lines
    )
    assert "find_where word = 'mouse' -> 1 record(s) (query @_word:{mouse})" in lines
    assert "records with 4+ letters: 1" in lines
    again = get_runtime().run(run_demo(redis_url, ["cat", "dog", "mouse"]))  # re-runnable
    assert again[2:] == lines[2:]
    hotmesh_nb.shutdown()
