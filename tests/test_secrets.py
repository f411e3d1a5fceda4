"""Secret audit: canaries in every credential and the API token, through every step.

They may appear only in request bodies PingBack received and in outputs the engine marks
secret — never in the pickled provider, a non-secret input or output (identity
included), an error's text, the provider process's stdout/stderr, or its logs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from pulumi_pingback import DesiredChannel, PingBackClient, PingBackError
from pulumi_pingback.simulator import Simulator

from .conftest import TOKEN
from .engine import UNKNOWN, Engine, Secret, StepError, channel, is_secret_path, leaves

MARK = "CANARY"
API_TOKEN = "CANARY-api-token-5b1d"


def tg(n: int, bot: int = 7100000001) -> str:
    return f"{bot}:CANARYtg{n}secretpart"


def meta(n: int, phone: str = "4400001") -> dict[str, Any]:
    return {
        "phone_number_id": phone,
        "access_token": Secret(f"CANARYmetaAccess{n}"),
        "verify_token": Secret(f"CANARYmetaVerify{n}"),
    }


def xcfg(n: int, account: int = 4242) -> Any:
    return Secret(
        {
            "api_key": f"CANARYxKey{n}",
            "api_secret": f"CANARYxSecret{n}",
            "access_token": f"{account}-CANARYxAccess{n}",
            "access_token_secret": f"CANARYxATS{n}",
            "bearer_token": f"CANARYxBearer{n}",
        }
    )


def program(n: int, bot: int = 7100000001) -> list[Any]:
    return [
        channel("bot", "telegram", {"bot_token": Secret(tg(n, bot))}),
        channel("wa", "whatsapp", meta(n)),
        channel("ig", "instagram", meta(n, phone="4400002")),
        channel("x", "x", xcfg(n)),
    ]


@pytest.fixture
def audited(sim: Simulator, make_engine: Callable[..., Engine]) -> tuple[Simulator, Engine]:
    sim.state.token = API_TOKEN
    engine = make_engine(
        config={"pingback:token": API_TOKEN, "pingback:timeout": "0.4", "pingback:maxRetries": "1"},
        env={"PINGBACK_LOG_LEVEL": "DEBUG"},
    )
    return sim, engine


def test_canaries_stay_secret_through_every_step_and_failure(
    audited: tuple[Simulator, Engine], make_engine: Callable[..., Engine]
) -> None:
    sim, engine = audited
    errors: list[StepError] = []

    def expect_failure(fn: Callable[[], Any]) -> None:
        with pytest.raises(StepError) as info:
            fn()
        errors.append(info.value)

    engine.up(program(1))  # create
    engine.up(program(2))  # rotate every credential: update in place
    engine.preview([channel("bot", "telegram", {"bot_token": UNKNOWN}), *program(2)[1:]])
    engine.refresh()
    engine.up(program(3, bot=7100000002))  # another bot: replace

    # 400 from a server that echoes what it was sent
    sim.inject("status", status=400, method="PATCH", detail=f"bad config {tg(4, 7100000002)}")
    expect_failure(lambda: engine.up(program(4, bot=7100000002)))
    # 5xx until retries run out
    sim.inject("status", status=503, method="PATCH", times=None)
    expect_failure(lambda: engine.up(program(5, bot=7100000002)))
    sim.clear_faults()
    # a timeout on a create whose outcome cannot be checked
    sim.inject("hang", method="POST", delay=0.8, times=None)
    sim.inject("status", status=503, method="GET", times=None, after=1)  # after the baseline
    expect_failure(
        lambda: engine.up([*program(3, bot=7100000002), channel("x2", "x", xcfg(6, 4243))])
    )
    sim.clear_faults()
    # 402 at the plan's limit
    sim.set_plan("mini")
    expect_failure(
        lambda: engine.up([*program(3, bot=7100000002), channel("x3", "x", xcfg(7, 4244))])
    )
    sim.set_plan("pro")
    # check failure carrying a credential under a misspelt key
    expect_failure(lambda: engine.up([channel("bad", "telegram", {"bot_tokn": Secret(tg(8))})]))
    # 401: a wrong token that is itself a canary
    wrong = make_engine(config={"pingback:token": "CANARY-wrong-token-77"})
    wrong.state = engine.state
    expect_failure(lambda: wrong.up(program(9, bot=7100000002)))
    engine.destroy()

    assert [(e.method, e.name) for e in errors] == [
        ("Update", "bot"),
        ("Update", "bot"),
        ("Create", "x2"),
        ("Create", "x3"),
        ("Check", "bad"),
        ("Update", "bot"),
    ]
    assert "): bad config [secret]\nTo fix: correct" in errors[0].message

    # The canaries did travel where they must (so this test can fail) ...
    bodies = repr([r["body"] for r in sim.requests()])
    for canary in (tg(1), "CANARYmetaAccess2", "CANARYxBearer3", tg(4, 7100000002), "CANARYxKey6"):
        assert canary in bodies
    # ... and nowhere else.
    for e in errors:
        assert MARK not in e.details, e.details
    output = "".join(engine.process_output + wrong.process_output)
    assert "pulumi-pingback DEBUG" in output  # logging was on
    assert "pulumi-pingback INFO retrying" in output
    assert MARK not in output
    assert MARK.encode() not in engine.provider_blob()
    log_meta = repr([(r["method"], r["path"], r["status"], r["fault"]) for r in sim.requests()])
    assert MARK not in log_meta


def test_state_shows_no_canary_outside_secrets(audited: tuple[Simulator, Engine]) -> None:
    _sim, engine = audited
    engine.up(program(1))
    engine.refresh()  # refreshed inputs must stay secret too
    engine.up(program(2))
    shown = list(engine.non_secret_values())
    assert any(path == ("outputs", "identity") for _, path, _ in shown)
    for name, path, value in shown:
        assert MARK not in repr(value), (name, path)
    # the secret outputs do hold them
    secret_values = [
        value
        for r in engine.state.values()
        for path, value in leaves(r.outputs)
        if is_secret_path(path, r.output_secrets)
    ]
    assert "CANARYmetaVerify2" in secret_values  # meta_verify_token and config.verify_token
    assert engine.state["wa"].outputs["meta_verify_token"] == "CANARYmetaVerify2"


def test_client_errors_and_logs_carry_no_secret(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sim.inject("status", status=400, method="POST", detail="echo CANARYzzz")
    bad = PingBackClient("CANARY-token-1", base_url=sim.url, max_retries=1, backoff_initial=0.01)
    good = PingBackClient(TOKEN, base_url=sim.url, max_retries=1, backoff_initial=0.01)
    texts = []
    for fn in (
        lambda: good.create(DesiredChannel("sms", {"k": "CANARYzzz"})),
        lambda: bad.list(),
        lambda: good.update("missing", DesiredChannel("sms", {"k": "CANARYyyy"})),
    ):
        with pytest.raises(PingBackError) as info:
            fn()
        texts += [str(info.value), repr(info.value), repr(getattr(info.value, "body", ""))]
    texts += [r.getMessage() for r in caplog.records]
    assert caplog.records  # the client did log
    assert all(MARK not in t for t in texts), texts
