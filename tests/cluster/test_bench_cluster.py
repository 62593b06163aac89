"""``bench/cluster.py --quick`` runs end to end and reports every figure it promises.

A smoke run of the benchmark (speed itself is never asserted): one node beside the
session's cluster (``--cluster-url``), hello and MeshFlow, read back as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "cluster.py"


def test_the_cluster_benchmark_reports_every_figure(redis_url: str) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--json", "--cluster-url", redis_url],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(results) == ["hello/cluster", "hello/node", "meshflow/cluster", "meshflow/node"]
    for name, figures in results.items():
        assert figures["per_sec"] > 0 and figures["p50_ms"] > 0, name
        assert figures["commands"] > 1, name  # net of idle traffic, scripts' commands included
        shares = figures["shares"]
        assert sum(shares.values()) == pytest.approx(100.0), name
        assert len(shares) == (3 if name.endswith("cluster") else 1), (name, shares)
    assert results["hello/cluster"]["partitions"] >= 1
