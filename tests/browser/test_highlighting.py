"""``%%hotmesh deploy`` cells are highlighted as YAML in JupyterLab (the prebuilt extension).

A notebook with a deploy cell and a Python cell is opened in a real Chromium;
CodeMirror names each editor's language in ``data-language`` and the extension
gives YAML tokens Lezer's ``tok-*`` classes. Turning a Python cell into a deploy
cell by typing switches it to YAML too. Nothing is executed: highlighting needs
no kernel.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from jlab import ARTEFACTS, Lab
from test_jupyterlab import SEED, open_notebook
from waiting import wait_until

pytestmark = pytest.mark.browser

PYTHON = "from hotmesh_nb import HotMesh\nhm = HotMesh.init('myfirstapp')\n"

# Per code cell: its editor's language, and the words of YAML keys' tokens with their classes.
EDITORS = """
() => [...document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .cm-content')].map(content => ({
  language: content.getAttribute('data-language'),
  tokens: [...content.querySelectorAll('span')].map(s => [s.textContent, s.className]),
}))
"""


def editors(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate(EDITORS))


def yaml_classes(editor: dict[str, Any], word: str) -> str:
    """The classes of the token spelling ``word`` ('' when there is none)."""
    return " ".join(c for text, c in editor["tokens"] if text.strip() == word)


def write_notebook(lab: Lab, name: str, cells: list[str], *, language: bool = True) -> None:
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": c,
                "outputs": [],
                "execution_count": None,
            }
            for c in cells
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3"},
            **(
                {"language_info": {"name": "python", "codemirror_mode": {"name": "ipython"}}}
                if language
                else {}
            ),
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (lab.root / name).write_text(json.dumps(notebook))


@pytest.mark.timeout(240)  # JupyterLab and Chromium start with the first test
def test_a_deploy_cell_is_yaml_and_a_python_cell_stays_python(browser: Any, lab: Lab) -> None:
    page = browser
    write_notebook(lab, "highlight.ipynb", [f"%%hotmesh deploy --activate\n{SEED}", PYTHON])
    open_notebook(page, lab, "highlight.ipynb")

    def highlighted() -> bool:
        found = editors(page)
        return len(found) == 2 and "tok-" in yaml_classes(found[0], "activities")

    wait_until(highlighted, timeout=30)
    page.screenshot(path=str(ARTEFACTS / "highlight.png"))
    deploy, python = editors(page)
    assert deploy["language"] == "yaml", deploy["language"]
    for key in ("app", "graphs", "activities", "type", "topic", "transitions"):
        assert "tok-" in yaml_classes(deploy, key), (key, deploy["tokens"])
    assert python["language"] == "python", python["language"]
    assert not any("tok-" in c for _, c in python["tokens"]), python["tokens"]
    # JupyterLab's own Python highlighting still colours the keyword.
    assert yaml_classes(python, "from"), python["tokens"]


@pytest.mark.timeout(120)
def test_typing_the_magic_switches_a_cell_to_yaml_and_back(browser: Any, lab: Lab) -> None:
    page = browser
    write_notebook(lab, "typing.ipynb", ["app:\n  id: typed\n"])
    open_notebook(page, lab, "typing.ipynb")
    wait_until(lambda: [e["language"] for e in editors(page)] == ["python"], timeout=30)
    page.click(".jp-CodeCell .cm-content")
    page.keyboard.press("Control+Home")
    page.keyboard.type("%%hotmesh deploy\n")
    wait_until(lambda: [e["language"] for e in editors(page)] == ["yaml"], timeout=30)
    wait_until(lambda: "tok-" in yaml_classes(editors(page)[0], "id"), timeout=30)
    page.keyboard.press("Control+Home")
    page.keyboard.press("Shift+End")
    page.keyboard.press("Delete")
    wait_until(lambda: [e["language"] for e in editors(page)] == ["python"], timeout=30)


@pytest.mark.timeout(120)
def test_a_new_notebook_switches_once_its_kernel_says_python(browser: Any, lab: Lab) -> None:
    # No language_info in the file (a notebook never run): the cells learn their language
    # from the kernel, and the deploy cell follows (the extension's mime type listener).
    page = browser
    write_notebook(lab, "fresh.ipynb", [f"%%hotmesh deploy\n{SEED}", PYTHON], language=False)
    open_notebook(page, lab, "fresh.ipynb")
    wait_until(lambda: [e["language"] for e in editors(page)] == ["yaml", "python"], timeout=60)
