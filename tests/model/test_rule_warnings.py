"""Rules the original accepts though they are almost surely typos: deployed, with a warning.

Checked against HotMesh 0.3.32 itself: ``'{t1.output.data.x'`` deploys and maps the
literal text, ``'{t1..x}'`` deploys and maps nothing. We keep that, and say so at deploy.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hotmesh_nb.model import load_app
from hotmesh_nb.model._rules import lint_rule

APP = """app:
  id: warn
  version: '1'
  graphs:
    - subscribes: warn.go
      activities:
        t1:
          type: trigger
          job:
            maps:
              fine: '{t1.output.data.v}'
              weird: {rule}
"""


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("'{t1.output.data.x'", "has no closing '}': it is kept as literal text"),
        ("'{t1..x}'", "has an empty path segment: it always reads undefined"),
        ("'{.x}'", "has an empty path segment"),
        ("'{t1.output.data.v}}'", "has stray braces inside the reference"),
        ("{'@pipe': [['{t1..x}', 1]]}", "has an empty path segment"),  # inside a pipe too
    ],
)
def test_a_suspicious_rule_deploys_with_a_warning_naming_its_place(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, rule: str, words: str
) -> None:
    path = tmp_path / "warn.yaml"
    path.write_text(APP.replace("{rule}", rule))
    with caplog.at_level(logging.WARNING, logger="hotmesh_nb.model"):
        app = load_app(path)
    assert app.activity("t1").id == "t1"
    [record] = [r for r in caplog.records if r.name == "hotmesh_nb.model"]
    message = record.getMessage()
    assert message.startswith(f"{path}:12, activity 't1': ")
    assert words in message and "t1.job.maps.weird" in message


def test_well_formed_rules_give_no_warning() -> None:
    for rule in (
        "{t1.output.data.v}",
        "{$job.metadata.jid}",
        "{@string.concat}",
        "plain text",
        "{",
        {"@pipe": [["{a.b}", "x"], ["{@string.concat}"]]},
        5,
        None,
    ):
        assert lint_rule(rule) == [], rule


def test_job_maps_on_a_cycle_activity_deploy_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = """app:
  id: warn
  version: '1'
  graphs:
    - subscribes: warn.go
      activities:
        t1:
          type: trigger
        c1:
          type: hook
          cycle: true
        back:
          type: cycle
          ancestor: c1
          job:
            maps:
              never: 1
      transitions:
        t1:
          - to: c1
        c1:
          - to: back
"""
    with caplog.at_level(logging.WARNING):
        load_app(text)
    assert "'job' maps are never applied" in caplog.text and "back" in caplog.text
