"""examples/try_it.py: what runs without the Pulumi CLI is tested here (the real CLI runs
it in tests/cli/test_try_it.py).

A stand-in `pulumi` on PATH records each command, its environment and the project it
ran in, and on `up` makes the dev stack's widget in the simulator, as the real one does.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "try_it.py"

FAKE_PULUMI = """\
#!{python}
import json, os, sys, urllib.request
log = {log!r}
args = sys.argv[1:]
entry = {{"args": args, "cwd": os.getcwd(),
          "backend": os.environ.get("PULUMI_BACKEND_URL"),
          "passphrase": os.environ.get("PULUMI_CONFIG_PASSPHRASE"),
          "home": os.environ.get("PULUMI_HOME"),
          "journal": os.environ.get("PINGBACK_STATE_DIR"),
          "project": open("Pulumi.yaml").read()}}
with open(log, "a") as out:
    out.write(json.dumps(entry) + "\\n")
state = log + ".url"
if args[:3] == ["config", "set", "pingback:apiUrl"]:
    open(state, "w").write(args[3])
if args[:1] == ["up"]:
    request = urllib.request.Request(
        open(state).read() + "/api/v1/channels/",
        data=json.dumps({{"type": "widget", "config": {{"widget_id": "dev-support-widget"}}}}).encode(),
        headers={{"Authorization": "Bearer sim-token", "Content-Type": "application/json"}},
    )
    urllib.request.urlopen(request)
    print("Resources: + 1 created")
"""


def test_without_the_pulumi_cli_it_says_how_to_get_it(tmp_path: Path) -> None:
    # no pulumi on PATH, and no build of scripts/pulumi-cli/build in its cache
    env = {k: v for k, v in os.environ.items() if k != "PINGBACK_PULUMI_BIN"}
    env.update(PATH=str(tmp_path), PINGBACK_CLI_CACHE=str(tmp_path / "no-cache"))
    out = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, env=env)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith("try_it: the Pulumi CLI is not installed (no `pulumi` on PATH).")
    assert "https://www.pulumi.com/docs/install/" in out.stderr
    assert "scripts/pulumi-cli/build" in out.stderr


def test_it_runs_up_on_the_dev_stack_of_a_throwaway_backend(tmp_path: Path) -> None:
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.jsonl"
    bin_dir.mkdir()
    fake = bin_dir / "pulumi"
    fake.write_text(FAKE_PULUMI.format(python=sys.executable, log=str(log)))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    out = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stdout + out.stderr
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    args = [c["args"] for c in calls]
    assert args[0] == ["stack", "init", "dev", "--non-interactive"]
    assert args[1][:3] == ["config", "set", "pingback:apiUrl"]
    assert args[2] == ["config", "set", "--secret", "pingback:token", "sim-token", "--stack", "dev"]
    assert args[3] == ["up", "--yes", "--stack", "dev", "--non-interactive"]
    for call in calls:
        assert call["backend"].startswith("file://") and "pingback-try-" in call["backend"]
        assert call["passphrase"] == "try-it-throwaway"
        assert "pingback-try-" in call["home"] and "pingback-try-" in call["journal"]
        assert f"virtualenv: {sys.prefix}" in call["project"]
        assert Path(call["cwd"]).name == "multi-env" and "pingback-try-" in call["cwd"]
    assert not Path(calls[0]["cwd"]).exists()  # thrown away
    table = out.stdout.split("The channels PingBack (the simulator) now holds:")[1]
    assert "widget" in table and "1 channel" in table
