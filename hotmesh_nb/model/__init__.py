"""The YAML app model: load, validate and compile HotMesh apps.

>>> app = load_app('''
... app:
...   id: myfirstapp
...   version: '1'
...   graphs:
...     - subscribes: myfirstapp.test
...       activities:
...         t1: {type: trigger}
...         w1: {type: worker, topic: work.do}
...       transitions:
...         t1:
...           - to: w1
... ''')
>>> app.activity('w1').topic, app.activity('w1').parent
('work.do', 't1')
"""

from hotmesh_nb.model._loader import load_app
from hotmesh_nb.model._specs import (
    ACTIVITY_TYPES,
    ActivitySpec,
    AppSpec,
    GraphSpec,
    HookRuleSpec,
    MatchSpec,
    TransitionSpec,
)

__all__ = [
    "ACTIVITY_TYPES",
    "ActivitySpec",
    "AppSpec",
    "GraphSpec",
    "HookRuleSpec",
    "MatchSpec",
    "TransitionSpec",
    "load_app",
]
