"""examples/try_it.py, the README's main job, end to end with the built CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ._cli import ROOT


def test_try_it_runs_up_and_lists_the_channel(pulumi_bin: Path, tmp_path: Path) -> None:
    # As a newcomer runs it: no pulumi on PATH; the script finds the built one.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "PINGBACK_"))}
    env.update(
        PATH=os.pathsep.join(["/usr/bin", "/bin"]),
        PINGBACK_PULUMI_BIN=str(pulumi_bin),
        HOME=str(tmp_path),  # anything written outside the temporary folder would land here
    )
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "try_it.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "$ " + str(pulumi_bin / "pulumi") + " up --yes --stack dev --non-interactive" in out
    assert "pulumi-python:dynamic/pingback:Channel support-widget created" in out
    assert "+ 2 created" in out
    table = out.split("The channels PingBack (the simulator) now holds:")[1]
    assert "widget" in table and "1 channel" in table
    assert list(tmp_path.iterdir()) == [], "try_it wrote outside its temporary folder"
