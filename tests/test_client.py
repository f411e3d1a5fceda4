"""PingBackClient against the simulator over real sockets."""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from pulumi_pingback import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    PingBackClient,
    PingBackError,
    PlanLimitError,
    RateLimitError,
    __version__,
)
from pulumi_pingback._client import parse_retry_after
from pulumi_pingback.simulator import Simulator

from .conftest import AGENT_TOKEN, TG, TOKEN, wa_config

CANARY = "CANARYTOKEN9f8e7d"


def api(sim: Simulator) -> list[tuple[str, str, object]]:
    return [(r["method"], r["path"], r["status"]) for r in sim.requests()]


def quick(sim: Simulator, token: str | None = TOKEN, **kw: object) -> PingBackClient:
    opts: dict[str, object] = {
        "timeout": 2.0,
        "max_retries": 3,
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
    }
    opts.update(kw)
    return PingBackClient(token, base_url=sim.url, **opts)  # type: ignore[arg-type]


def test_crud_round_trip(sim: Simulator, client: PingBackClient) -> None:
    created = client.create("telegram", {"bot_token": TG}, True)
    assert created.type == "telegram" and created.user_config == {"bot_token": TG}
    assert client.get(created.id) == created
    updated = client.update(created.id, "telegram", {"bot_token": TG}, False)
    assert updated.is_active is False
    assert client.delete(created.id) is True
    assert client.get(created.id) is None
    assert [(m, s) for m, _, s in api(sim)] == [
        ("POST", 201),
        ("GET", 200),
        ("PATCH", 200),
        ("DELETE", 200),
        ("GET", 200),
    ]
    assert {r["user_agent"] for r in sim.requests()} == {f"pulumi-pingback/{__version__}"}


def test_delete_of_a_missing_channel_is_not_an_error(
    sim: Simulator, client: PingBackClient
) -> None:
    assert client.delete("3fa85f64-5717-4562-b3fc-2c963f66afa6") is False
    assert api(sim) == [("DELETE", "/api/v1/channels/3fa85f64-5717-4562-b3fc-2c963f66afa6", 404)]


def test_update_of_a_missing_channel_is_404(client: PingBackClient) -> None:
    with pytest.raises(NotFoundError, match=r"no such channel \(404\)"):
        client.update("nope", "widget", {}, True)


def test_400_quotes_the_server_and_never_the_config(sim: Simulator, client: PingBackClient) -> None:
    with pytest.raises(BadRequestError) as info:
        client.create("telegram", {"bot_tokn": CANARY}, True)
    msg = str(info.value)
    assert "400" in msg and "Missing required config fields for telegram: bot_token" in msg
    assert CANARY not in msg and CANARY not in repr(info.value)
    assert len(sim.requests()) == 1  # a 400 is not retried


def test_400_server_message_echoing_a_secret_is_redacted(sim: Simulator) -> None:
    sim.inject("status", status=400, method="POST", detail=f"invalid key {CANARY} for sms")
    with pytest.raises(BadRequestError) as info:
        quick(sim).create("sms", {"key": CANARY}, True)
    assert "invalid key [secret] for sms" in str(info.value)
    assert CANARY not in str(info.value) and CANARY not in repr(info.value.body)


def test_401_names_both_ways_to_set_the_token(sim: Simulator) -> None:
    c = quick(sim, token=CANARY)
    with pytest.raises(AuthenticationError) as info:
        c.list()
    msg = str(info.value)
    assert "pulumi config set --secret pingback:token" in msg and "PINGBACK_TOKEN" in msg
    assert CANARY not in msg and CANARY not in repr(info.value)


def test_no_token_fails_before_any_request(sim: Simulator) -> None:
    with pytest.raises(ConfigurationError, match="PINGBACK_TOKEN"):
        quick(sim, token=None).list()
    assert sim.requests() == []


def test_403_for_a_non_owner_token(sim: Simulator) -> None:
    with pytest.raises(PermissionDeniedError, match="Only the business owner may manage channels"):
        quick(sim, token=AGENT_TOKEN).create("widget", {}, True)


def test_402_limit_exceeded_gives_plan_counts_and_the_fix(sim: Simulator) -> None:
    sim.set_plan("mini")
    c = quick(sim)
    for _ in range(3):
        c.create("widget", {}, True)
    with pytest.raises(PlanLimitError) as info:
        c.create("widget", {}, True)
    msg = str(info.value)
    assert "the Mini plan is at its limit for channels (3/3)" in msg
    assert "Your Mini plan allows 3 channels" in msg  # the server's message
    assert "delete_before_replace=True" in msg
    assert info.value.error == "limit_exceeded"


def test_402_feature_locked_on_free(sim: Simulator) -> None:
    sim.set_plan("free")
    with pytest.raises(PlanLimitError) as info:
        quick(sim).create("telegram", {"bot_token": TG}, True)
    assert "the Free plan does not include integrations" in str(info.value)
    assert "Free allows only `widget` channels" in str(info.value)
    assert info.value.error == "feature_locked"


def test_429_honours_retry_after(sim: Simulator) -> None:
    sim.inject("status", status=429, retry_after="0.3", times=2, method="GET")
    c = quick(sim)
    start = time.monotonic()
    assert c.list() == []
    elapsed = time.monotonic() - start
    assert [s for _, _, s in api(sim)] == [429, 429, 200]
    assert elapsed >= 0.6
    assert c.stats["retries"] == 2


def test_429_with_an_http_date(sim: Simulator) -> None:
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=1), usegmt=True)
    assert 0 <= (parse_retry_after(when) or 0) <= 1.0
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after("soon") is None


def test_429_with_an_unreasonable_wait_is_not_retried(sim: Simulator) -> None:
    sim.inject("status", status=429, retry_after="3600", times=5, method="GET")
    with pytest.raises(RateLimitError, match="it asked to wait 3600 s"):
        quick(sim).list()
    assert len(sim.requests()) == 1


def test_a_post_answered_429_is_retried_blindly(sim: Simulator, client: PingBackClient) -> None:
    sim.inject("status", status=429, retry_after="0", times=1, method="POST")
    client.create("widget", {}, True)
    assert [(m, s) for m, _, s in api(sim)] == [("POST", 429), ("POST", 201)]
    assert len(sim.channels()) == 1


def test_503_is_retried_with_backoff_then_gives_up(sim: Simulator) -> None:
    sim.inject("status", status=503, times=None, method="DELETE")
    c = quick(sim, max_retries=2)
    with pytest.raises(InternalServerError, match=r"\(503\).*retried"):
        c.delete("x")
    assert len(sim.requests()) == 3


def test_a_dropped_get_is_retried(sim: Simulator, client: PingBackClient) -> None:
    sim.inject("drop", method="GET")
    assert client.list() == []
    assert [s for _, _, s in api(sim)] == ["dropped", 200]


def test_connect_failure_is_retried_then_reported(sim: Simulator) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = PingBackClient(
        TOKEN, base_url=f"http://127.0.0.1:{port}", max_retries=2, backoff_initial=0.01
    )
    with pytest.raises(APIConnectionError, match="could not connect to PingBack") as info:
        c.create("widget", {}, True)
    assert info.value.sent is False
    assert c.stats["requests"] == 3


# ---- the duplicate-free ambiguous POST -----------------------------------------------------


def test_commit_then_hang_post_is_reconciled_not_duplicated(sim: Simulator) -> None:
    sim.inject("hang", method="POST", delay=1.5)
    c = quick(sim, timeout=0.5)
    created = c.create("telegram", {"bot_token": TG}, True)
    assert len(sim.channels()) == 1 and sim.channels()[0]["id"] == created.id
    assert [(m, s) for m, _, s in api(sim)] == [("POST", 201), ("GET", 200)]
    assert c.stats["reconciled"] == 1


def test_post_dropped_after_commit_is_reconciled(sim: Simulator, client: PingBackClient) -> None:
    sim.inject("drop", method="POST", after_commit=True)
    created = client.create("whatsapp", wa_config(), True)
    assert [c["id"] for c in sim.channels()] == [created.id]
    assert [m for m, _, _ in api(sim)] == ["POST", "GET"]


def test_post_dropped_before_commit_is_sent_again(sim: Simulator, client: PingBackClient) -> None:
    sim.inject("drop", method="POST")
    created = client.create("widget", {"widget_id": "w1"}, True)
    assert [c["id"] for c in sim.channels()] == [created.id]
    assert [(m, s) for m, _, s in api(sim)] == [("POST", "dropped"), ("GET", 200), ("POST", 201)]


def test_post_502_after_commit_is_reconciled(sim: Simulator, client: PingBackClient) -> None:
    # A 5xx on a POST is ambiguous: the list finds nothing, so the POST is sent again.
    sim.inject("status", status=502, method="POST")
    client.create("widget", {}, True)
    assert len(sim.channels()) == 1
    assert [(m, s) for m, _, s in api(sim)] == [("POST", 502), ("GET", 200), ("POST", 201)]


def test_reconcile_does_not_adopt_an_old_identical_channel(
    sim: Simulator, client: PingBackClient
) -> None:
    old = client.create("widget", {}, True)
    # make the existing one look old: created well before the ambiguous POST
    with sim.state.lock:
        sim.state.channels[old.id]["created_at"] = "2020-01-01T00:00:00Z"
    sim.inject("drop", method="POST")
    new = client.create("widget", {}, True)
    assert new.id != old.id and len(sim.channels()) == 2


def test_ambiguous_post_when_listing_fails_says_what_to_check(sim: Simulator) -> None:
    sim.inject("hang", method="POST", delay=1.0, times=None)
    sim.inject("status", status=503, method="GET", times=None)
    c = quick(sim, timeout=0.3, max_retries=1)
    with pytest.raises(PingBackError, match="look for a new widget channel in PingBack") as info:
        c.create("widget", {"k": CANARY}, True)
    assert CANARY not in str(info.value)


# ---- pool and threads ---------------------------------------------------------------------


def test_connections_are_reused(sim: Simulator, client: PingBackClient) -> None:
    for _ in range(20):
        client.create("widget", {}, True)
    assert sim.connections() == 1


def test_concurrent_reads_share_one_list_and_writes_invalidate(
    sim: Simulator, client: PingBackClient
) -> None:
    sim.set_latency(0.2)
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(len(client.list()))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [0] * 8
    assert [m for m, _, _ in api(sim)] == ["GET"]
    sim.set_latency(0)
    client.list()  # inside the read window, no write since: shared
    assert len(sim.requests()) == 1
    client.create("widget", {}, True)
    assert len(client.list()) == 1  # a write invalidates: a fresh list
    assert [m for m, _, _ in api(sim)] == ["GET", "POST", "GET"]


def test_client_is_never_pickled_and_hides_the_token() -> None:
    import pickle

    c = PingBackClient(CANARY, base_url="http://127.0.0.1:1")
    assert CANARY not in repr(c)
    with pytest.raises(TypeError, match="never pickled"):
        pickle.dumps(c)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="must start with http"):
        PingBackClient("t", base_url="api.pingback.live")
    with pytest.raises(ConfigurationError, match="pingback:timeout"):
        PingBackClient("t", timeout=0)


def test_a_delete_that_landed_before_retries_ran_out_is_a_success(sim: Simulator) -> None:
    c = quick(sim, max_retries=1)
    cid = c.create("widget", {}, True).id
    sim.inject("drop", method="DELETE", after_commit=True)  # deleted, answer lost
    sim.inject("status", status=503, method="DELETE")  # the retry fails
    assert c.delete(cid) is True
    assert sim.channels() == []
    assert [(m, s) for m, _, s in api(sim)][-3:] == [
        ("DELETE", "dropped"),
        ("DELETE", 503),
        ("GET", 200),
    ]


def test_a_patch_that_landed_before_a_final_429_is_a_success(sim: Simulator) -> None:
    c = quick(sim, max_retries=1)
    cid = c.create("widget", {"v": "1"}, True).id
    sim.inject("hang", method="PATCH", delay=1.0)
    sim.inject("status", status=429, retry_after="0", method="PATCH")
    c2 = quick(sim, max_retries=1, timeout=0.3)
    assert c2.update(cid, "widget", {"v": "2"}, False).user_config == {"v": "2"}


def test_a_patch_that_did_not_land_still_fails(sim: Simulator) -> None:
    c = quick(sim, max_retries=1)
    cid = c.create("widget", {"v": "1"}, True).id
    sim.inject("drop", method="PATCH")  # dropped before the write
    sim.inject("status", status=503, method="PATCH")
    with pytest.raises(InternalServerError):
        c.update(cid, "widget", {"v": "2"}, True)
    assert sim.channels()[0]["config"] == {"v": "1"}
