"""ruff as a user's project runs it: its default settings (``--isolated``), in a folder
outside this repository (where ``pulumi_pingback`` is a third-party import)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

RUFF = Path(sys.executable).parent / "ruff"


def ruff_isolated(code: str | Path) -> list[str]:
    """What ``ruff check`` and ``ruff format --check`` (defaults) say about ``code`` (a
    program's text, or a folder); [] when both pass."""
    problems = []
    with tempfile.TemporaryDirectory() as scratch:
        where = code if isinstance(code, Path) else Path(scratch)
        target = ["."] if isinstance(code, Path) else ["--stdin-filename", "__main__.py", "-"]
        text = None if isinstance(code, Path) else code
        for command in (["check"], ["format", "--check", "--diff"]):
            done = subprocess.run(
                [str(RUFF), *command, "--isolated", "--no-cache", *target],
                input=text,
                cwd=where,
                capture_output=True,
                text=True,
                timeout=60,
            )
            if done.returncode != 0:
                problems.append(f"ruff {' '.join(command)}:\n{done.stdout}{done.stderr}")
    return problems
