"""The committed tutorials: outputs a reader can trust (their execution is nbval's job)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MACHINE_ROOTS = ("/work/", "/tmp/", "/root/", "/home/", "/Users/", "/private/", "/var/")


def outputs(path: Path) -> list[tuple[int, dict]]:
    nb = json.loads(path.read_text())
    return [
        (index, output)
        for index, cell in enumerate(nb["cells"])
        for output in cell.get("outputs", [])
    ]


def test_there_are_five_tutorials() -> None:
    names = [p.name for p in NOTEBOOKS]
    assert names[:5] == [
        "01-hotmesh.ipynb",
        "02-meshcall.ipynb",
        "03-meshflow.ipynb",
        "04-meshdata.ipynb",
        "05-operations.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_hold_no_machine_paths(path: Path) -> None:
    for index, output in outputs(path):
        text = json.dumps(output)
        found = [root for root in MACHINE_ROOTS if root in text]
        assert not found, f"cell {index} of {path.name} shows a machine path ({found})"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_widget_output_without_its_state_or_a_snapshot(path: Path) -> None:
    nb = json.loads(path.read_text())
    saved = nb["metadata"].get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    models = set(saved.get("state", {}))
    for index, output in outputs(path):
        data = output.get("data", {})
        assert "model not found" not in json.dumps(output), f"cell {index} of {path.name}"
        if WIDGET_VIEW in data:
            assert data[WIDGET_VIEW]["model_id"] in models, (
                f"cell {index} of {path.name} shows a widget whose state is not saved; "
                "run notebooks/refresh.py, which keeps its static snapshot"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_outputs_hold_no_errors_but_the_ones_shown_on_purpose(path: Path) -> None:
    nb = json.loads(path.read_text())
    for index, cell in enumerate(nb["cells"]):
        expected = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        for output in cell.get("outputs", []):
            if output["output_type"] == "error":
                assert expected, f"cell {index} of {path.name} failed"
                assert len("\n".join(output["traceback"]).splitlines()) <= 10  # a short block
