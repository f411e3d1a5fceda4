"""Secret audit: canaries in every credential and the API token, through every step.

They may appear only in request bodies PingBack received and in outputs the engine marks
secret — never in the pickled provider, a non-secret input or output (identity
included), an error's text, the provider process's stdout/stderr, or its logs.
"""

from __future__ import annotations

import html
import json
import logging
import textwrap
import urllib.parse
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from pulumi.runtime import proto, rpc

from pulumi_pingback import DesiredChannel, PingBackClient, PingBackError
from pulumi_pingback.simulator import Simulator

from .conftest import TOKEN
from .engine import (
    TYPE_TOKEN,
    UNKNOWN,
    CheckFailed,
    Engine,
    Run,
    Secret,
    StepError,
    Target,
    channel,
    from_struct,
    is_secret_path,
    leaves,
    to_struct,
)
from .program import run_program

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
def audited(
    target: Target, sim: Simulator, make_engine: Callable[..., Engine]
) -> tuple[Simulator, Engine]:
    """A stack on the dynamic provider, then on the native plugin (which marks its own
    secrets: the engine copies none from inputs to outputs for it)."""
    sim.state.token = API_TOKEN
    engine = make_engine(
        config={"pingback:token": API_TOKEN, "pingback:timeout": "0.4", "pingback:maxRetries": "1"},
        env={"PINGBACK_LOG_LEVEL": "DEBUG"},
        target=target,
    )
    return sim, engine


def test_canaries_stay_secret_through_every_step_and_failure(
    audited: tuple[Simulator, Engine], make_engine: Callable[..., Engine]
) -> None:
    sim, engine = audited
    errors: list[StepError] = []
    runs: list[Run] = []  # every command's, failed ones too

    def expect_failure(fn: Callable[[], Any]) -> None:
        with pytest.raises(StepError) as info:
            fn()
        errors.append(info.value)
        assert info.value.run is not None
        runs.append(info.value.run)

    runs.append(engine.up(program(1)))  # create
    runs.append(engine.up(program(2)))  # rotate every credential: update in place
    runs.append(
        engine.preview([channel("bot", "telegram", {"bot_token": UNKNOWN}), *program(2)[1:]])
    )
    runs.append(engine.refresh())
    runs.append(engine.up(program(3, bot=7100000002)))  # another bot: replace

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
    wrong = make_engine(config={"pingback:token": "CANARY-wrong-token-77"}, target=engine.target)
    wrong.stack_import(engine.state)
    expect_failure(lambda: wrong.up(program(9, bot=7100000002)))
    runs.append(engine.destroy())

    assert [(e.method, e.name) for e in errors] == [
        ("Update", "bot"),
        ("Update", "bot"),
        ("Create", "x2"),
        ("Create", "x3"),
        ("Check", "bad"),
        # the wrong token fails the provider's start: the plugin's Configure, the dynamic
        # provider's first call (its server configures it then)
        ("Configure", "default") if engine.target.native else ("Check", "bot"),
    ]
    assert "): bad config [secret]\nTo fix: correct" in errors[0].message

    # The canaries did travel where they must (so this test can fail) ...
    bodies = repr([r["body"] for r in sim.requests()])
    for canary in (tg(1), "CANARYmetaAccess2", "CANARYxBearer3", tg(4, 7100000002), "CANARYxKey6"):
        assert canary in bodies
    # ... and nowhere else.
    for e in errors:
        assert MARK not in e.details, e.details
    # What the provider printed, and what it sent the engine's log (what the CLI shows).
    logged = [f"pulumi-pingback {sev} {msg}" for run in runs for sev, _, msg in run.engine_log]
    output = "".join(printed for run in runs for printed in run.process_output)
    output += "\n".join(logged)
    assert "pulumi-pingback DEBUG" in output  # logging was on
    assert "pulumi-pingback INFO retrying" in output
    assert MARK not in output
    assert MARK.encode() not in engine.provider_blob()
    if engine.saved_provider is not None:  # native: the provider's inputs in the state
        inputs, secrets = engine.saved_provider
        assert ("token",) in secrets and inputs["token"] == API_TOKEN
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


# ---- what the CLI prints and keeps (issue: secrets sealed on every path) -------------------

CRED = "CANARY-cred-7f3a9c2e41"


def envelope_leaks(raw: Any, canary: str = MARK, inside: bool = False) -> list[str]:
    """Strings holding ``canary`` outside Pulumi's secret envelope, in a raw wire value."""
    if rpc.is_rpc_secret(raw):
        return envelope_leaks(raw["value"], canary, True)
    if isinstance(raw, dict):
        return [leak for v in raw.values() for leak in envelope_leaks(v, canary, inside)]
    if isinstance(raw, list):
        return [leak for v in raw for leak in envelope_leaks(v, canary, inside)]
    return [raw] if isinstance(raw, str) and canary in raw and not inside else []


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (Secret(f"{CRED}-as-a-string"), "config: must be an object (a dict of config keys)"),
        (Secret({"bot_token": f"7100000001:{CRED}", "": "x"}), "config: config keys must be"),
        (Secret([f"7100000001:{CRED}"]), "config: must be an object (a dict of config keys)"),
    ],
    ids=["secret-string", "empty-key", "secret-list"],
)
def test_check_failures_as_the_cli_prints_them_show_no_credential(
    sim: Simulator, engine: Engine, config: Any, expected: str
) -> None:
    with pytest.raises(CheckFailed) as info:
        engine.up([channel("c", "telegram", config)])
    printed = info.value.details  # what the CLI prints: property, program value, reason
    assert expected in printed
    assert MARK not in printed
    assert [r["method"] for r in sim.requests()] == ["GET"]  # the start's list; no write


def test_a_misspelt_property_holding_a_secret_is_not_printed(engine: Engine) -> None:
    d = channel("c", "sms", {})
    d.inputs["confg"] = Secret({"api_key": CRED})
    with pytest.raises(CheckFailed) as info:
        engine.up([d])
    assert "confg: unknown property; did you mean 'config'?" in info.value.details
    assert MARK not in info.value.details


def test_nested_failures_print_nil_and_still_name_the_field(engine: Engine) -> None:
    with pytest.raises(CheckFailed) as info:
        engine.up([channel("c", "telegram", Secret({"bot_tokn": f"7100000001:{CRED}"}))])
    assert info.value.rendered[0].startswith(
        f"{TYPE_TOKEN} resource 'c': property config.bot_tokn value {{<nil>}} has a problem: "
        "unknown key 'bot_tokn' for a telegram channel; did you mean 'bot_token'?"
    )
    assert MARK not in info.value.details


def test_refresh_keeps_a_key_added_in_the_dashboard_secret(sim: Simulator, engine: Engine) -> None:
    engine.up([channel("bot", "telegram", {"bot_token": Secret(tg(1))})])
    cid = engine.state["bot"].id
    httpx.patch(  # someone adds a key in the dashboard
        f"{sim.url}/api/v1/channels/{cid}",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json={"config": {"bot_token": tg(1), "smtp_api_key": CRED}},
    ).raise_for_status()
    assert engine.refresh().steps == {"bot": "changed"}
    assert engine.state["bot"].inputs["config"]["smtp_api_key"] == CRED
    shown = [(path, value) for _, path, value in engine.non_secret_values()]
    assert not [item for item in shown if MARK in repr(item[1])], shown
    # On the wire, the canary travels inside Pulumi's secret envelope only.
    with engine.session() as drv:
        r = engine.state["bot"]
        resp = drv.process.stub.Read(
            proto.ReadRequest(
                id=r.id,
                urn=engine.urn("bot"),
                properties=to_struct(r.outputs),
                inputs=to_struct(r.inputs),
            )
        )
    raw_inputs, raw_outputs = from_struct(resp.inputs), from_struct(resp.properties)
    assert envelope_leaks(raw_inputs) == [] and envelope_leaks(raw_outputs) == []
    assert CRED in repr(raw_inputs)  # it is there, sealed


def test_plain_string_credentials_are_stored_and_shown_as_secrets(
    sim: Simulator, engine: Engine
) -> None:
    plain = {"phone_number_id": "4400001", "access_token": CRED, "verify_token": CRED + "v"}
    engine.up([channel("wa", "whatsapp", plain), channel("s", "sms", {"key": CRED + "s"})])
    shown = {path: value for _, path, value in engine.non_secret_values()}
    assert not [p for p, v in shown.items() if MARK in repr(v)], shown
    assert shown[("inputs", "config", "phone_number_id")] == "4400001"  # readable on purpose
    assert shown[("outputs", "identity")] == "whatsapp:phone/4400001"
    rotated = {**plain, "access_token": CRED + "2"}
    plan = engine.preview([channel("wa", "whatsapp", rotated), channel("s", "sms", {})])
    assert plan.steps == {"wa": "update", "s": "update"}
    assert plan.diff_lines == (
        "wa: config.access_token: [secret] => [secret]",
        "s: config.key: [secret] => (none)",
    )
    moved = {**plain, "phone_number_id": "4400009"}
    plan = engine.preview(
        [channel("wa", "whatsapp", moved), channel("s", "sms", {"key": CRED + "s"})]
    )
    assert plan.diff_lines == (
        "wa: config.phone_number_id: '4400001' => '4400009'",
        "wa: identity: 'whatsapp:phone/4400001' => 'whatsapp:phone/4400009'",
    )


# form: (secret, how the server writes it back, the body format, whether "[secret]" shows
# within the 300 characters quoted)
ECHOES: dict[str, tuple[str, Callable[[str], str], str, bool]] = {
    "json-escaped": ("CANARYé-ünïcödé-secret", lambda s: json.dumps(s)[1:-1], "json", True),
    "url-encoded": (
        "CANARY/url+enc=secret&x",
        lambda s: urllib.parse.quote(s, safe=""),
        "json",
        True,
    ),
    "url-encoded-lower": (
        "CANARY/url+enc=secret&y",
        lambda s: urllib.parse.quote(s, safe="").lower(),
        "json",
        True,
    ),
    "html-escaped": ('CANARY<b>&"html"-secret', lambda s: html.escape(s), "json", True),
    "cut-by-the-server": ("CANARY-0123456789abcdef", lambda s: s[:14], "json", True),
    # "bad config: " + 270 x: the secret spans characters 282-308, across our 300 cut
    "straddling-our-cut": (
        "CANARY-straddle-0123456789",
        lambda s: "x" * 270 + s + "y" * 50,
        "json",
        True,
    ),
    # a plain-text body, the secret across character 500 (beyond what is quoted)
    "straddling-a-text-cut": (
        "CANARY-text-straddle-0123",
        lambda s: "x" * 478 + s + "y" * 50,
        "text",
        False,
    ),
}


@pytest.mark.parametrize("form", sorted(ECHOES))
def test_an_echoed_credential_is_gone_in_every_form(
    sim: Simulator, engine: Engine, form: str
) -> None:
    secret, encode, body, marked = ECHOES[form]
    detail = f"bad config: {encode(secret)}"
    sim.inject("status", status=400, method="POST", detail=detail, body=body)
    with pytest.raises(StepError) as info:
        engine.up([channel("s", "sms", {"api_key": Secret(secret)})])
    printed = info.value.details  # the traceback the CLI shows
    assert ("[secret]" in printed) is marked
    assert "bad config: xxx" in printed or marked
    for i in range(len(secret) - 7):  # no piece of 8 characters, in any form
        piece = secret[i : i + 8]
        for shown in {piece, encode(piece), json.dumps(piece)[1:-1], html.escape(piece)}:
            if len(shown) >= 8:
                assert shown not in printed, (piece, printed)


def test_the_stored_token_is_redacted_during_a_rotation(sim: Simulator, engine: Engine) -> None:
    engine.up([channel("bot", "telegram", {"bot_token": Secret(tg(1))})])
    sim.inject("status", status=400, method="PATCH", detail=f"token {tg(1)} is still active")
    with pytest.raises(StepError) as info:
        engine.up([channel("bot", "telegram", {"bot_token": Secret(tg(2))})])
    assert "token [secret] is still active" in info.value.details
    assert MARK not in info.value.details


def test_the_stored_config_is_redacted_from_delete_and_list_errors(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    engine = make_engine(config={"pingback:maxRetries": "0"})
    engine.up([channel("bot", "telegram", {"bot_token": Secret(tg(1))})])
    sim.inject("status", status=500, method="GET", detail=f"cannot list {tg(1)}", times=None)
    with pytest.raises(StepError) as info:
        engine.refresh()
    assert "cannot list [secret]" in info.value.details and MARK not in info.value.details
    sim.clear_faults()
    sim.inject("status", status=500, method="DELETE", detail=f"cannot delete {tg(1)}")
    with pytest.raises(StepError) as info:
        engine.destroy()
    assert "cannot delete [secret]" in info.value.details and MARK not in info.value.details


def test_a_program_passing_plain_credentials_registers_them_as_secrets(
    sim: Simulator, make_engine: Callable[..., Engine], tmp_path: Path
) -> None:
    (tmp_path / "__main__.py").write_text(
        textwrap.dedent(
            f"""
            from pulumi_pingback import PingBackChannel, WhatsAppConfig

            PingBackChannel(
                "wa",
                type="whatsapp",
                config=WhatsAppConfig(
                    phone_number_id="4400001",
                    access_token="{CRED}a",
                    verify_token="{CRED}v",
                ),
            )
            PingBackChannel("s", type="sms", config={{"key": "{CRED}s"}})
            """
        )
    )
    engine = make_engine()
    config = {"pingback:token": TOKEN, "pingback:apiUrl": sim.url}
    run, _, monitor = run_program(engine, tmp_path, config=config, secret_keys=[])
    assert run.steps == {"wa": "create", "s": "create"}
    raw = {r.name: json_format.MessageToDict(r.object) for r in monitor.registrations}
    assert envelope_leaks(raw) == []  # every credential registered inside an envelope
    assert raw["wa"]["config"]["phone_number_id"] == "4400001"  # readable on purpose
    assert rpc.is_rpc_secret(raw["s"]["config"])  # an undocumented type: all of it
    assert not [v for _, _, v in engine.non_secret_values() if MARK in repr(v)]


# ---- what is sealed: each credential, nothing more (issue 26) -------------------------------


def _held(paths: AbstractSet[tuple[str, ...]], props: dict[str, Any]) -> set[tuple[str, ...]]:
    """The secret paths that hold a value in ``props`` (the engine seals nothing else),
    each outermost (a key under a secret config is that config's ciphertext)."""
    held = set()
    for path in paths:
        value: Any = props
        for key in path:
            value = value.get(key, _ABSENT) if isinstance(value, dict) else _ABSENT
        if value is not _ABSENT and not any(path[:i] in paths for i in range(1, len(path))):
            held.add(path)
    return held


_ABSENT = object()


def test_only_credentials_are_sealed_in_inputs_and_outputs_alike(
    sim: Simulator, target: Target, make_engine: Callable[..., Engine]
) -> None:
    """A widget holds no secret at all; a bot's token is secret in its inputs and its
    outputs, given in plain text or as a secret; a readable key is plain in both; an
    undocumented key is sealed alone; a config the program gave whole as a secret stays
    secret whole (the engine's rules, the provider's answer); the whole config of a type
    that documents no key is sealed, an empty one is not. Through a refresh too."""
    engine = make_engine(target=target)
    program = [
        channel("w", "widget", {"widget_id": "w1"}),
        channel("wx", "widget", {"widget_id": "w2", "extra": CRED + "w"}),
        channel("web", "webchat", {}),
        channel("s", "sms", {"key": CRED + "s"}),
        channel("bot", "telegram", {"bot_token": tg(1)}),  # plain text in the program
        channel("bot2", "telegram", {"bot_token": Secret(tg(2, 7100000002))}),
        channel("whole", "telegram", Secret({"bot_token": tg(3, 7100000003)})),
        channel("wa", "whatsapp", meta(1)),
    ]
    expected: dict[str, set[tuple[str, ...]]] = {
        "w": set(),
        "wx": {("config", "extra")},
        "web": set(),
        "s": {("config",)},
        "bot": {("config", "bot_token")},
        "bot2": {("config", "bot_token")},
        "whole": {("config",)},
        "wa": {("config", "access_token"), ("config", "verify_token")},
    }
    engine.up(program)
    for step in ("up", "refresh"):
        for name, r in engine.state.items():
            ins, outs = _held(r.input_secrets, r.inputs), _held(r.output_secrets, r.outputs)
            assert ins == expected[name], (step, name)
            more = {("meta_verify_token",)} if name == "wa" else set()
            assert outs == expected[name] | more, (step, name)
        engine.refresh()
    shown = {(name, path): v for name, path, v in engine.non_secret_values()}
    assert shown[("w", ("outputs", "config", "widget_id"))] == "w1"
    assert shown[("wa", ("inputs", "config", "phone_number_id"))] == "4400001"
    assert shown[("wa", ("outputs", "config", "phone_number_id"))] == "4400001"
    assert not [item for item in shown.items() if MARK in repr(item[1])]
