"""Record the golden histories again: ``python tests/meshflow/golden/record.py``.

Runs each workflow of ``flows.py`` on the embedded server and keeps its ledger
fields (the job hash's ``-`` fields, minus timings) in ``<name>.json``. Run it
only when the ledger format changes on purpose: the point of the files is that
old histories keep replaying.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import flows  # noqa: E402

import hotmesh_nb  # noqa: E402
from hotmesh_nb import MeshFlow  # noqa: E402


def main() -> None:
    namespace = f"golden{uuid.uuid4().hex[:8]}"
    MeshFlow.Worker.create(namespace=namespace, task_queue="golden", workflow=flows.golden_order)
    client = MeshFlow.Client(namespace=namespace)
    handle = client.workflow.start(
        args=[5], task_queue="golden", workflow_name="golden_order", workflow_id="golden-1"
    )
    result = handle.result(timeout=30)
    hm = client.hotmesh()
    fields = hotmesh_nb.runtime.get_runtime().run(
        hm.connection.client.hgetall(hm.keys.job("golden-1"))
    )
    ledger = {k: v for k, v in sorted(fields.items()) if k.startswith("-") and "claim" not in k}
    (HERE / "golden_order.json").write_text(
        json.dumps({"args": [5], "result": result, "ledger": ledger}, indent=1) + "\n"
    )
    hotmesh_nb.shutdown()


if __name__ == "__main__":
    main()
