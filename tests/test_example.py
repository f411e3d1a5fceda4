"""examples/multi-env runs, for each stack, through the engine harness and the simulator."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from pulumi_pingback.simulator import Simulator

from .conftest import TOKEN
from .engine import STARTUP_LIST, Engine, asked, is_secret_path
from .program import run_program

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "multi-env"
PROJECT = "pingback-multi-env"

# What `pulumi config set --secret` holds in each stack: its own bot, numbers, accounts.
SECRETS: dict[str, dict[str, str]] = {
    "dev": {},
    "staging": {
        "telegramBotToken": "7000000001:AAH-staging-bot",
        "whatsappAccessToken": "EAAG-staging-access",
        "whatsappVerifyToken": "staging-verify",
    },
    "prod": {
        "telegramBotToken": "7123456789:AAH-prod-bot",
        "whatsappAccessToken": "EAAG-prod-access",
        "whatsappVerifyToken": "prod-verify",
        "instagramAccessToken": "EAAG-prod-ig-access",
        "instagramVerifyToken": "prod-ig-verify",
        "xApiKey": "prod-x-key",
        "xApiSecret": "prod-x-secret",
        "xAccessToken": "4242-prod-x-access",
        "xAccessTokenSecret": "prod-x-access-secret",
        "xBearerToken": "prod-x-bearer",
    },
}


def stack_config(stack: str, sim: Simulator) -> tuple[dict[str, str], list[str]]:
    """The stack file's config, plus what `pulumi config set --secret` would hold."""
    data: dict[str, Any] = yaml.safe_load((EXAMPLE / f"Pulumi.{stack}.yaml").read_text())
    config = {
        k: json.dumps(v) if isinstance(v, list | dict | bool) else str(v)
        for k, v in data["config"].items()
    }
    config["pingback:apiUrl"] = sim.url
    config["pingback:token"] = TOKEN
    secrets = ["pingback:token"]
    for key, value in SECRETS[stack].items():
        config[f"{PROJECT}:{key}"] = value
        secrets.append(f"{PROJECT}:{key}")
    return config, secrets


def test_the_project_files_are_a_pulumi_project() -> None:
    project = yaml.safe_load((EXAMPLE / "Pulumi.yaml").read_text())
    assert project["name"] == PROJECT
    assert project["runtime"]["name"] == "python"
    assert "-e ../.." in (EXAMPLE / "requirements.txt").read_text()
    for stack, secrets in SECRETS.items():
        text = (EXAMPLE / f"Pulumi.{stack}.yaml").read_text()
        for key in secrets:  # every secret the stack needs is named in its file
            assert f"--secret {key} " in text, (stack, key)


def test_dev_staging_and_prod(sim: Simulator) -> None:
    engines: dict[str, Engine] = {}
    results: dict[str, tuple[Mapping[str, str], dict[str, Any]]] = {}
    for stack in ("dev", "staging", "prod"):
        config, secrets = stack_config(stack, sim)
        engine = Engine(config, secret_keys=secrets, stack=stack, project=PROJECT, cwd=EXAMPLE)
        run, exports, monitor = run_program(engine, EXAMPLE, config=config, secret_keys=secrets)
        engines[stack], results[stack] = engine, (run.steps, exports)
        for request in monitor.registrations:
            assert list(request.additionalSecretOutputs) == ["meta_verify_token"]
            assert request.protect is (stack == "prod")

    assert results["dev"][0] == {"support-widget": "create"}
    assert set(results["staging"][0]) == {"support-widget", "support-bot", "support-whatsapp"}
    prod_result, prod_exports = results["prod"]
    assert prod_result == {
        name: "create"
        for name in (
            "support-widget",
            "support-bot",
            "support-whatsapp",
            "support-instagram",
            "support-x",
        )
    }
    documented = {"widget", "telegram", "whatsapp", "instagram", "x"}
    assert {r.outputs["type"] for r in engines["prod"].state.values()} == documented
    assert prod_exports["telegram_bot"] == ("telegram:bot/7123456789", False)
    assert prod_exports["x_account"] == ("x:account/4242", False)
    assert prod_exports["meta_callback_url"] == (f"{sim.url}/api/v1/webhooks/whatsapp", False)
    assert prod_exports["meta_verify_token"] == ("prod-verify", True)  # secret
    assert prod_exports["instagram_verify_token"] == ("prod-ig-verify", True)
    assert results["staging"][1]["telegram_bot"] == ("telegram:bot/7000000001", False)
    # Each environment its own channels and secrets; credentials secret in the state.
    assert len(sim.channels()) == 1 + 3 + 5
    bots = {c["config"]["bot_token"] for c in sim.channels() if c["type"] == "telegram"}
    assert bots == {SECRETS["staging"]["telegramBotToken"], SECRETS["prod"]["telegramBotToken"]}
    wa = engines["prod"].state["support-whatsapp"]
    assert is_secret_path(("config", "access_token"), wa.input_secrets)

    # A second `up` of prod changes nothing: the provider's start-up list is all it asks.
    sim.clear_log()
    config, secrets = stack_config("prod", sim)
    run, _, _ = run_program(engines["prod"], EXAMPLE, config=config, secret_keys=secrets)
    assert set(run.steps.values()) == {"same"}
    assert asked(sim) == STARTUP_LIST


def test_a_stack_declares_only_the_channel_types_its_file_lists(sim: Simulator) -> None:
    config, secrets = stack_config("staging", sim)
    config["pingback-multi-env:channels"] = json.dumps(["telegram"])
    engine = Engine(config, secret_keys=secrets, stack="staging", project=PROJECT, cwd=EXAMPLE)
    run, exports, monitor = run_program(engine, EXAMPLE, config=config, secret_keys=secrets)
    assert run.steps == {"support-bot": "create"}  # no widget unless the list names it
    assert "widget_channel_id" not in exports
    assert [r.protect for r in monitor.registrations] == [False]  # no `protect: true`


def test_the_reference_tries_the_example_in_a_copy_not_in_the_repository() -> None:
    """docs/reference.md's steps for examples/multi-env write stack files (config set,
    stack init; `pulumi stack rm` deletes them): they run in a copy, never in the folder
    whose Pulumi.<stack>.yaml files are committed."""
    root = Path(__file__).resolve().parents[1]
    doc = (root / "docs" / "reference.md").read_text()
    section = doc.split("## The example: `examples/multi-env`", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [ln.split("#")[0].strip() for ln in block.splitlines() if ln.split("#")[0].strip()]
    first_pulumi = next(i for i, c in enumerate(commands) if c.startswith("pulumi "))
    copied = [c for c in commands[:first_pulumi] if c.startswith("cp -r examples/multi-env ")]
    assert copied, commands
    target = copied[0].split()[3]
    assert f"cd {target}" in copied[0] or f"cd {target}" in commands[:first_pulumi]
    assert not any(c.startswith("cd examples") for c in commands)
