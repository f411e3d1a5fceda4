"""Try pulumi-pingback end to end in one command — for a machine with the Pulumi CLI.

    .venv/bin/python examples/try_it.py

It starts the bundled PingBack simulator on a free port, copies examples/multi-env to a
temporary folder wired to this Python (the virtualenv pulumi-pingback is installed in),
uses a throwaway local backend, PULUMI_HOME and passphrase, runs `pulumi up --yes` on
the dev stack, and lists the channels it made with `pingback channels`. Nothing outside
the temporary folder is touched; everything goes away when it ends.

The CLI is the `pulumi` on PATH, or else the one `scripts/pulumi-cli/build` made (in
PINGBACK_PULUMI_BIN or its cache). Without either it stops and says how to get one.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent / "multi-env"
TOKEN = "sim-token"  # the simulator's default owner token
PASSPHRASE = "try-it-throwaway"  # encrypts the throwaway stack's secrets; nothing else
INSTALL = (
    "try_it: the Pulumi CLI is not installed (no `pulumi` on PATH). Install it from "
    "https://www.pulumi.com/docs/install/, or build it from the Go module proxy with "
    "scripts/pulumi-cli/build (a few minutes; it needs Go), and run this again."
)


def find_cli() -> tuple[str, str | None] | None:
    """The `pulumi` to run, and the folder to put first on PATH (the built CLI's, which
    holds its language hosts), or None."""
    on_path = shutil.which("pulumi")
    if on_path is not None:
        return on_path, None
    given = os.environ.get("PINGBACK_PULUMI_BIN")
    cache = os.environ.get("PINGBACK_CLI_CACHE") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pulumi-pingback" / "cli"
    )
    for folder in (given, str(Path(cache) / "bin")):
        if folder and (Path(folder) / "pulumi").is_file():
            return str(Path(folder) / "pulumi"), folder
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def project_copy(where: Path) -> Path:
    """examples/multi-env, with its Python runtime pointed at this interpreter's venv."""
    project = where / "multi-env"
    project.mkdir()
    for name in ("__main__.py", "Pulumi.dev.yaml"):
        shutil.copy(EXAMPLE / name, project / name)
    options = ""
    if sys.prefix != sys.base_prefix:  # running in a virtualenv: use it, install nothing
        options = f"  options:\n    toolchain: pip\n    virtualenv: {sys.prefix}\n"
    (project / "Pulumi.yaml").write_text(
        "name: pingback-multi-env\nruntime:\n  name: python\n" + options
    )
    return project


def run(command: list[str], *, cwd: Path, env: dict[str, str]) -> None:
    print(f"$ {' '.join(command)}", flush=True)
    done = subprocess.run(command, cwd=cwd, env=env, check=False)
    if done.returncode != 0:
        print(f"try_it: `{' '.join(command[:3])}` failed ({done.returncode}); stopping.")
        raise SystemExit(done.returncode)


def main() -> int:
    found = find_cli()
    if found is None:
        print(INSTALL, file=sys.stderr)
        return 2
    pulumi, folder = found
    with tempfile.TemporaryDirectory(prefix="pingback-try-") as tmp:
        where = Path(tmp)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        simulator = subprocess.Popen(
            [sys.executable, "-m", "pulumi_pingback.simulator", "--port", str(port), "--quiet"],
        )
        try:
            for _ in range(200):
                try:
                    urllib.request.urlopen(url + "/_sim/state", timeout=1)  # noqa: S310 - loopback
                    break
                except OSError:
                    time.sleep(0.05)
            (where / "backend").mkdir()
            env = dict(
                os.environ,
                PULUMI_BACKEND_URL=(where / "backend").as_uri(),
                PULUMI_HOME=str(where / "pulumi-home"),
                PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
                PULUMI_SKIP_UPDATE_CHECK="true",
                PINGBACK_STATE_DIR=str(where / "pingback-state"),
            )
            if folder is not None:
                env["PATH"] = os.pathsep.join([folder, env.get("PATH", "")])
            project = project_copy(where)
            for command in (
                [pulumi, "stack", "init", "dev", "--non-interactive"],
                [pulumi, "config", "set", "pingback:apiUrl", url, "--stack", "dev"],
                [pulumi, "config", "set", "--secret", "pingback:token", TOKEN, "--stack", "dev"],
                [pulumi, "up", "--yes", "--stack", "dev", "--non-interactive"],
            ):
                run(command, cwd=project, env=env)
            print("\nThe channels PingBack (the simulator) now holds:", flush=True)
            listing = dict(env, PINGBACK_API_URL=url, PINGBACK_TOKEN=TOKEN)
            run(
                [sys.executable, "-m", "pulumi_pingback.command", "channels"],
                cwd=where,
                env=listing,
            )
        finally:
            simulator.terminate()
            simulator.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
