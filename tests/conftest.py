from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_pingback import PingBackClient
from pulumi_pingback.simulator import Simulator

from .engine import DYNAMIC, NATIVE, Engine, Secret, Target, channel

TOKEN = "sim-owner-token-0001"
AGENT_TOKEN = "sim-agent-token-0002"
TG = "7123456789:AAH" + "x" * 32
TG_ROTATED = "7123456789:BBH" + "y" * 32
TG_OTHER_BOT = "7000000001:AAH" + "z" * 32


def bot(token: str = TG, name: str = "bot", **kw: Any) -> Any:
    """A Telegram channel declared with its bot token as a secret."""
    return channel(name, "telegram", {"bot_token": Secret(token)}, **kw)


def writes(sim: Simulator) -> list[str]:
    """The methods of the write requests PingBack received, in order."""
    return [r["method"] for r in sim.requests() if r["method"] != "GET"]


def wa_config(
    phone: str = "109876543210", access: str = "EAAG-access-1", verify: str = "verify-1"
) -> dict[str, str]:
    return {"phone_number_id": phone, "access_token": access, "verify_token": verify}


def x_config(account: str = "1234567890", n: int = 1) -> dict[str, str]:
    return {
        "api_key": f"xkey{n}",
        "api_secret": f"xsecret{n}",
        "access_token": f"{account}-xaccess{n}",
        "access_token_secret": f"xats{n}",
        "bearer_token": f"xbearer{n}",
    }


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(token=TOKEN, agent_token=AGENT_TOKEN, plan="pro") as s:
        yield s


def quick(sim: Simulator, token: str | None = TOKEN, **kw: Any) -> PingBackClient:
    """A client with short waits: 2 s timeout, 3 retries, 10-50 ms backoff, 0.3 s settle."""
    opts: dict[str, Any] = {
        "base_url": sim.url,
        "timeout": 2.0,
        "max_retries": 3,
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
        "settle_window": 0.3,
    }
    opts.update(kw)
    return PingBackClient(token, **opts)


@pytest.fixture
def client(sim: Simulator) -> PingBackClient:
    return quick(sim)


@pytest.fixture
def make_engine(sim: Simulator, tmp_path: Path) -> Callable[..., Engine]:
    def make(**overrides: Any) -> Engine:
        config = {
            "pingback:token": TOKEN,
            "pingback:apiUrl": sim.url,
            "pingback:timeout": "2",
            "pingback:maxRetries": "3",
        }
        config.update(overrides.pop("config", {}))
        return Engine(config, cwd=tmp_path, **overrides)

    return make


@pytest.fixture
def engine(make_engine: Callable[..., Engine]) -> Engine:
    """A stack on the dynamic provider (files whose tests hold for both providers
    override it with one on ``target``)."""
    return make_engine()


@pytest.fixture(params=[DYNAMIC, NATIVE], ids=lambda t: t.name)
def target(request: pytest.FixtureRequest) -> Target:
    """The provider a test that holds for both runs against: the dynamic provider, then
    the native plugin. Tests that are deliberately one provider's do not take it."""
    assert isinstance(request.param, Target)
    return request.param
