"""The MeshFlow app: Temporal's server modelled as two YAML graphs on our engine.

``meshflow.execute`` — one job per workflow (and per hook thread)::

    trigger → run (cycle pivot) → wf (worker: one replay of the workflow function)
      wf 200 → done                          the function returned
      wf 589 → one durable item, in this job:
               act → proxy (worker: the activity)   599 → proxy_wait → proxy_retry ↺ act
                                                    200 → proxy_back ↺ run
               sleeper (durable timer) → slept      → slept_back ↺ run
               waiter (web hook) → wait_rec         → wait_back ↺ run
               childer (await a child workflow) → child_rec → child_back ↺ run
      wf 590 → collate (await a ``meshflow.collate`` job running several items at once)
               → collate_back ↺ run
      wf 599 → retry_wait → retry_back ↺ run     the function raised; retry after a backoff
      wf 598 → fail (interrupt: the workflow ends with the function's error)

``meshflow.collate`` — one job per ``asyncio.gather`` batch: a cycle over the
items starts each in its own dimension (the same handlers, without the way
back); the job ends when every item has its result, and the parent's
``collate`` activity hoists the results into the parent's ledger at once, so
the workflow replays once per batch, not once per item.

Every result lands in the workflow job's hash as a ledger field
``-<type>-<index>-`` (JSON, written by the step that completes the item, so a
result is recorded exactly once with the transition that follows it). The
workflow worker decides everything else in Python: which items to run, retry
delays, errors.
"""

from __future__ import annotations

from typing import Any

import yaml

APP_ID = "meshflow"
"""The app every workflow job belongs to (``hm.jobs()`` of this app lists workflows)."""
APP_VERSION = "2"
"""Bump when the graphs change: workers and clients deploy it when it is missing."""
EXECUTE = "meshflow.execute"
"""Topic starting a workflow (or hook thread) job."""
EXECUTED = "meshflow.executed"
"""Topic a finished workflow job is published on."""
COLLATE = "meshflow.collate"
"""Topic of the batch jobs that run several durable items in parallel."""
WAIT_SIGNAL = "meshflow.wfs.signal"
"""Topic of ``wait_for`` signals (``{id: signal_id, data: ...}``)."""

DONE, ONE, MANY, IDLE, FAIL, RETRY = 200, 589, 590, 204, 598, 599
"""Workflow worker response codes: returned, one item, a batch, nothing to do, failed,
retry the function later. Activity responses use 200 (recorded) and 599 (retry)."""


def _record(key_ref: str, value_ref: str, error_ref: str | None = None) -> dict[str, Any]:
    """A rule building ``{<key>: {v: <value>, e: <error>}}``: one ledger entry."""
    value: dict[str, Any] = {"@pipe": [[{}, "v", value_ref], ["{@object.set}"]]}
    if error_ref is not None:
        value = {
            "@pipe": [
                {"@pipe": [[{}, "v", value_ref], ["{@object.set}"]]},
                {"@pipe": [["e"]]},
                {"@pipe": [[error_ref]]},
                ["{@object.set}"],
            ]
        }
    return {"@pipe": [{"@pipe": [[{}]]}, {"@pipe": [[key_ref]]}, value, ["{@object.set}"]]}


def _is(ref: str, value: str) -> dict[str, Any]:
    """A transition condition: ``ref == value``."""
    return {"match": [{"expected": value, "actual": ref}]}


def _handlers(p: str, item: str, back: str | None) -> tuple[dict, dict, dict]:
    """Activities, transitions and hook rules running one durable item.

    ``p`` prefixes activity ids, ``item`` is the rule reading the item, ``back``
    the pivot to cycle to when the item is recorded (None: the thread ends).
    ``wait_for`` items run only in the batch graph (``back`` None): a hook
    topic belongs to one graph, and a signal must find its waiter by topic.
    """
    acts: dict[str, Any] = {
        f"{p}act": {
            "type": "hook",
            "cycle": True,
            "output": {"maps": {"item": item, "attempt": 1}},
        },
        f"{p}proxy": {
            "type": "worker",
            "topic": f"{{{p}act.output.data.item.topic}}",
            "input": {
                "maps": {
                    "item": f"{{{p}act.output.data.item}}",
                    "attempt": f"{{{p}act.output.data.attempt}}",
                }
            },
            "job": {"maps": {"ledger[-]": "{$self.output.data.ledger}"}},
        },
        f"{p}proxy_wait": {"type": "hook", "sleep": f"{{{p}proxy.output.data.delay}}"},
        f"{p}proxy_retry": {
            "type": "cycle",
            "ancestor": f"{p}act",
            "input": {
                "maps": {
                    "item": f"{{{p}act.output.data.item}}",
                    "attempt": f"{{{p}proxy.output.data.attempt}}",
                }
            },
        },
        f"{p}sleeper": {"type": "hook", "sleep": item[:-1] + ".seconds}"},
        # Records the sleep once the timer fired: a sleeping hook's own job maps run
        # before it sleeps (as the original's).
        f"{p}slept": {"type": "hook", "job": {"maps": {"ledger[-]": item[:-1] + ".ledger}"}}},
        f"{p}waiter": {"type": "hook"},
        f"{p}wait_rec": {
            "type": "hook",
            "job": {
                "maps": {"ledger[-]": _record(item[:-1] + ".key}", f"{{{p}waiter.hook.data.data}}")}
            },
        },
        f"{p}childer": {
            "type": "await",
            "topic": EXECUTE,
            "await": item[:-1] + ".start.await}",
            "input": {
                "maps": {
                    name: item[:-1] + f".start.{name}}}"
                    for name in (
                        "workflowId",
                        "topic",
                        "name",
                        "taskQueue",
                        "args",
                        "policy",
                        "expire",
                        "parentWorkflowId",
                        "search",
                    )
                }
            },
        },
        f"{p}child_rec": {
            "type": "hook",
            "job": {
                "maps": {
                    "ledger[-]": _record(
                        item[:-1] + ".key}",
                        f"{{{p}childer.output.data.response}}",
                        f"{{{p}childer.output.metadata.err}}",
                    )
                }
            },
        },
    }
    trans: dict[str, Any] = {
        f"{p}act": [{"to": f"{p}proxy"}],
        f"{p}proxy": [{"to": f"{p}proxy_wait", "conditions": {"code": RETRY}}],
        f"{p}proxy_wait": [{"to": f"{p}proxy_retry"}],
        f"{p}sleeper": [{"to": f"{p}slept"}],
        f"{p}waiter": [{"to": f"{p}wait_rec"}],
        f"{p}childer": [{"to": f"{p}child_rec"}],
    }
    hooks = {
        WAIT_SIGNAL: [
            {
                "to": f"{p}waiter",
                "conditions": {
                    "match": [
                        {"expected": item[:-1] + ".signal}", "actual": "{$self.hook.data.id}"}
                    ]
                },
            }
        ]
    }
    if back is not None:
        for name in (f"{p}waiter", f"{p}wait_rec"):
            del acts[name]
        del trans[f"{p}waiter"]
        hooks = {}
        for source in ("proxy", "slept", "child_rec"):
            name = f"{p}{source}_back"
            acts[name] = {"type": "cycle", "ancestor": back, "input": {"maps": {"attempt": 1}}}
            entry: dict[str, Any] = {"to": name}
            if source == "proxy":
                entry["conditions"] = {"code": DONE}
            trans.setdefault(f"{p}{source}", []).append(entry)
    return acts, trans, hooks


def _dispatch(p: str, kind_ref: str, waits: bool) -> list[dict[str, Any]]:
    """Transitions from the activity that holds an item to the handler of its type."""
    kinds = {"proxy": "act", "sleep": "sleeper", "child": "childer"}
    if waits:
        kinds["wait"] = "waiter"
    return [
        {"to": f"{p}{target}", "conditions": {"code": ONE, **_is(kind_ref, kind)}}
        for kind, target in kinds.items()
    ]


def execute_graph() -> dict[str, Any]:
    """The workflow graph (one job per workflow run or hook thread)."""
    activities: dict[str, Any] = {
        "trigger": {
            "type": "trigger",
            "stats": {"id": "{$self.input.data.workflowId}"},
            "job": {
                "maps": {
                    "workflow": "{$self.input.data.name}",
                    "taskQueue": "{$self.input.data.taskQueue}",
                }
            },
        },
        "run": {"type": "hook", "cycle": True, "output": {"maps": {"attempt": 1}}},
        "wf": {
            "type": "worker",
            "topic": "{trigger.output.data.topic}",
            "input": {
                "maps": {
                    "args": "{trigger.output.data.args}",
                    "name": "{trigger.output.data.name}",
                    "taskQueue": "{trigger.output.data.taskQueue}",
                    "policy": "{trigger.output.data.policy}",
                    "target": "{trigger.output.data.target}",
                    "parentWorkflowId": "{trigger.output.data.parentWorkflowId}",
                    "attempt": "{run.output.data.attempt}",
                }
            },
        },
        "done": {
            "type": "hook",
            "job": {"maps": {"response": "{wf.output.data.response}", "done": True}},
        },
        "collate": {
            "type": "await",
            "topic": COLLATE,
            "input": {
                "maps": {
                    "id": "{wf.output.data.id}",
                    "items": "{wf.output.data.items}",
                    "n": "{wf.output.data.n}",
                }
            },
            "job": {
                "maps": {
                    # The batch job's data keys are ledger keys with an 'L' in front
                    # (so that they are job data there): strip it while hoisting.
                    "ledger[-]": {
                        "@pipe": [
                            ["{$self.output.data}", {}],
                            {
                                "@reduce": [
                                    {"@pipe": [["{$output}"]]},
                                    {"@pipe": [["{$key}", 1], ["{@string.substring}"]]},
                                    {"@pipe": [["{$item}"]]},
                                    ["{@object.set}"],
                                ]
                            },
                        ]
                    }
                }
            },
        },
        "collate_back": {"type": "cycle", "ancestor": "run", "input": {"maps": {"attempt": 1}}},
        "retry_wait": {"type": "hook", "sleep": "{wf.output.data.delay}"},
        "retry_back": {
            "type": "cycle",
            "ancestor": "run",
            "input": {"maps": {"attempt": "{wf.output.data.attempt}"}},
        },
        "fail": {
            "type": "interrupt",
            "reason": "{wf.output.data.error.message}",
            "code": "{wf.output.data.error.code}",
            "stack": "{wf.output.data.error.stack}",
            "job": {"maps": {"error": "{wf.output.data.error}"}},
        },
    }
    transitions: dict[str, Any] = {
        "trigger": [{"to": "run"}],
        "run": [{"to": "wf"}],
        "wf": [
            {"to": "done", "conditions": {"code": DONE}},
            *_dispatch("", "{wf.output.data.item.t}", waits=False),
            {"to": "collate", "conditions": {"code": MANY}},
            {"to": "retry_wait", "conditions": {"code": RETRY}},
            {"to": "fail", "conditions": {"code": FAIL}},
        ],
        "collate": [{"to": "collate_back"}],
        "retry_wait": [{"to": "retry_back"}],
    }
    acts, trans, hooks = _handlers("", "{wf.output.data.item}", "run")
    activities.update(acts)
    transitions.update(trans)
    return {
        "subscribes": EXECUTE,
        "publishes": EXECUTED,
        "expire": "{trigger.output.data.expire}",
        "activities": activities,
        "transitions": transitions,
        "hooks": hooks,
    }


def collate_graph() -> dict[str, Any]:
    """The batch graph: a cycle starts every item in its own dimension."""
    activities: dict[str, Any] = {
        "c_trigger": {"type": "trigger", "stats": {"id": "{$self.input.data.id}"}},
        "c_fan": {
            "type": "hook",
            "cycle": True,
            "output": {"maps": {"i": 0, "item": "{c_trigger.output.data.items.0}"}},
        },
        "c_next": {
            "type": "cycle",
            "ancestor": "c_fan",
            "input": {
                "maps": {
                    "i": {"@pipe": [["{c_fan.output.data.i}", 1], ["{@math.add}"]]},
                    "item": {
                        "@pipe": [
                            {"@pipe": [["{c_trigger.output.data.items}"]]},
                            {"@pipe": [["{c_fan.output.data.i}", 1], ["{@math.add}"]]},
                            ["{@array.get}"],
                        ]
                    },
                }
            },
        },
    }
    more = {
        "@pipe": [
            {"@pipe": [["{c_fan.output.data.i}", 1], ["{@math.add}"]]},
            {"@pipe": [["{c_trigger.output.data.n}"]]},
            ["{@conditional.less_than}"],
        ]
    }
    fan_out = [
        {**t, "conditions": {k: v for k, v in t["conditions"].items() if k != "code"}}
        for t in _dispatch("c_", "{c_fan.output.data.item.t}", waits=True)
    ]
    transitions: dict[str, Any] = {
        "c_trigger": [{"to": "c_fan"}],
        "c_fan": [
            *fan_out,
            {"to": "c_next", "conditions": {"match": [{"expected": True, "actual": more}]}},
        ],
    }
    acts, trans, hooks = _handlers("c_", "{c_fan.output.data.item}", None)
    activities.update(acts)
    transitions.update(trans)
    return {
        "subscribes": COLLATE,
        "activities": activities,
        "transitions": transitions,
        "hooks": hooks,
    }


def app_yaml() -> str:
    """The MeshFlow app as YAML (deployed by the first worker or client of a namespace)."""
    app = {
        "app": {
            "id": APP_ID,
            "version": APP_VERSION,
            "settings": {},
            "graphs": [execute_graph(), collate_graph()],
        }
    }
    return yaml.safe_dump(app, sort_keys=False, allow_unicode=True)
