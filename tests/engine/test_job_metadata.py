"""A job's metadata as the original fills it (checked side by side with HotMesh 0.3.32)."""

from __future__ import annotations

import datetime as dt

import pytest


def _app(granularity: str | None) -> str:
    line = f"\n            granularity: {granularity}" if granularity else ""
    return f"""
app:
  id: meta
  version: '1'
  graphs:
    - subscribes: meta.test
      activities:
        t1:
          type: trigger
          stats:
            key: '{{$self.input.data.k}}'{line}
"""


@pytest.mark.parametrize(
    ("granularity", "minutes"), [(None, 5), ("15m", 15), ("1h", 60), ("infinity", None)]
)
def test_ts_is_the_time_bucket_of_the_trigger(mesh, granularity: str | None, minutes) -> None:
    hm = mesh("meta", _app(granularity))
    before = dt.datetime.now(dt.timezone.utc)
    job_id = hm.pub("meta.test", {"k": "x"})
    after = dt.datetime.now(dt.timezone.utc)
    metadata = hm.get_state(job_id)["metadata"]
    if minutes is None:
        assert metadata["ts"] == "0"
        return

    def bucket(moment: dt.datetime) -> str:
        floored = moment.replace(second=0, microsecond=0)
        minute = floored.hour * 60 + floored.minute
        floored = floored.replace(hour=0, minute=0) + dt.timedelta(
            minutes=minute - minute % minutes
        )
        return floored.strftime("%Y%m%d%H%M")

    assert metadata["ts"] in {bucket(before), bucket(after)}
    assert len(metadata["jc"]) == len("YYYYMMDDHHmmss.sss")  # the creation time stays exact
