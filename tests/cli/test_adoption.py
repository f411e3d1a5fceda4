"""From the dashboard to code under the real CLI: examples/adopt-existing (what
`pingback export DIR` writes) against the simulator serving its sample business, as its
README says to try it. What the preview prints, that the adopting `up` writes nothing,
that a differing secret is refused naming the key, that `destroy` refuses, and that a
wrong token fails the preview already."""

from __future__ import annotations

import json
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
    writes,
)

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
