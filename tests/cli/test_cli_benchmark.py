"""The benchmarks under the real CLI run: benchmarks/cli.py (3 channels, one repeat, every
path beside its trivial floor) and benchmarks/journal.py; their figures are printed, never
asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ._cli import ROOT


@pytest.mark.timeout(600)
def test_cli_benchmark_runs_quick(native_plugin: Path) -> None:
    # native_plugin: the session's `pulumi package add` (skipped, or failed under CI, as the
    # rest of the suite when the CLI is missing); the trivial plugin runs with its venv
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.cli", "--quick", "--plugin", str(native_plugin)],
        capture_output=True,
        text=True,
        timeout=540,
        cwd=ROOT,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    header = "| path | command | N | trivial | pingback | ratio | target |"
    assert header in out.stdout, out.stdout[-3000:]
    table = out.stdout.split(header, 1)[1]
    for kind in ("native", "dynamic"):  # each path, each command, a ratio to its floor
        for command in (
            "`pulumi up`",
            "no-op `pulumi preview`",
            "`pulumi refresh`",
            "`pulumi destroy`",
        ):
            assert f"| {kind} | {command} | 3 |" in table
        assert f"| {kind} | 3 | " in table  # the state per channel
    assert "x |" in table


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
