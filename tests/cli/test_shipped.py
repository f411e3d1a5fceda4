"""What ships, as a user meets it: the release ``python -m build`` makes (``twine check``
clean, every module in the wheel), and the README's quick start — its files and commands
as written — from an empty folder to a stack on the simulator, the package installed by
``pulumi install`` from the wheel.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import tarfile
import zipfile
from pathlib import Path

import httpx

from pulumi_pingback import __version__

from ..engine import ROOT, free_port
from ._cli import Workspace, ciphertexts, timeless
from ._shipped import shipped

QUICK_START_FILES = {"yaml": "Pulumi.yaml", "text": "requirements.txt", "python": "__main__.py"}


def _package_files() -> set[str]:
    top = ROOT / "pulumi_pingback"
    return {
        str(f.relative_to(ROOT))
        for f in top.rglob("*")
        if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc"
    }


def test_the_release_is_what_an_index_takes_with_every_module_in_the_wheel() -> None:
    built = shipped()
    assert built.twine_check.count("PASSED") == 2, built.twine_check
    with zipfile.ZipFile(built.wheel) as wheel:
        names = set(wheel.namelist())
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        assert f"\nVersion: {__version__}\n" in wheel.read(metadata).decode()
    in_wheel = {n for n in names if n.startswith("pulumi_pingback/")}
    assert in_wheel == _package_files(), in_wheel ^ _package_files()
    assert {"pulumi_pingback/py.typed", "pulumi_pingback/pulumi-plugin.json"} <= in_wheel
    with tarfile.open(built.sdist) as sdist:
        top = f"pulumi_pingback-{__version__}/"
        members = {m.name.removeprefix(top) for m in sdist.getmembers()}
    # the source plugin (`pulumi package add <sdist's folder>`) travels in the sdist
    source_plugin = {"PulumiPlugin.yaml", "__main__.py", "requirements.txt", "pyproject.toml"}
    assert source_plugin | {"LICENSE", "README.md", "CHANGELOG.md"} <= members
    assert not {m for m in members if m.startswith((".venv/", "venv/"))}


def test_the_suite_runs_the_wheel_not_the_checkout() -> None:
    """What tests/cli runs imports the package from the wheel's virtualenv."""
    built = shipped()
    where = subprocess.run(
        [built.python, "-c", "import pulumi_pingback; print(pulumi_pingback.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    ).stdout.strip()
    assert Path(where).is_relative_to(built.venv), where
    assert (built.bin / "pulumi-resource-pingback").is_file()
    assert (built.bin / "pingback").is_file()


def _quick_start() -> tuple[dict[str, str], str, list[str]]:
    """The README's quick start: its files, its commands, its output block."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```(\w*)\n(.*?)^```", section, re.M | re.S)
    files = {QUICK_START_FILES[lang]: body for lang, body in blocks if lang in QUICK_START_FILES}
    assert list(files) == list(QUICK_START_FILES.values())
    for name in files:  # each file's block follows its name
        assert f"`{name}`" in section.split(files[name], 1)[0].rsplit("```", 1)[0][-400:]
    (commands,) = [body for lang, body in blocks if lang == "bash"]
    (printed,) = [body for lang, body in blocks if lang == ""]
    return files, commands, [line for line in printed.splitlines() if line.strip()]


def test_the_readme_quick_start_runs_as_written(ws: Workspace, tmp_path: Path) -> None:
    files, commands, printed = _quick_start()
    folder = tmp_path / "support-channels"  # "an empty folder"
    folder.mkdir()
    wheel = shipped().wheel
    # The two changes: the wheel of this checkout instead of GitHub (out of reach here;
    # its dependencies come from the package index), and a free port instead of 8080.
    # (PULUMI_SKIP_CONFIRMATIONS, as in every test of the suite, answers `up`'s question.)
    requirement = files["requirements.txt"]
    assert requirement.startswith("pulumi-pingback[simulator] @ git+https://github.com/")
    files["requirements.txt"] = f"pulumi-pingback[simulator] @ {wheel.as_uri()}\n"
    port = str(free_port())
    assert commands.count("8080") == 2
    commands = commands.replace("8080", port)
    for name, body in files.items():
        (folder / name).write_text(body)
    # A user's shell: the CLI on PATH, Python; no virtualenv of this suite, no pingback.
    env = ws.user_shell(drop=("PULUMI_BACKEND_URL",))
    env["PULUMI_CONFIG_PASSPHRASE"] = "not-the-readme's"  # the README's export must win
    script = "set -euo pipefail\n" + commands
    log = tmp_path / "quick-start.log"  # a file: the simulator in the background keeps it
    with log.open("w") as sink:
        run = subprocess.Popen(
            ["/bin/bash", "-c", script],
            cwd=folder,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # the simulator it starts in the background, killed below
        )
    try:
        run.wait(timeout=600)
        out = log.read_text()
        assert run.returncode == 0, out
        # What the README shows of `pulumi up` is what it printed (times aside).
        lines = [timeless(line) for line in out.splitlines()]
        missing = [line for line in printed if timeless(line) not in lines]
        assert missing == [], out
        # PingBack got the channel, from the package installed in the project's venv.
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as sim:
            listed = sim.get("/api/v1/channels/", headers={"Authorization": "Bearer sim-token"})
        (channel,) = listed.json()
        assert channel["type"] == "telegram"
        site = subprocess.run(
            [
                folder / "venv" / "bin" / "python",
                "-c",
                "import pulumi_pingback as p; print(p.__file__)",
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd="/",
        ).stdout
        assert str(folder / "venv") in site
        # The state keeps the bot token and the owner token only as ciphertext.
        exported = subprocess.run(
            [ws.bin / "pulumi", "stack", "export"],
            cwd=folder,
            env={
                **env,
                "PULUMI_BACKEND_URL": (folder / ".pulumi-state").as_uri(),
                "PULUMI_CONFIG_PASSPHRASE": "try-it",
            },
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "7000000001:AAE-example-token" not in exported
        assert "sim-token" not in exported
        assert ciphertexts(json.loads(exported))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGTERM)
