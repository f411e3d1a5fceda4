"""examples/multi-env runs, for both stacks, through the engine harness and the simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pulumi_pingback.simulator import Simulator

from .conftest import TG, TOKEN
from .engine import Engine, is_secret_path
from .program import run_program

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "multi-env"
WA_ACCESS = "EAAG-prod-access-token"
WA_VERIFY = "prod-verify-token"


def stack_config(stack: str, sim: Simulator) -> tuple[dict[str, str], list[str]]:
    """The stack file's config, plus what `pulumi config set --secret` would hold."""
    data: dict[str, Any] = yaml.safe_load((EXAMPLE / f"Pulumi.{stack}.yaml").read_text())
    config = {k: str(v) for k, v in data["config"].items()}
    config["pingback:apiUrl"] = sim.url
    config["pingback:token"] = TOKEN
    secrets = ["pingback:token"]
    if stack == "prod":
        config["pingback-multi-env:telegramBotToken"] = TG
        config["pingback-multi-env:whatsappAccessToken"] = WA_ACCESS
        config["pingback-multi-env:whatsappVerifyToken"] = WA_VERIFY
        secrets += [
            "pingback-multi-env:telegramBotToken",
            "pingback-multi-env:whatsappAccessToken",
            "pingback-multi-env:whatsappVerifyToken",
        ]
    return config, secrets


def test_the_project_files_are_a_pulumi_project() -> None:
    project = yaml.safe_load((EXAMPLE / "Pulumi.yaml").read_text())
    assert project["name"] == "pingback-multi-env"
    assert project["runtime"]["name"] == "python"
    assert "-e ../.." in (EXAMPLE / "requirements.txt").read_text()


def test_dev_and_prod_stacks(sim: Simulator, tmp_path: Path) -> None:
    results = {}
    for stack in ("dev", "prod"):
        config, secrets = stack_config(stack, sim)
        engine = Engine(
            config, secret_keys=secrets, stack=stack, project="pingback-multi-env", cwd=EXAMPLE
        )
        result, exports, monitor = run_program(engine, EXAMPLE, config=config, secret_keys=secrets)
        results[stack] = (engine, result, exports, monitor)

    dev_engine, dev_result, dev_exports, _ = results["dev"]
    assert dev_result == {"support-widget": "create"}
    assert dev_exports["widget_channel_id"] == (dev_engine.state["support-widget"].id, False)

    prod_engine, prod_result, prod_exports, monitor = results["prod"]
    assert prod_result == {
        "support-widget": "create",
        "support-bot": "create",
        "support-whatsapp": "create",
    }
    assert prod_exports["telegram_bot"] == ("telegram:bot/7123456789", False)
    assert prod_exports["meta_callback_url"] == (f"{sim.url}/api/v1/webhooks/whatsapp", False)
    assert prod_exports["meta_verify_token"] == (WA_VERIFY, True)  # secret
    # The resource class asked for its secret outputs and protection in prod.
    for request in monitor.registrations:
        assert list(request.additionalSecretOutputs) == ["config", "meta_verify_token"]
        assert request.protect is True
    # Secrets given as secret config stay secret in the inputs too.
    wa = prod_engine.state["support-whatsapp"]
    assert is_secret_path(("config", "access_token"), wa.input_secrets)
    assert {c["type"] for c in sim.channels()} == {"widget", "telegram", "whatsapp"}
    assert len(sim.channels()) == 4
    assert dev_engine.ids() | prod_engine.ids() == {c["id"] for c in sim.channels()}

    # A second `up` of prod changes nothing and calls no API.
    sim.clear_log()
    config, secrets = stack_config("prod", sim)
    result, _, _ = run_program(prod_engine, EXAMPLE, config=config, secret_keys=secrets)
    assert set(result.values()) == {"same"}
    assert sim.requests() == []
