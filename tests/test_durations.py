import math
from datetime import timedelta

import pytest

from hotmesh_nb.durations import to_seconds, to_whole_seconds


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (90, 90.0),
        (1.5, 1.5),
        ("90", 90.0),
        ("15 minutes", 900.0),
        ("1 month", 30 * 86400.0),
        ("2 weeks", 14 * 86400.0),
        ("500ms", 0.5),
        ("1h", 3600.0),
        ("1 year", 365 * 86400.0),
        (timedelta(minutes=2), 120.0),
        ("infinity", math.inf),
    ],
)
def test_to_seconds(value: object, seconds: float) -> None:
    assert to_seconds(value) == seconds  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["soon", "5 parsecs", "", True, float("nan"), None])
def test_bad_durations_name_the_value(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        to_seconds(bad)  # type: ignore[arg-type]


def test_whole_seconds_round_up() -> None:
    assert to_whole_seconds("1500ms") == 2
    with pytest.raises(ValueError):
        to_whole_seconds("infinity")
