"""benchmarks/cli.py runs (a few channels, one repeat) under the real CLI; its figures are
printed, never asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ._cli import ROOT


@pytest.mark.timeout(900)
def test_cli_benchmark_runs_quick(pulumi_bin: Path) -> None:
    # pulumi_bin: skipped (or failed under CI) as the rest of the suite when the CLI is missing
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.cli", "--quick"],
        capture_output=True,
        text=True,
        timeout=840,  # `pulumi package add` installs the plugin's venv: slower with a cold pip cache
        cwd=ROOT,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "| benchmark | measured | baseline (same run) | ratio |" in out.stdout
    table = out.stdout.split("| benchmark |", 1)[1]
    for number in ("| 1. dynamic", "| 1. native", "| 2. dynamic", "| 2. native"):
        assert number in table


@pytest.mark.timeout(600)
def test_journal_benchmark_runs_quick(native_plugin: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.journal", "--quick", "--plugin", str(native_plugin)],
        capture_output=True,
        text=True,
        timeout=540,
        cwd=ROOT,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "| journal | `pulumi up` | baseline: a new journal (same run) | ratio |" in out.stdout
    for history in ("| 0 lines", "| 2,000 lines", "| 20,000 lines"):
        assert history in out.stdout
