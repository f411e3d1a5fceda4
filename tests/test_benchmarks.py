"""The benchmark script runs (small sizes); its figures are printed, never asserted.

Suite speed (#26): `--quick` still runs every section, each with its processes (about
20 s of the fast layer on 2 cores). benchmarks/ is being reworked alongside; once
`benchmarks.run` can run one tiny section, or its table can be checked without the
processes, this test should call that instead of `--quick`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmarks_run_quick() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    table = out.stdout.split("| benchmark |", 1)[1]
    for number in ("1.", "2.", "3.", "4.", "5.", "6.", "7.", "8."):
        assert f"| {number}" in table
