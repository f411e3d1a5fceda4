"""PingBackClient against the simulator over real sockets: facts, retries, odd servers."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest

from pulumi_pingback import (
    AmbiguousCreateError,
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    DesiredChannel,
    IdentityConflictError,
    InternalServerError,
    InvalidResponseError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    PingBackClient,
    PlanLimitError,
    RateLimitError,
    RedirectError,
    ResponseTooLargeError,
    __version__,
)
from pulumi_pingback._settings import load_settings
from pulumi_pingback.client import _transport
from pulumi_pingback.client._status import parse_retry_after
from pulumi_pingback.client._transport import send_early
from pulumi_pingback.simulator import Simulator

from .conftest import AGENT_TOKEN, TG, TG_ROTATED, TOKEN, quick, wa_config
from .hostile import BUSINESS, hostile_server, uid

CANARY = "CANARYTOKEN9f8e7d"
D = DesiredChannel


def api(sim: Simulator) -> list[tuple[str, str, object]]:
    return [(r["method"], r["path"], r["status"]) for r in sim.requests()]


def statuses(sim: Simulator) -> list[tuple[str, object]]:
    return [(r["method"], r["status"]) for r in sim.requests()]


def test_crud_round_trip(sim: Simulator, client: PingBackClient) -> None:
    created = client.create(D("telegram", {"bot_token": TG}))
    assert created.type == "telegram" and created.user_config == {"bot_token": TG}
    assert client.get(created.id) == created
    updated = client.update(created.id, D("telegram", {"bot_token": TG}, False))
    assert updated.is_active is False
    assert client.delete(created.id) is True
    assert client.get(created.id) is None
    assert statuses(sim) == [
        ("GET", 200),  # the process's one list: what existed before its first create
        ("POST", 201),
        ("GET", 200),  # a read after a write lists again
        ("PATCH", 200),
        ("DELETE", 200),
        ("GET", 200),
    ]
    assert {r["user_agent"] for r in sim.requests()} == {f"pulumi-pingback/{__version__}"}


def test_n_creates_cost_n_posts_and_one_list(sim: Simulator, client: PingBackClient) -> None:
    for i in range(5):
        client.create(D("sms", {"widget_id": f"w{i}"}))
    assert [m for m, _ in statuses(sim)] == ["GET"] + ["POST"] * 5


def test_delete_of_a_missing_channel_is_gone_once_a_list_confirms_it(
    sim: Simulator, client: PingBackClient
) -> None:
    missing = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    assert client.delete(missing) is False
    assert api(sim) == [
        ("DELETE", f"/api/v1/channels/{missing}", 404),
        ("GET", "/api/v1/channels/", 200),
    ]


def test_a_404_on_delete_from_the_route_is_an_error_when_the_list_shows_the_channel(
    sim: Simulator, client: PingBackClient
) -> None:
    cid = client.create(D("sms", {})).id
    sim.inject("status", status=404, method="DELETE", body="html")  # a proxy's not-found page
    with pytest.raises(NotFoundError) as info:
        client.delete(cid)
    assert info.value.listed is True
    assert [c["id"] for c in sim.channels()] == [cid]


def test_a_wrong_api_url_is_a_404_on_the_list_not_already_deleted() -> None:
    with hostile_server() as elsewhere:  # a host that answers 404 to everything
        elsewhere.failure = (404, {"detail": "Not Found"})
        _a_404_on_the_list_is_not_already_deleted(quick(elsewhere))  # type: ignore[arg-type]


def _a_404_on_the_list_is_not_already_deleted(c: PingBackClient) -> None:
    with pytest.raises(NotFoundError) as info:
        c.delete("3fa85f64-5717-4562-b3fc-2c963f66afa6")
    assert info.value.path == "/api/v1/channels/" and info.value.method == "GET"
    with pytest.raises(NotFoundError) as info:
        c.create(D("sms", {}))
    assert info.value.method == "GET"  # the baseline list comes first


def test_update_of_a_missing_channel_is_404_not_listed(client: PingBackClient) -> None:
    nope = "00000000-0000-4000-8000-00000000dead"
    with pytest.raises(
        NotFoundError, match=rf"404 Not Found to PATCH /api/v1/channels/{nope}"
    ) as e:
        client.update(nope, D("sms", {}))
    assert e.value.listed is False


def test_400_quotes_the_server_and_never_the_config(sim: Simulator, client: PingBackClient) -> None:
    with pytest.raises(BadRequestError) as info:
        client.create(D("telegram", {"bot_tokn": CANARY}))
    msg = str(info.value)
    assert msg == (
        "PingBack refused the channel (400 on POST /api/v1/channels/): "
        "Missing required config fields for telegram: bot_token"
    )
    assert CANARY not in repr(info.value)
    assert [m for m, _ in statuses(sim)] == ["GET", "POST"]  # a 400 is not retried


def test_400_server_message_echoing_a_secret_is_redacted(sim: Simulator) -> None:
    sim.inject("status", status=400, method="POST", detail=f"invalid key {CANARY} for sms")
    with pytest.raises(BadRequestError) as info:
        quick(sim).create(D("sms", {"key": CANARY}))
    assert "invalid key [secret] for sms" in str(info.value)
    assert CANARY not in str(info.value) and CANARY not in repr(info.value.body)


def test_401_is_a_fact_about_the_token(sim: Simulator) -> None:
    c = quick(sim, token=CANARY)
    with pytest.raises(AuthenticationError) as info:
        c.list()
    assert str(info.value) == (
        "PingBack rejected the API token (401 on GET /api/v1/channels/): "
        "Could not validate credentials"
    )
    assert CANARY not in repr(info.value)


def test_no_token_fails_before_any_request(sim: Simulator) -> None:
    with pytest.raises(ConfigurationError, match="no PingBack API token"):
        quick(sim, token=None).list()
    assert sim.requests() == []


def test_403_for_a_non_owner_token(sim: Simulator) -> None:
    with pytest.raises(PermissionDeniedError) as info:
        quick(sim, token=AGENT_TOKEN).list()
    assert str(info.value) == (
        "PingBack refused GET /api/v1/channels/ (403): Only the business owner can manage channels"
    )


def test_402_limit_exceeded_gives_plan_and_counts(sim: Simulator) -> None:
    sim.set_plan("mini")
    c = quick(sim)
    for i in range(3):
        c.create(D("sms", {"widget_id": str(i)}))
    with pytest.raises(PlanLimitError) as info:
        c.create(D("sms", {}))
    assert str(info.value) == (
        "PingBack plan limit (402 on POST /api/v1/channels/): "
        "the Mini plan is at its limit for channels (3/3)"
    )
    assert info.value.error == "limit_exceeded"


def test_402_feature_locked_on_free(sim: Simulator) -> None:
    sim.set_plan("free")
    with pytest.raises(PlanLimitError) as info:
        quick(sim).create(D("telegram", {"bot_token": TG}))
    assert str(info.value).endswith("the Free plan does not include integrations")
    assert info.value.error == "feature_locked"


def test_429_honours_retry_after(sim: Simulator) -> None:
    sim.inject("status", status=429, retry_after="0.3", times=2, method="GET")
    c = quick(sim)
    start = time.monotonic()
    assert c.list() == []
    elapsed = time.monotonic() - start
    assert [s for _, s in statuses(sim)] == [429, 429, 200]
    assert elapsed >= 0.6
    assert c.counters["retries"] == 2


def test_429_with_an_http_date() -> None:
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
    client.create(D("sms", {}))
    assert statuses(sim) == [("GET", 200), ("POST", 429), ("POST", 201)]
    assert len(sim.channels()) == 1


def test_5xx_is_retried_with_backoff_then_gives_up_with_the_facts(sim: Simulator) -> None:
    sim.inject("status", status=503, times=None, method="DELETE")
    c = quick(sim, max_retries=2)
    cid = c.create(D("sms", {})).id
    with pytest.raises(InternalServerError) as info:
        c.delete(cid)
    assert str(info.value) == (
        f"PingBack failed on DELETE /api/v1/channels/{cid} (503): injected fault"
    )
    assert [m for m, _ in statuses(sim)].count("DELETE") == 3


def test_a_dropped_get_is_retried(sim: Simulator, client: PingBackClient) -> None:
    sim.inject("drop", method="GET")
    assert client.list() == []
    assert [s for _, s in statuses(sim)] == ["dropped", 200]


def test_connect_failure_is_retried_then_reported(sim: Simulator) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = PingBackClient(
        TOKEN, base_url=f"http://127.0.0.1:{port}", max_retries=2, backoff_initial=0.01
    )
    with pytest.raises(APIConnectionError, match="could not connect to PingBack") as info:
        c.list()
    assert info.value.sent is False
    assert c.counters["requests"] == 3
    assert str(info.value).endswith("(ConnectError); 3 attempts over 0 s")


def test_a_server_that_never_answers_says_how_long_it_really_waited() -> None:
    """Each attempt's timeout, the retries and the backoff add up: the message says the
    whole wait and the number of attempts, not one attempt's timeout alone."""
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        c = PingBackClient(
            TOKEN,
            base_url=f"http://127.0.0.1:{port}",
            timeout=0.4,
            max_retries=2,
            backoff_initial=0.3,
        )
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as info:
            c.list()
        waited = time.monotonic() - started
    assert c.counters["requests"] == 3
    said = re.fullmatch(
        r"PingBack did not answer GET /api/v1/channels/ within 0\.4 s \(ReadTimeout\); "
        r"3 attempts over (\d+) s",
        str(info.value),
    )
    assert said, str(info.value)
    assert abs(int(said.group(1)) - waited) <= 1  # the whole wait, not one attempt's 0.4 s
    assert waited >= 3 * 0.4 + 0.2  # three timeouts and the backoff between them


# ---- redirects are errors, never followed --------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "DELETE"])
def test_a_redirect_is_an_error_naming_status_and_location(
    sim: Simulator, method: str, status: int
) -> None:
    with Simulator(token=TOKEN) as elsewhere:  # where the redirect points
        c = quick(sim)
        cid = c.create(D("sms", {"v": "1"})).id
        sim.clear_log()
        target = f"{elsewhere.url}/api/v1/channels/{cid}?token=x"
        sim.inject("status", status=status, method=method, location=target)
        with pytest.raises(RedirectError) as info:
            if method == "GET":
                c.listing(fresh=True)
            elif method == "POST":
                c.create(D("sms", {"v": "2"}))
            elif method == "PATCH":
                c.update(cid, D("sms", {"v": "2"}))
            else:
                c.delete(cid)
        assert info.value.status_code == status and info.value.location == target
        assert f"with a redirect ({status}) to {target}; redirects are never followed" in str(
            info.value
        )
        assert elsewhere.requests() == []  # not followed: the token went nowhere else
        assert [ch["config"] for ch in sim.channels()] == [{"v": "1"}]  # nothing changed


# ---- odd answers ----------------------------------------------------------------------------


def test_an_unreadable_2xx_to_a_patch_is_read_back(sim: Simulator, client: PingBackClient) -> None:
    cid = client.create(D("sms", {"v": "1"})).id
    sim.inject("body", method="PATCH", body="html")
    assert client.update(cid, D("sms", {"v": "2"})).user_config == {"v": "2"}


def test_a_list_that_is_not_an_array_says_what_came_back(sim: Simulator) -> None:
    sim.inject("body", method="GET", body="wrapped")
    with pytest.raises(InvalidResponseError) as info:
        quick(sim).list()
    assert str(info.value) == (
        "PingBack answered GET /api/v1/channels/ with 200 and a JSON object (keys: data) "
        "(a paginated or wrapped list?), not the JSON array of channels"
    )
    sim.inject("body", method="GET", body="html")
    with pytest.raises(InvalidResponseError, match="an HTML page"):
        quick(sim).list()


def test_malformed_channels_do_not_break_reading_the_others(
    sim: Simulator, client: PingBackClient
) -> None:
    good = client.create(D("sms", {"v": "1"}))
    odds: list[dict[str, Any]] = [
        {"config": None},
        {"is_active": None},
        {"created_at": 1700000000},
        {"type": None},
    ]
    for i, odd in enumerate(odds):
        base: dict[str, Any] = {
            "id": uid(100 + i),
            "business_id": BUSINESS,
            "type": "webchat",
            "config": {},
            "is_active": True,
            "created_at": "2024-01-01T00:00:00Z",
        }
        sim.plant({**base, **odd})
    sim.plant({"no": "id"})
    assert client.get(good.id, fresh=True) == good
    assert client.update(good.id, D("sms", {"v": "2"}, False)).is_active is False
    with pytest.raises(
        InvalidResponseError, match=rf"channel {uid(100 + 0)} with fields .*\(config\)"
    ):
        client.get(uid(100 + 0))
    listing = client.listing()
    assert sorted(listing.malformed) == [uid(100 + i) for i in range(4)]


# ---- bounds ---------------------------------------------------------------------------------


def test_a_dripping_server_is_cut_off_at_the_deadline(sim: Simulator) -> None:
    quick(sim).create(D("sms", {"widget_id": "w"}))  # a list answer of ~200 bytes
    sim.inject("drip", method="GET", delay=0.3, times=None)
    c = quick(sim, timeout=0.5, max_retries=0)
    start = time.monotonic()
    with pytest.raises(APITimeoutError) as info:
        c.list()
    elapsed = time.monotonic() - start
    assert 1.0 <= elapsed < 1.6  # the deadline: 2 x timeout
    assert str(info.value) == (
        "PingBack did not finish answering GET /api/v1/channels/ within the 1 s deadline "
        "(ReadTimeout)"
    )


def test_an_oversized_answer_stops_at_the_cap(sim: Simulator) -> None:
    sim.inject("oversize", method="GET", size=64 * 2**20)
    c = quick(sim, max_answer_bytes=2**20)
    before = _rss_peak_kib()
    with pytest.raises(ResponseTooLargeError, match="larger than 1 MiB; reading stopped there"):
        c.list()
    assert _rss_peak_kib() - before < 32 * 1024  # far below the 64 MiB sent


def _rss_peak_kib() -> int:
    for line in open(f"/proc/{os.getpid()}/status"):  # noqa: SIM115
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


# ---- creates never guess ------------------------------------------------------------------


def test_commit_then_hang_post_is_reconciled_not_duplicated(sim: Simulator) -> None:
    sim.inject("hang", method="POST", delay=1.5)
    c = quick(sim, timeout=0.5)
    created = c.create(D("telegram", {"bot_token": TG}))
    assert [ch["id"] for ch in sim.channels()] == [created.id]
    assert statuses(sim) == [("GET", 200), ("POST", 201), ("GET", 200)]
    assert c.counters["reconciled"] == 1


def test_post_dropped_after_commit_is_reconciled(sim: Simulator, client: PingBackClient) -> None:
    sim.inject("drop", method="POST", after_commit=True)
    created = client.create(D("whatsapp", wa_config()))
    assert [c["id"] for c in sim.channels()] == [created.id]
    assert [m for m, _ in statuses(sim)] == ["GET", "POST", "GET"]


def test_post_dropped_before_commit_is_sent_again_after_the_settle_window(
    sim: Simulator,
) -> None:
    sim.inject("drop", method="POST")
    c = quick(sim, settle_window=0.3)
    created = c.create(D("sms", {"widget_id": "w1"}))
    assert [ch["id"] for ch in sim.channels()] == [created.id]
    log = statuses(sim)
    assert log[:2] == [("GET", 200), ("POST", "dropped")] and log[-1] == ("POST", 201)
    assert {m for m, _ in log[2:-1]} == {"GET"} and len(log[2:-1]) >= 2  # looked, then again


def test_a_5xx_that_created_nothing_is_sent_again(sim: Simulator) -> None:
    sim.inject("status", status=502, method="POST")
    c = quick(sim, settle_window=0.2)
    created = c.create(D("sms", {}))
    assert [ch["id"] for ch in sim.channels()] == [created.id]
    assert [s for m, s in statuses(sim) if m == "POST"] == [502, 201]


def test_two_new_matching_channels_fail_listing_both(sim: Simulator) -> None:
    c = quick(sim, timeout=0.3, max_retries=0)
    c.listing()  # the baseline
    quick(sim).create(D("webchat", {}))  # someone else makes the same channel after it
    sim.inject("hang", method="POST", delay=1.0)  # ours lands; its answer is lost
    with pytest.raises(AmbiguousCreateError) as info:
        c.create(D("webchat", {}))
    assert sorted(info.value.candidates) == sorted(ch["id"] for ch in sim.channels())
    assert len(info.value.candidates) == 2
    assert ", ".join(info.value.candidates) in str(info.value)


def test_an_ambiguous_post_when_listing_fails_is_outcome_unknown(sim: Simulator) -> None:
    sim.inject("hang", method="POST", delay=1.0, times=None)
    c = quick(sim, timeout=0.3, max_retries=1)
    c.listing()
    sim.inject("status", status=503, method="GET", times=None)
    with pytest.raises(OutcomeUnknownError) as info:
        c.create(D("sms", {"k": CANARY}))
    assert "listing the channels to check failed too" in str(info.value)
    assert CANARY not in str(info.value)


# ---- one identity, one channel -------------------------------------------------------------


def test_a_second_channel_for_the_same_bot_fails_before_any_write(
    sim: Simulator, client: PingBackClient
) -> None:
    first = client.create(D("telegram", {"bot_token": TG}))
    sim.clear_log()
    with pytest.raises(IdentityConflictError) as info:
        client.create(D("telegram", {"bot_token": TG_ROTATED}))
    assert info.value.other_id == first.id
    assert str(info.value) == (
        f"the Telegram bot 7123456789 is already bound to channel {first.id} "
        "of this PingBack business"
    )
    assert sim.requests() == []


def test_the_guard_sees_channels_made_elsewhere(sim: Simulator) -> None:
    theirs = quick(sim).create(D("whatsapp", wa_config()))
    with pytest.raises(IdentityConflictError) as info:
        quick(sim).create(D("whatsapp", wa_config(access="other")))
    assert info.value.other_id == theirs.id


def test_the_guard_allows_the_same_bot_once_its_channel_is_deleted(
    sim: Simulator, client: PingBackClient
) -> None:
    first = client.create(D("telegram", {"bot_token": TG}))
    client.delete(first.id)
    second = client.create(D("telegram", {"bot_token": TG}))
    assert [c["id"] for c in sim.channels()] == [second.id]


# ---- pool and threads ---------------------------------------------------------------------


def test_connections_are_reused(sim: Simulator, client: PingBackClient) -> None:
    for i in range(20):
        client.create(D("sms", {"n": str(i)}))
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
    client.create(D("sms", {}))
    assert len(client.list()) == 1  # a write invalidates: a fresh list
    assert [m for m, _, _ in api(sim)] == ["GET", "POST", "GET"]


def test_client_is_never_pickled_and_hides_the_token() -> None:
    import pickle

    c = PingBackClient(CANARY, base_url="http://127.0.0.1:1")
    assert CANARY not in repr(c)
    with pytest.raises(TypeError, match="never pickled"):
        pickle.dumps(c)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="must be an http:// or https:// URL"):
        PingBackClient("t", base_url="api.pingback.live")
    with pytest.raises(ConfigurationError, match="timeout"):
        PingBackClient("t", timeout=0)


# ---- every write is settled ------------------------------------------------------------------


def test_a_delete_that_landed_before_retries_ran_out_is_a_success(sim: Simulator) -> None:
    c = quick(sim, max_retries=1)
    cid = c.create(D("sms", {})).id
    sim.inject("drop", method="DELETE", after_commit=True)  # deleted, answer lost
    sim.inject("status", status=503, method="DELETE")  # the retry fails
    assert c.delete(cid) is True
    assert sim.channels() == []
    assert statuses(sim)[-3:] == [("DELETE", "dropped"), ("DELETE", 503), ("GET", 200)]


def test_a_patch_that_landed_before_a_final_429_is_a_success(sim: Simulator) -> None:
    c = quick(sim, max_retries=1)
    cid = c.create(D("sms", {"v": "1"})).id
    sim.inject("hang", method="PATCH", delay=1.0)
    sim.inject("status", status=429, retry_after="0", method="PATCH")
    c2 = quick(sim, max_retries=1, timeout=0.3)
    assert c2.update(cid, D("sms", {"v": "2"}, False)).user_config == {"v": "2"}


def test_a_patch_that_did_not_land_still_fails(sim: Simulator) -> None:
    c = quick(sim, max_retries=1)
    cid = c.create(D("sms", {"v": "1"})).id
    sim.inject("drop", method="PATCH")  # dropped before the write
    sim.inject("status", status=503, method="PATCH")
    with pytest.raises(InternalServerError):
        c.update(cid, D("sms", {"v": "2"}))
    assert sim.channels()[0]["config"] == {"v": "1"}


def test_no_cookie_an_answer_sets_reaches_a_later_request() -> None:
    """The token is the one credential a request carries: a cookie an answer sets (a
    proxy's, a load balancer's session) is never sent back, to this token's requests or
    another's sharing the process's pool."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    sent: list[tuple[str | None, str | None]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            sent.append((self.headers.get("Authorization"), self.headers.get("Cookie")))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Set-Cookie", "session=s3cr3t; Path=/")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"[]")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        for token in (TOKEN, TOKEN, AGENT_TOKEN):
            PingBackClient(token, base_url=url).list()
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert [auth for auth, _ in sent] == [f"Bearer {t}" for t in (TOKEN, TOKEN, AGENT_TOKEN)]
    assert [cookie for _, cookie in sent] == [None, None, None]


# ---- the first list, sent early (the native plugin's CheckConfig) ----------------------------


@pytest.fixture
def early_lists() -> Iterator[None]:
    yield
    _transport._EARLY.clear()  # process-wide: no test leaves one for the next


def test_a_list_sent_early_is_taken_once_and_dated_when_it_was_sent(
    sim: Simulator, early_lists: None
) -> None:
    sim.set_latency(0.3)
    settings = load_settings({"pingback:token": TOKEN, "pingback:apiUrl": sim.url})
    written = threading.Event()
    sent_at = time.monotonic()
    early = threading.Thread(target=send_early, args=(settings,), kwargs={"sending": written.set})
    early.start()
    assert written.wait(10)  # the request is written: what remains is its round trip
    other = quick(sim, token=AGENT_TOKEN)  # another token does not take it
    client = quick(sim)
    time.sleep(0.05)
    asked = time.monotonic()
    listing = client.listing()
    assert sent_at <= listing.began < asked  # of the time it was sent, not taken
    assert [r["status"] for r in sim.requests()] == [200]
    with pytest.raises(PermissionDeniedError):  # its own list: an agent may not list
        other.listing()
    client.listing(fresh=True)  # anything later is a list of its own
    assert len(sim.requests()) == 3
    early.join(10)
    send_early(settings)  # once per token, URL and process
    assert len(sim.requests()) == 3


def test_an_early_list_too_old_to_start_from_is_not_taken(
    sim: Simulator, early_lists: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings({"pingback:token": TOKEN, "pingback:apiUrl": sim.url})
    send_early(settings)
    monkeypatch.setattr(_transport, "EARLY_WINDOW", 0.0)
    time.sleep(0.01)
    quick(sim).listing()
    assert len(sim.requests()) == 2
