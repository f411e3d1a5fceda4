"""The benchmark scripts run; their figures are printed, never asserted.

One cheap section of ``benchmarks.run`` (each spawns its provider processes, and the
whole ``--quick`` run costs ~15 s on 2 cores): the table and a row are what the other
sections share. ``tests/cli/test_cli_benchmark.py`` runs ``benchmarks.cli --quick`` and
``benchmarks.journal --quick`` under the real CLI.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmarks_run_prints_its_table() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--only", "1", "5"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    table = out.stdout.split("| benchmark |", 1)[1]
    for number in ("1.", "5."):
        assert f"| {number}" in table
