"""The simulator as users run it: `pingback-simulator`, answering as the docs describe."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pulumi_pingback.simulator import Simulator

from .conftest import TG, TG_ROTATED, TOKEN, wa_config
from .engine import ROOT, SimulatorProcess


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
    widget = {"type": "widget", "config": {"widget_id": "w1"}}
    for _ in range(3):
        httpx.post(cli_sim + "/api/v1/channels/", headers=auth, json=widget)
    over = httpx.post(cli_sim + "/api/v1/channels/", headers=auth, json=widget)
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
    widget = {"type": "widget", "config": {"widget_id": "w1"}}
    assert httpx.post(sim.url + "/api/v1/channels/", headers=auth, json=widget).status_code == 201
    assert (
        httpx.post(sim.url + "/api/v1/channels/", headers=auth, json=widget).json()["error"]
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


# ---- faithful to the docs, strict where they are ------------------------------------------


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"type": "webchat", "config": {}, "is_active": "false"}, "is_active must be a boolean"),
        ({"type": "webchat", "config": {}, "is_active": None}, "is_active must be a boolean"),
        ({"type": "telegram", "config": {"bot_token": 123}}, "Config fields must be strings"),
        ({"type": "widget", "config": {}}, "Missing required config fields for widget: widget_id"),
    ],
)
def test_types_are_strict_as_the_api_documents(
    sim: Simulator, body: dict[str, Any], detail: str
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    answer = httpx.post(sim.url + "/api/v1/channels/", headers=auth, json=body)
    assert answer.status_code == 400 and detail in answer.json()["detail"]
    assert sim.channels() == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_sim/faults", {"kind": "explode"}),
        ("/_sim/faults", {"kind": "status", "status": "abc"}),
        ("/_sim/faults", {"kind": "status", "status": 42}),
        ("/_sim/faults", {"kind": "latency", "delay": "slow"}),
        ("/_sim/faults", {"kind": "latency", "delay": 1, "nonsense": True}),
        ("/_sim/config", {"latency": "slow"}),
        ("/_sim/config", {"plan": "gold"}),
        ("/_sim/config", {"limit": -1}),
        ("/_sim/config", {"token": ""}),
        ("/_sim/faults", {"kind": "status", "status": 302, "location": ["x"]}),
    ],
)
def test_the_control_surface_refuses_what_it_cannot_serve(
    sim: Simulator, path: str, body: dict[str, Any]
) -> None:
    assert httpx.post(sim.url + path, json=body).status_code == 400
    assert sim.fault_rules() == [] and sim.state.latency == 0
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(sim.url + "/api/v1/channels/", headers=auth).status_code == 200


def test_a_token_rotation_refuses_the_old_token(sim: Simulator) -> None:
    assert httpx.post(sim.url + "/_sim/config", json={"token": "rotated-0003"}).is_success
    old = httpx.get(sim.url + "/api/v1/channels/", headers={"Authorization": f"Bearer {TOKEN}"})
    new = httpx.get(sim.url + "/api/v1/channels/", headers={"Authorization": "Bearer rotated-0003"})
    assert (old.status_code, new.status_code) == (401, 200)


def test_the_host_header_is_never_reflected(sim: Simulator) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}", "Host": "evil.example"}
    made = httpx.post(
        sim.url + "/api/v1/channels/",
        headers=auth,
        json={"type": "whatsapp", "config": wa_config()},
    ).json()
    assert made["config"]["_meta_setup_instructions"]["callback_url"] == (
        f"{sim.url}/api/v1/webhooks/whatsapp"
    )


def test_the_command_line_tells_the_user_what_they_need() -> None:
    help_text = subprocess.run(
        [sys.executable, "-m", "pulumi_pingback.simulator", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for option in ("--host", "--port", "--token", "--agent-token", "--plan", "--public-url"):
        assert option in help_text
    # each default once, and none for a flag (argparse's "(default: None)" / "False")
    flat = " ".join(help_text.split())
    defaults = [d.split(")")[0] for d in flat.split("(default: ")[1:]]
    assert defaults == ["127.0.0.1", "8787", "sim-token", "none", "pro", "http://HOST:PORT"]
    with SimulatorProcess("--token", "tok-1") as process:
        httpx.get(process.url + "/api/v1/channels/", headers={"Authorization": "Bearer tok-1"})
        httpx.get(process.url + "/api/v1/channels/")
        busy = subprocess.run(
            [sys.executable, "-m", "pulumi_pingback.simulator", "--port", str(process.port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        log = process.close()
    assert busy.returncode == 1
    assert busy.stderr == (
        f"pingback-simulator: 127.0.0.1:{process.port} is in use; pick another with --port\n"
    )
    lines = log.splitlines()
    assert lines[0] == f"PingBack simulator on {process.url} (plan pro); owner token: tok-1"
    assert f"export PINGBACK_API_URL={process.url} PINGBACK_TOKEN=tok-1" in lines[1]
    requests = [line for line in lines if line.startswith("GET")]
    assert len(requests) == 2  # one line per request
    assert "-> 200" in requests[0] and "-> 401" in requests[1]


def test_without_the_simulator_extra_it_says_what_to_install() -> None:
    code = (
        "import sys; sys.modules['aiohttp'] = None; "
        "from pulumi_pingback.simulator.__main__ import main; main([])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr == (
        "pingback-simulator needs the simulator extra: pip install 'pulumi-pingback[simulator]'\n"
    )


def test_the_simulator_process_keeps_answering_after_thousands_of_log_lines() -> None:
    """Its log goes to a pipe the harness drains: a full pipe would block it mid-answer
    (a 200-create benchmark hung on a DELETE that way)."""
    path = "/api/v1/channels/3fa85f64-5717-4562-b3fc-2c963f66afa6"
    with SimulatorProcess("--token", "tok-1") as process:
        with httpx.Client(base_url=process.url, timeout=5) as c:
            for _ in range(2000):  # ~75 bytes of log each: well past a 64 KiB pipe
                assert c.get(path).status_code == 405  # no such route: logged all the same
        log = process.close()
    assert len(log) > 128 * 1024
    assert sum(1 for line in log.splitlines() if line.startswith("GET")) == 2000


def refused(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[object, str, str]:
    """What the command line says to ``args`` it refuses before serving: its exit code,
    stdout and stderr (in this process: the same ``main`` the console script runs, whose
    process is tested above)."""
    from pulumi_pingback.simulator.__main__ import main

    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return done.value.code, out, err


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["--port", "99999"],
            "pingback-simulator: error: argument --port: '99999' is not a port: give 0 to "
            "65535 (0: any free port) (see --help)",
        ),
        (
            ["--port", "-1"],
            "pingback-simulator: error: argument --port: '-1' is not a port: give 0 to "
            "65535 (0: any free port) (see --help)",
        ),
        (
            # TEST-NET-1 (RFC 5737): an address, but never one of this machine's (no DNS)
            ["--host", "192.0.2.1", "--port", "0"],
            "pingback-simulator: error: --host 192.0.2.1 is not an address of this machine",
        ),
        (
            ["--plan", "gold"],
            "pingback-simulator: error: argument --plan: invalid choice: 'gold' (choose from "
            "'free', 'mini', 'pro') (see --help)",
        ),
    ],
    ids=["port-too-big", "port-negative", "host-not-here", "plan"],
)
def test_a_bad_option_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str], args: list[str], line: str
) -> None:
    assert refused(capsys, *args) == (2, "", line + "\n")


def test_a_host_that_does_not_resolve_is_one_line_naming_it() -> None:
    # getaddrinfo made to fail as a resolver does for an unknown name: no DNS is asked
    code = (
        "import socket, sys\n"
        "def unknown(*args, **kwargs):\n"
        "    raise socket.gaierror(socket.EAI_NONAME, 'Name or service not known')\n"
        "socket.getaddrinfo = unknown\n"
        "from pulumi_pingback.simulator.__main__ import main\n"
        "main(['--host', 'no-such-host.example', '--port', '0'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "pingback-simulator: error: --host no-such-host.example: no such address "
        "(Name or service not known)\n"
    )


def test_port_0_prints_the_port_it_got() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pulumi_pingback.simulator", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = [proc.stdout.readline() for _ in range(3)]
        url = banner[0].split(" on ", 1)[1].split(" ", 1)[0]
        host, port = url.removeprefix("http://").rsplit(":", 1)
        assert host == "127.0.0.1" and 0 < int(port) <= 65535
        assert banner[1].strip() == f"export PINGBACK_API_URL={url} PINGBACK_TOKEN=sim-token"
        assert f"pulumi config set pingback:apiUrl {url} " in banner[2]
        auth = {"Authorization": "Bearer sim-token"}
        assert httpx.get(url + "/api/v1/channels/", headers=auth).json() == []
        made = httpx.post(
            url + "/api/v1/channels/",
            headers=auth,
            json={"type": "whatsapp", "config": wa_config()},
        ).json()
        # the callback URL is built from the real port, not from port 0
        assert made["config"]["_meta_setup_instructions"]["callback_url"] == (
            f"{url}/api/v1/webhooks/whatsapp"
        )
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_seed_starts_it_with_a_business_and_a_bad_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = ROOT / "examples" / "adopt-existing" / "sample-business.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pulumi_pingback.simulator",
            "--port=0",
            "--quiet",
            f"--seed={sample}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.rstrip().endswith("; 3 channels from --seed"), first
        url = first.split(" on ", 1)[1].split(" ", 1)[0]
        listed = httpx.get(url + "/api/v1/channels/", headers={"Authorization": "Bearer sim-token"})
        seeded = json.loads(sample.read_text())
        # as stored, in order (a WhatsApp channel's listing adds the Meta instructions)
        assert [
            {**c, "config": {k: v for k, v in c["config"].items() if not k.startswith("_")}}
            for c in listed.json()
        ] == seeded
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    (tmp_path / "odd.json").write_text('{"id": "x"}')
    (tmp_path / "bad.json").write_text("[")
    for name, why in [
        ("missing.json", f"cannot read {tmp_path}/missing.json: No such file or directory"),
        (
            "odd.json",
            f"{tmp_path}/odd.json must hold a JSON list of channel objects, each with a string id",
        ),
        (
            "bad.json",
            f"{tmp_path}/bad.json is not JSON (Expecting value: line 1 column 2 (char 1))",
        ),
    ]:
        assert refused(capsys, "--seed", str(tmp_path / name)) == (
            2,
            "",
            f"pingback-simulator: error: argument --seed: {why} (see --help)\n",
        )


ODD_ITEM = {  # nothing PingBack would list: no business, a type it has not got, no config
    "id": "odd-1",
    "type": "fax",
    "config": None,
    "is_active": "yes",
    "created_at": 1700000000,
    "note": ["kept as it is"],
}


def test_a_planted_channel_is_stored_the_same_way_by_each_of_the_three_paths(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``Simulator.plant``, ``POST /_sim/channels`` and ``--seed FILE`` all store through
    ``SimState.plant``: the same odd item is listed the same way, as it is, and addressed by
    its id; what the HTTP route refuses, ``--seed`` refuses (``Simulator.plant`` alone also
    takes an item without a string id, for tests of a listing with one)."""
    auth = {"Authorization": f"Bearer {TOKEN}"}

    def listed_then_deleted(url: str) -> list[dict[str, Any]]:
        listing = httpx.get(url + "/api/v1/channels/", headers=auth).json()
        assert httpx.get(url + "/_sim/state").json()["channels"] == listing
        assert httpx.delete(url + "/api/v1/channels/odd-1", headers=auth).status_code == 200
        assert httpx.get(url + "/api/v1/channels/", headers=auth).json() == []
        return list(listing)

    assert sim.plant(dict(ODD_ITEM)) == "odd-1"
    by_method = listed_then_deleted(sim.url)
    planted = httpx.post(sim.url + "/_sim/channels", json=ODD_ITEM)
    assert (planted.status_code, planted.json()) == (201, ODD_ITEM)
    by_route = listed_then_deleted(sim.url)
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps([ODD_ITEM]))
    with SimulatorProcess("--quiet", f"--seed={seed}", token=TOKEN) as process:
        by_seed = listed_then_deleted(process.url)
    assert by_method == by_route == by_seed == [ODD_ITEM]

    for odd in ({"id": 7}, {"no": "id"}, [ODD_ITEM], "odd-1"):
        answer = httpx.post(sim.url + "/_sim/channels", json=odd)
        assert (answer.status_code, answer.json()) == (
            400,
            {"detail": "a channel object with a string id"},
        )
        seed.write_text(json.dumps([odd]))
        assert refused(capsys, "--seed", str(seed)) == (
            2,
            "",
            f"pingback-simulator: error: argument --seed: {seed} must hold a JSON list of "
            "channel objects, each with a string id (see --help)\n",
        )
    assert sim.channels() == []
    sim.plant({"id": 7})  # listed, under a key no client can address
    assert httpx.get(sim.url + "/api/v1/channels/", headers=auth).json() == [{"id": 7}]
