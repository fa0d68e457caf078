"""A short run of the load driver, so it cannot rot (the real runs are `make bench`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT


@pytest.mark.parametrize("backend,workers", [("sqlite", 1), ("postgres", 2)])
def test_load_driver_smoke_run(tmp_path: Path, backend: str, workers: int) -> None:
    out = tmp_path / "result.json"
    subprocess.run([sys.executable, "benchmarks/load.py", "--pairs", "4", "--rate", "20", "--duration", "2",
                    "--backend", backend, "--workers", str(workers), "--json", str(out)],
                   cwd=ROOT, check=True, capture_output=True, timeout=240)
    result = json.loads(out.read_text())
    assert result["chats_held"] == 4
    assert result["errors"] == 0
    assert result["sent"] >= 30 and result["delivered"] == result["sent"]
    assert 0 < result["p50_ms"] <= result["p99_ms"]
