"""The simulator as users run it: `pingback-simulator`, answering as the docs describe."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from pulumi_pingback.simulator import Simulator

from .conftest import TG, TG_ROTATED, TOKEN, wa_config
from .engine import SimulatorProcess


@pytest.fixture
def cli_sim() -> Iterator[str]:
    with SimulatorProcess("--agent-token", "agent", "--plan", "mini") as process:
        yield process.url


def test_cli_serves_the_documented_api(cli_sim: str) -> None:
    auth = {"Authorization": "Bearer sim-token"}
    created = httpx.post(
        cli_sim + "/api/v1/channels/",
        headers=auth,
        json={"type": "telegram", "config": {"bot_token": TG}, "is_active": True},
    )
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "business_id", "type", "config", "is_active", "created_at"}
    listed = httpx.get(cli_sim + "/api/v1/channels/", headers=auth).json()
    assert listed == [body]
    # No GET of one channel is documented, so there is none.
    assert httpx.get(cli_sim + f"/api/v1/channels/{body['id']}", headers=auth).status_code == 405
    patched = httpx.patch(
        cli_sim + f"/api/v1/channels/{body['id']}",
        headers=auth,
        json={"type": "telegram", "config": {"bot_token": TG}, "is_active": False},
    )
    assert patched.json()["is_active"] is False
    deleted = httpx.delete(cli_sim + f"/api/v1/channels/{body['id']}", headers=auth)
    assert deleted.json() == {"message": "Channel deleted"}
    assert httpx.delete(cli_sim + f"/api/v1/channels/{body['id']}", headers=auth).status_code == 404
    assert httpx.get(cli_sim + "/api/v1/channels/").status_code == 401
    assert (
        httpx.get(
            cli_sim + "/api/v1/channels/", headers={"Authorization": "Bearer agent"}
        ).status_code
        == 403
    )
    bad = httpx.post(
        cli_sim + "/api/v1/channels/", headers=auth, json={"type": "fax", "config": {}}
    )
    assert bad.status_code == 400 and "Invalid channel type" in bad.json()["detail"]
    for _ in range(3):
        httpx.post(
            cli_sim + "/api/v1/channels/", headers=auth, json={"type": "widget", "config": {}}
        )
    over = httpx.post(
        cli_sim + "/api/v1/channels/", headers=auth, json={"type": "widget", "config": {}}
    )
    assert over.status_code == 402
    assert {k: v for k, v in over.json().items() if k != "message"} == {
        "error": "limit_exceeded",
        "plan": "Mini",
        "feature": "channels",
        "current": 3,
        "limit": 3,
    }
    # control surface
    fault = httpx.post(
        cli_sim + "/_sim/faults", json={"kind": "status", "status": 503, "method": "GET"}
    )
    assert fault.status_code == 201
    assert httpx.get(cli_sim + "/api/v1/channels/", headers=auth).status_code == 503
    log = httpx.get(cli_sim + "/_sim/requests").json()
    assert log[-1]["fault"] == "status" and log[-1]["status"] == 503
    assert httpx.post(cli_sim + "/_sim/reset").json() == {"reset": True}
    assert httpx.get(cli_sim + "/_sim/state").json()["channels"] == []


def test_meta_setup_instructions_and_free_plan(sim: Simulator) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    wa = httpx.post(
        sim.url + "/api/v1/channels/",
        headers=auth,
        json={"type": "whatsapp", "config": wa_config()},
    ).json()
    assert wa["config"]["_meta_setup_instructions"] == {
        "callback_url": f"{sim.url}/api/v1/webhooks/whatsapp",
        "verify_token": "verify-1",
    }
    missing = httpx.post(
        sim.url + "/api/v1/channels/",
        headers=auth,
        json={"type": "whatsapp", "config": {"phone_number_id": "1"}},
    )
    assert missing.json()["detail"] == (
        "Missing required config fields for whatsapp: access_token, verify_token"
    )
    sim.reset()
    sim.set_plan("free")
    locked = httpx.post(
        sim.url + "/api/v1/channels/",
        headers=auth,
        json={"type": "telegram", "config": {"bot_token": TG}},
    )
    assert locked.status_code == 402 and locked.json()["error"] == "feature_locked"
    assert (
        httpx.post(
            sim.url + "/api/v1/channels/", headers=auth, json={"type": "widget", "config": {}}
        ).status_code
        == 201
    )
    assert (
        httpx.post(
            sim.url + "/api/v1/channels/", headers=auth, json={"type": "widget", "config": {}}
        ).json()["error"]
        == "limit_exceeded"
    )


def test_one_telegram_webhook_per_bot_last_registration_wins(sim: Simulator) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    a = httpx.post(
        sim.url + "/api/v1/channels/",
        headers=auth,
        json={"type": "telegram", "config": {"bot_token": TG}},
    ).json()
    b = httpx.post(
        sim.url + "/api/v1/channels/",
        headers=auth,
        json={"type": "telegram", "config": {"bot_token": TG_ROTATED}},
    ).json()
    assert sim.webhooks() == {"7123456789": b["id"]}
    httpx.patch(
        sim.url + f"/api/v1/channels/{a['id']}",
        headers=auth,
        json={"type": "telegram", "config": {"bot_token": TG}, "is_active": True},
    )
    assert sim.webhooks() == {"7123456789": a["id"]}


def test_tcp_nodelay_keeps_keepalive_requests_fast(sim: Simulator) -> None:
    # With Nagle on, small keep-alive request/response pairs stall ~40 ms each.
    with httpx.Client() as c:
        c.get(sim.url + "/api/v1/channels/", headers={"Authorization": f"Bearer {TOKEN}"})
        start = time.perf_counter()
        for _ in range(50):
            c.get(sim.url + "/api/v1/channels/", headers={"Authorization": f"Bearer {TOKEN}"})
        per_request = (time.perf_counter() - start) / 50
    assert per_request < 0.02
