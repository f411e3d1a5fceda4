"""The engine's floor: trivial providers of the same shape as ``pingback``'s channel, whose
every call only waits one round trip (:mod:`.native`, a source plugin; :mod:`.dynamic`, a
``pulumi.dynamic.ResourceProvider``). ``benchmarks.cli`` runs them beside ``pingback`` in
the same run; their files are copied into place, as a user's would be."""

from __future__ import annotations

import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROGRAM = """\
import pulumi
from trivial_floor import Channel, Trivial

config = pulumi.Config()
provider = Trivial(config.require_float("rtt"))
for i in range(config.require_int("count")):
    Channel(f"w{i}", provider, f"bench-trivial-w{i}")
"""
"""The dynamic floor's program: ``count`` channels (stack config, as ``rtt``)."""


def native_plugin(where: Path, venv: Path) -> Path:
    """A source plugin folder of :mod:`.native` (package ``trivial``), run by the CLI with
    the Python of ``venv``: the virtualenv `pulumi package add` made for ``pingback``, so
    the interpreter, SDK and gRPC are the same and only the provider differs."""
    where.mkdir(parents=True)
    shutil.copy(HERE / "native.py", where / "__main__.py")
    (where / "PulumiPlugin.yaml").write_text(
        f"runtime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: {venv}\n"
    )
    return where


def dynamic_provider(project: Path) -> Path:
    """:mod:`.dynamic` beside the program of ``project``, as ``trivial_floor.py``."""
    shutil.copy(HERE / "dynamic.py", project / "trivial_floor.py")
    return project
