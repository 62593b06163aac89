"""A hook that waits maps its output and job data before it waits, as the original does,
and again when it resumes (checked side by side with HotMesh 0.3.32)."""

from __future__ import annotations

from waiting import wait_until

SLEEPER = """
app:
  id: sleepmaps
  version: '1'
  graphs:
    - subscribes: sleepmaps.test
      activities:
        t1:
          type: trigger
        nap:
          type: hook
          sleep: '{t1.output.data.seconds}'
          output:
            maps:
              phase: '{t1.output.data.phase}'
          job:
            maps:
              slept: true
              seen: '{$self.output.data.phase}'
      transitions:
        t1:
          - to: nap
"""


def test_a_sleeping_hook_shows_its_job_maps_while_it_sleeps(mesh) -> None:
    hm = mesh("sleepmaps", SLEEPER)
    job_id = hm.pub("sleepmaps.test", {"seconds": 30, "phase": "before"})
    wait_until(lambda: bool(hm.get_state(job_id)["data"].get("slept")))
    assert hm.get_status(job_id) == 1  # still asleep
    assert hm.get_state(job_id)["data"] == {"slept": True, "seen": "before"}


WAITER = """
app:
  id: waitmaps
  version: '1'
  graphs:
    - subscribes: waitmaps.test
      hooks:
        waitmaps.go:
          - to: waiter
            conditions:
              match:
                - expected: '{$job.metadata.jid}'
                  actual: '{$self.hook.data.id}'
      activities:
        t1:
          type: trigger
        waiter:
          type: hook
          output:
            maps:
              phase: '{$self.hook.data.value}'
          job:
            maps:
              value: '{$self.hook.data.value}'
              waiting: true
      transitions:
        t1:
          - to: waiter
"""


def test_a_web_hook_maps_before_its_signal_and_again_after(mesh) -> None:
    hm = mesh("waitmaps", WAITER)
    job_id = hm.pub("waitmaps.test", {})
    wait_until(lambda: bool(hm.get_state(job_id)["data"].get("waiting")))
    assert hm.get_state(job_id)["data"] == {"waiting": True}  # no signal yet: no value
    hm.hook("waitmaps.go", {"id": job_id, "value": 7})
    wait_until(lambda: hm.get_status(job_id) == 0)
    assert hm.get_state(job_id)["data"] == {"waiting": True, "value": 7}


PASS_THROUGH = """
app:
  id: passdata
  version: '1'
  graphs:
    - subscribes: passdata.test
      activities:
        t1:
          type: trigger
        bare:
          type: hook
          job:
            maps:
              bare: '{$self.output.data}'
        mapped:
          type: hook
          output:
            maps:
              a: 1
          job:
            maps:
              mapped: '{$self.output.data}'
      transitions:
        t1:
          - to: bare
        bare:
          - to: mapped
"""


def test_a_hook_without_output_maps_has_no_output_data(mesh) -> None:
    # As the original: {$self.output.data} of a pass-through without output.maps is
    # undefined, so the job map writes nothing.
    hm = mesh("passdata", PASS_THROUGH)
    assert hm.pubsub("passdata.test", {}) == {"mapped": {"a": 1}}
