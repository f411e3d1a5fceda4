"""examples/adopt-existing: made by `pingback export`, it adopts its business and stays so."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from pulumi_pingback.command import main
from pulumi_pingback.simulator import Simulator

from .conftest import TOKEN
from .engine import STARTUP_LIST, Engine, asked
from .program import run_program

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "adopt-existing"
SAMPLE: list[dict[str, Any]] = json.loads((EXAMPLE / "sample-business.json").read_text())
DEV_SECRETS = dict(  # the `pulumi config set --secret KEY VALUE` lines Pulumi.dev.yaml shows
    line.split()[-2:]
    for line in (EXAMPLE / "Pulumi.dev.yaml").read_text().splitlines()
    if line.startswith("#   pulumi config set --secret ")
)


@pytest.fixture
def sample(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    for item in SAMPLE:
        sim.plant(item)
    monkeypatch.setenv("PINGBACK_TOKEN", TOKEN)
    monkeypatch.setenv("PINGBACK_API_URL", sim.url)
    return sim


def test_export_of_the_sample_business_is_the_committed_example(
    sample: Simulator, tmp_path: Path
) -> None:
    """The folder is what `pingback export DIR --stack dev` writes against the simulator
    of Pulumi.dev.yaml (port 8787) serving sample-business.json, but for the date and
    requirements.txt (this checkout, not the release)."""
    written = tmp_path / EXAMPLE.name
    out, err = io.StringIO(), io.StringIO()
    assert main(["export", str(written), "--stack", "dev"], out=out, err=err) == 0

    def undated(text: str) -> list[str]:
        text = text.replace(sample.url, "http://127.0.0.1:8787")
        return [line for line in text.splitlines() if not line.startswith("Made by")]

    for name in ("Pulumi.yaml", "__main__.py", "STACK-CONFIG.md"):
        assert undated((written / name).read_text()) == undated((EXAMPLE / name).read_text())
    assert "pingback:apiUrl: http://127.0.0.1:8787" in (EXAMPLE / "Pulumi.dev.yaml").read_text()


def test_the_example_adopts_every_channel_then_changes_nothing(
    sample: Simulator, tmp_path: Path
) -> None:
    assert set(DEV_SECRETS) == {  # the commands STACK-CONFIG.md lists, the sample's values
        "pingback:token",
        "telegramBot7000000042BotToken",
        "whatsappPhone109876543210AccessToken",
        "whatsappPhone109876543210VerifyToken",
    }
    assert DEV_SECRETS["telegramBot7000000042BotToken"] == SAMPLE[0]["config"]["bot_token"]
    assert (
        DEV_SECRETS["whatsappPhone109876543210VerifyToken"] == (SAMPLE[1]["config"]["verify_token"])
    )
    secrets = {k: v for k, v in DEV_SECRETS.items() if k != "pingback:token"}
    project = "adopt-existing"
    config = {"pingback:token": TOKEN, "pingback:apiUrl": sample.url}
    config |= {f"{project}:{k}": v for k, v in secrets.items()}
    secret_keys = [k for k in config if k != "pingback:apiUrl"]
    engine = Engine(config, secret_keys=secret_keys, project=project, cwd=tmp_path)
    run, _, _ = run_program(engine, EXAMPLE, config=config, secret_keys=secret_keys)
    assert set(run.steps.values()) == {"create"} and len(run.steps) == 3
    assert engine.ids() == {item["id"] for item in SAMPLE}
    assert {r["method"] for r in sample.requests()} == {"GET"}  # adopted with no write
    sample.clear_log()
    again, _, _ = run_program(engine, EXAMPLE, config=config, secret_keys=secret_keys)
    assert set(again.steps.values()) == {"same"} and asked(sample) == STARTUP_LIST
