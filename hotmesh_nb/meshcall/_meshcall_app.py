"""The MeshCall app: two YAML graphs deployed on our own engine, one app per namespace.

* ``meshcall.call`` runs one function call: the trigger ``call`` (whose
  ``stats.id`` is the call id when the caller gives one) hands the arguments
  to the worker ``run`` of the caller's topic, which maps the answer to the
  job data ``response``. The graph's ``expire`` comes from the caller: it is
  how long the finished job — and so the cached answer — stays in Redis.
* ``meshcall.cron`` runs a function on a schedule: the trigger ``cron``, the
  cycle pivot ``pivot`` (job data ``cycle`` counts the runs), the sleeping
  hook ``nap`` (a durable timer), the worker ``tick``, then — while fewer
  than ``max_cycles`` runs happened — back to the pivot; a run that raised
  (code 500) does not stop it. A cron with an interval cycles through
  ``again``, sleeping ``interval`` seconds. A cron expression asks the worker
  ``plan`` (topic ``meshcall.plan``, served next to every MeshCall engine)
  for the next schedule point, computed with croniter, and cycles through
  ``again_on_schedule``, sleeping until that point.

Arguments and answers travel as JSON text (``args``, ``response``): the engine
stores job values with JavaScript's rules (``2.0`` becomes ``2``, empty
strings are dropped from objects), and a call must return exactly what the
function returned.
"""

from __future__ import annotations

from .._replies import texts_or_none
from ..engine._consumer import create_groups
from ..hotmesh import HotMesh
from ..keys import WORKER_GROUP

APP_ID = "meshcall"
"""The app id of MeshCall in every namespace (keys ``{<namespace>:meshcall}:…``)."""

VERSION = "2"
"""The app version this package deploys; a namespace holding a newer one keeps it."""

CALL_TOPIC = f"{APP_ID}.call"
"""Topic of the graph that runs one call."""

CRON_TOPIC = f"{APP_ID}.cron"
"""Topic of the graph that runs a function on a schedule."""

PLAN_TOPIC = f"{APP_ID}.plan"
"""Worker topic that computes a scheduled cron's next run (reserved: no function may use it)."""

ERROR_CODE = 500
"""Status code of a call whose function raised (the cron graph carries on after it)."""

APP_YAML = f"""
app:
  id: {APP_ID}
  version: '{VERSION}'
  graphs:
    - subscribes: {CALL_TOPIC}
      expire: '{{call.output.data.expire}}'
      activities:
        call:
          type: trigger
          stats:
            id: '{{$self.input.data.id}}'
        run:
          type: worker
          topic: '{{call.output.data.topic}}'
          input:
            maps:
              args: '{{call.output.data.args}}'
          job:
            maps:
              response: '{{$self.output.data.response}}'
      transitions:
        call:
          - to: run

    - subscribes: {CRON_TOPIC}
      activities:
        cron:
          type: trigger
          stats:
            id: '{{$self.input.data.id}}'
          job:
            maps:
              topic: '{{$self.output.data.topic}}'
        pivot:
          type: hook
          cycle: true
          output:
            maps:
              sleep: '{{cron.output.data.delay}}'
              at: '{{cron.output.data.at}}'
              cycle: 1
          job:
            maps:
              cycle: '{{$self.output.data.cycle}}'
        nap:
          type: hook
          sleep: '{{pivot.output.data.sleep}}'
        tick:
          type: worker
          topic: '{{cron.output.data.topic}}'
          input:
            maps:
              args: '{{cron.output.data.args}}'
        again:
          type: cycle
          ancestor: pivot
          input:
            maps:
              sleep: '{{cron.output.data.interval}}'
              cycle:
                '@pipe':
                  - ['{{pivot.output.data.cycle}}', 1]
                  - ['{{@math.add}}']
        plan:
          type: worker
          topic: {PLAN_TOPIC}
          input:
            maps:
              cron: '{{cron.output.data.cron}}'
              after: '{{pivot.output.data.at}}'
        again_on_schedule:
          type: cycle
          ancestor: pivot
          input:
            maps:
              sleep: '{{plan.output.data.sleep}}'
              at: '{{plan.output.data.at}}'
              cycle:
                '@pipe':
                  - ['{{pivot.output.data.cycle}}', 1]
                  - ['{{@math.add}}']
      transitions:
        cron:
          - to: pivot
        pivot:
          - to: nap
        nap:
          - to: tick
        tick:
          - to: again
            conditions:
              code: [200, {ERROR_CODE}]
              match:
                - expected: true
                  actual:
                    '@pipe':
                      - ['{{pivot.output.data.cycle}}', '{{cron.output.data.max_cycles}}']
                      - ['{{@conditional.less_than}}']
                - expected: false
                  actual: '{{cron.output.data.scheduled}}'
          - to: plan
            conditions:
              code: [200, {ERROR_CODE}]
              match:
                - expected: true
                  actual:
                    '@pipe':
                      - ['{{pivot.output.data.cycle}}', '{{cron.output.data.max_cycles}}']
                      - ['{{@conditional.less_than}}']
                - expected: true
                  actual: '{{cron.output.data.scheduled}}'
        plan:
          - to: again_on_schedule
"""


async def ensure_deployed(hm: HotMesh) -> None:
    """Deploy and activate the MeshCall app in ``hm``'s namespace unless it already runs.

    Several processes may do this at once: deploying the same version twice
    stores the same graphs, and activating it twice changes nothing.
    """
    record = await hm.connection.client.hmget(hm.keys.app_record, ["version", "active"])
    active, is_active = texts_or_none(record)
    if is_active == "true" and active is not None and _newer_or_same(active):
        return
    await hm.deploy_async(APP_YAML)
    await hm.activate_async(VERSION)


def _newer_or_same(version: str) -> bool:
    try:
        return int(version) >= int(VERSION)
    except ValueError:
        return False


async def ensure_worker_group(hm: HotMesh, topic: str) -> None:
    """Create the worker streams of ``topic`` (one per partition) so calls queue there
    before any worker runs."""
    await create_groups(hm.connection.client, hm.keys.worker_streams(topic), WORKER_GROUP)
