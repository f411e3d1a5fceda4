"""examples/adopt-existing: made by `pingback export`, it adopts its business and stays so."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from pulumi_pingback.cli import main
from pulumi_pingback.simulator import Simulator

from .conftest import TOKEN
from .engine import Engine
from .program import run_program

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "adopt-existing"
SAMPLE: list[dict[str, Any]] = json.loads((EXAMPLE / "sample-business.json").read_text())


@pytest.fixture
def sample(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    for item in SAMPLE:
        sim.plant(item)
    monkeypatch.setenv("PINGBACK_TOKEN", TOKEN)
    monkeypatch.setenv("PINGBACK_API_URL", sim.url)
    return sim


def test_export_of_the_sample_business_is_the_committed_example(sample: Simulator) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["export"], out=out, err=err) == 0
    dated = [line for line in out.getvalue().splitlines() if line.startswith("Made by")]
    committed = (EXAMPLE / "__main__.py").read_text().splitlines()
    assert [line for line in out.getvalue().splitlines() if line not in dated] == [
        line for line in committed if not line.startswith("Made by")
    ]


def test_the_example_adopts_every_channel_then_changes_nothing(
    sample: Simulator, tmp_path: Path
) -> None:
    secrets = {  # what the user sets, following `pingback export`'s stderr
        "telegramBot7000000042BotToken": SAMPLE[0]["config"]["bot_token"],
        "whatsappPhone109876543210AccessToken": SAMPLE[1]["config"]["access_token"],
        "whatsappPhone109876543210VerifyToken": SAMPLE[1]["config"]["verify_token"],
    }
    project = "pingback-adopt-existing"
    config = {"pingback:token": TOKEN, "pingback:apiUrl": sample.url}
    config |= {f"{project}:{k}": v for k, v in secrets.items()}
    secret_keys = [k for k in config if k != "pingback:apiUrl"]
    engine = Engine(config, secret_keys=secret_keys, project=project, cwd=tmp_path)
    result, _, _ = run_program(engine, EXAMPLE, config=config, secret_keys=secret_keys)
    assert set(result.values()) == {"create"} and len(result) == 3
    assert engine.ids() == {item["id"] for item in SAMPLE}
    assert "POST" not in {r["method"] for r in sample.requests()}
    sample.clear_log()
    again, _, _ = run_program(engine, EXAMPLE, config=config, secret_keys=secret_keys)
    assert set(again.values()) == {"same"} and sample.requests() == []
