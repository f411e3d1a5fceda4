"""From the dashboard to code under the real CLI: examples/adopt-existing (what
`pingback export DIR` writes) against the simulator serving its sample business, as its
README says to try it. What the preview prints, that the adopting `up` writes nothing,
that a differing secret is refused naming the key, that `destroy` refuses, and that a
wrong token fails the preview already."""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..engine import ROOT, SimulatorProcess
from ..test_adoption_example import DEV_SECRETS
from ._cli import (
    TOKEN,
    Stack,
    Workspace,
    copy_example,
    secrets_outside_envelopes,
    squash,
    timeless,
    writes,
)
from ._shipped import shipped

CHANNEL = "pulumi-python:dynamic/pingback:Channel"
SAMPLE_FILE = ROOT / "examples" / "adopt-existing" / "sample-business.json"
SAMPLE = json.loads(SAMPLE_FILE.read_text())
TELEGRAM, WHATSAPP, WIDGET = (item["id"] for item in SAMPLE)


@pytest.fixture
def seeded() -> Iterator[SimulatorProcess]:
    """The simulator as the example's README starts it: ``--seed sample-business.json``."""
    with SimulatorProcess("--quiet", f"--seed={SAMPLE_FILE}", token=TOKEN) as sim:
        yield sim


def dev_stack(ws: Workspace, project: Path, sim: SimulatorProcess, **changed: str) -> Stack:
    """The `dev` stack, its secrets set from Pulumi.dev.yaml (``changed`` overrides some),
    the API URL this simulator's."""
    st = Stack(ws, project, "dev").init()
    st.configure({"pingback:apiUrl": sim.url}, {**DEV_SECRETS, "pingback:token": TOKEN, **changed})
    return st


def test_the_exported_project_adopts_with_no_write_and_destroy_refuses(
    ws: Workspace, seeded: SimulatorProcess, tmp_path: Path
) -> None:
    project = copy_example("adopt-existing", tmp_path)
    st = dev_stack(ws, project, seeded)

    # The preview: three creates, as the README shows; the start-up list is all it asks.
    planned = squash(st.preview().stdout)
    for name in ("telegram-bot-7000000042", "whatsapp-phone-109876543210", "widget-5d4c3b2a"):
        assert f"+ {CHANNEL} {name}" in planned, planned
    assert "+ 4 to create" in planned  # the stack and three channels
    assert writes(seeded) == []

    # The adopting `up`: every channel taken as it is, nothing written to PingBack.
    done = squash(st.up().stdout)
    assert "+ 4 created" in done
    assert writes(seeded) == []
    # one line per adopted channel says what the "created" was (README, Adopting)
    for channel in (TELEGRAM, WHATSAPP, WIDGET):
        line = f"adopted {{}} channel {channel}"
        assert sum(line.format(t) in done for t in ("telegram", "whatsapp", "widget")) == 1, done
    progress, diagnostics = done.split("Diagnostics:")
    assert progress.count(": nothing was written to PingBack") == 3, done
    assert diagnostics.count(": nothing was written to PingBack") == 3, done
    assert {r["id"] for r in st.resources()} == {TELEGRAM, WHATSAPP, WIDGET}
    assert [r.get("protect") for r in st.resources()] == [True, True, True]
    assert secrets_outside_envelopes(st.export(), list(DEV_SECRETS.values())) == []
    assert "4 unchanged" in squash(st.up().stdout)

    # `destroy` refuses: the channels are protected, and PingBack keeps all three.
    refused = st.destroy(check=False)
    assert refused.code != 0
    assert "protected" in refused.stdout and "pulumi state unprotect" in refused.stdout
    assert writes(seeded) == []
    assert {c["id"] for c in seeded.state()["channels"]} == {TELEGRAM, WHATSAPP, WIDGET}


def test_a_declared_secret_that_differs_is_refused_naming_the_key(
    ws: Workspace, seeded: SimulatorProcess, tmp_path: Path
) -> None:
    wrong = "not-the-live-verify-token"
    project = copy_example("adopt-existing", tmp_path)
    st = dev_stack(ws, project, seeded, whatsappPhone109876543210VerifyToken=wrong)
    failed = st.up(check=False)
    assert failed.code != 0
    printed = squash(failed.stdout)
    assert (
        f"channel {WHATSAPP} holds a value (config.verify_token) that PingBack keeps "
        "otherwise than declared (values not shown); adopting it would overwrite it in "
        "PingBack"
    ) in printed, printed
    assert "adopt_overwrite=True" in printed
    assert wrong not in failed.output and DEV_SECRETS["pingback:token"] not in failed.output
    assert writes(seeded) == []  # the two that match are adopted; nothing is written
    live = {c["id"]: c for c in seeded.state()["channels"]}
    assert live[WHATSAPP]["config"]["verify_token"] == SAMPLE[1]["config"]["verify_token"]
    assert WHATSAPP not in {r["id"] for r in st.resources()}


def test_a_wrong_token_fails_the_preview_before_anything_is_planned(
    ws: Workspace, seeded: SimulatorProcess, tmp_path: Path
) -> None:
    project = copy_example("adopt-existing", tmp_path)
    st = dev_stack(ws, project, seeded, **{"pingback:token": "not-the-owner-token"})
    failed = st.preview(check=False)
    assert failed.code != 0
    assert "pulumi_pingback.AuthenticationError: PingBack rejected the API token (401" in (
        failed.stdout
    )
    assert "not-the-owner-token" not in failed.output
    assert writes(seeded) == []


def test_the_exported_requirements_install_into_a_fresh_venv_and_up(
    ws: Workspace, seeded: SimulatorProcess, tmp_path: Path
) -> None:
    """`pingback export DIR` from the wheel's virtualenv, then the commands it prints, as
    printed, in a user's shell (no virtualenv of this suite on PATH): `pulumi install`
    makes the project's ./venv from the exported requirements.txt, which names the wheel
    (pip's record of where this pulumi-pingback came from), and `pulumi up` adopts the
    three channels, writing nothing to PingBack. Each `<the … of …>` placeholder gets the
    sample business's value, as a user copies it from the dashboard."""
    env = {**ws.env, "PINGBACK_TOKEN": TOKEN, "PINGBACK_API_URL": seeded.url}
    exported = subprocess.run(
        [shipped().bin / "pingback", "export", "support-channels"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert exported.returncode == 0, exported.stderr
    requirement = (tmp_path / "support-channels" / "requirements.txt").read_text()
    assert f"pulumi-pingback @ {shipped().wheel.as_uri()}" in requirement
    steps = exported.stderr.split("Next:\n", 1)[1].strip().splitlines()
    assert steps[0] == "cd support-channels" and steps[1] == "pulumi install"
    values = {**DEV_SECRETS, "pingback:token": TOKEN}
    script = []
    for line in steps:
        argv = shlex.split(line)
        if argv[:3] == ["pulumi", "config", "set"] and argv[-1].startswith("<"):
            argv[-1] = values[argv[-2]]
        script.append(shlex.join(argv))
    user = ws.user_shell()  # PINGBACK_* were for the export alone
    seeded.clear_log()
    ran = subprocess.run(
        ["/bin/bash", "-c", "set -euo pipefail\n" + "\n".join(script)],
        cwd=tmp_path,
        env=user,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert (tmp_path / "support-channels" / "venv" / "bin" / "python").exists()
    done = squash(ran.stdout)
    assert "+ 4 created" in done, done
    assert writes(seeded) == []
    assert done.count(": nothing was written to PingBack") == 6  # 3 lines, 3 diagnostics


def test_the_readme_shows_an_adoption_as_the_cli_prints_it(
    ws: Workspace, seeded: SimulatorProcess, tmp_path: Path
) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Adopting existing channels", 1)[1].split("\n## ", 1)[0]
    (block,) = [b for b in section.split("```") if "adopted telegram channel" in b]
    st = dev_stack(ws, copy_example("adopt-existing", tmp_path), seeded)
    done = [timeless(line) for line in squash(st.up().stdout).splitlines()]
    shown = [timeless(squash(line)) for line in block.strip("\n").splitlines()]
    assert [line for line in shown if line not in done] == [], done
