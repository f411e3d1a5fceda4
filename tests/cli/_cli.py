"""The real ``pulumi`` CLI, run as a user runs it, on nothing but this machine.

Each ``Workspace`` has its own ``PULUMI_HOME`` and file backend (``PULUMI_BACKEND_URL``),
a passphrase from the environment, no update check and no plugin downloads: nothing
global is read or touched. The binaries come from ``scripts/pulumi-cli/build``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from ..engine import asked
from ._shipped import shipped

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "e2e-throwaway-passphrase"
TOKEN = "sim-owner-token-e2e-0001"  # the simulator's owner token in the e2e suite
CHANNEL = "pingback:index:Channel"  # the native plugin's resource type


def cli_bin() -> Path | None:
    """Where ``scripts/pulumi-cli/build`` put the CLI: ``PINGBACK_PULUMI_BIN``, else its
    default cache; None when neither holds a ``pulumi``."""
    given = os.environ.get("PINGBACK_PULUMI_BIN")
    if given:
        where = Path(given)
    else:
        cache = os.environ.get("PINGBACK_CLI_CACHE") or str(
            Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
            / "pulumi-pingback"
            / "cli"
        )
        where = Path(cache) / "bin"
    return where if (where / "pulumi").is_file() else None


@dataclass(frozen=True)
class Result:
    """One CLI command: what it printed, and how it ended."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return f"$ pulumi {' '.join(self.args)}  (exit {self.code})\n{self.stdout}{self.stderr}"


class CliError(AssertionError):
    pass


class Workspace:
    """A PULUMI_HOME and a file backend of its own, and the environment to run the CLI in."""

    def __init__(self, root: Path, bin_dir: Path, env: Mapping[str, str] | None = None) -> None:
        self.root = root
        self.bin = bin_dir
        self.home = root / "pulumi-home"
        self.backend = root / "backend"
        self.home.mkdir(parents=True, exist_ok=True)
        self.backend.mkdir(parents=True, exist_ok=True)
        venv_bin = shipped().bin
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "PINGBACK_"))}
        self.env: dict[str, str] = {
            **base,
            # the built CLI and hosts first; then the wheel's virtualenv (pingback, the plugin)
            "PATH": os.pathsep.join([str(bin_dir), str(venv_bin), base.get("PATH", "")]),
            "PULUMI_HOME": str(self.home),
            "PULUMI_BACKEND_URL": self.backend.as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            "NO_COLOR": "1",
            # the create journal of this "machine" (pulumi_pingback.client._journal)
            "PINGBACK_STATE_DIR": str(root / "pingback-state"),
        }
        if env:
            self.env.update(env)

    def user_shell(self, *, drop: Sequence[str] = ()) -> dict[str, str]:
        """This workspace's environment as a user's shell has it: the CLI on PATH, and no
        virtualenv of this suite (neither its own nor the wheel's: no `pingback`), no
        PINGBACK_TOKEN, VIRTUAL_ENV or PYTHONPATH; ``drop``: more names to leave out."""
        venvs = {str(shipped().bin)}
        if sys.prefix != sys.base_prefix:  # this suite's virtualenv, not a system folder
            venvs.add(str(Path(sys.executable).parent))
        path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p not in venvs]
        left_out = {"PINGBACK_TOKEN", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", *drop}
        env = {k: v for k, v in self.env.items() if k not in left_out}
        env["PATH"] = os.pathsep.join([str(self.bin), *path])
        return env

    def command(self, *args: str) -> list[str]:
        return [str(self.bin / "pulumi"), *args, "--color", "never"]

    def run(
        self,
        *args: str,
        cwd: Path,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        timeout: float = 600,
        stdin: str | None = None,
    ) -> Result:
        done = subprocess.run(
            self.command(*args),
            cwd=cwd,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            input=stdin,
            check=False,
        )
        result = Result(tuple(args), done.returncode, done.stdout, done.stderr)
        if check and done.returncode != 0:
            raise CliError(str(result))
        return result

    def start(self, *args: str, cwd: Path, env: Mapping[str, str] | None = None) -> Process:
        """A CLI command in the background, in its own process group (for signals)."""
        return Process(
            subprocess.Popen(
                self.command(*args),
                cwd=cwd,
                env={**self.env, **(env or {})},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            ),
            tuple(args),
        )


@dataclass
class Process:
    proc: subprocess.Popen[str]
    args: tuple[str, ...]

    def signal(self, sig: signal.Signals, *, group: bool = False) -> None:
        """``sig`` to the CLI, or to its process group (what Ctrl-C in a terminal does;
        plugins run in process groups of their own and are not in it)."""
        if group:
            os.killpg(self.proc.pid, sig)
        else:
            self.proc.send_signal(sig)

    def session(self) -> list[int]:
        """Every process of the CLI's session: the CLI, its language host, the program
        and every plugin (each in its own process group), orphaned ones included."""
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getsid(int(entry.name)) == self.proc.pid:
                        pids.append(int(entry.name))
                except OSError:
                    continue
        return pids

    def kill_session(self) -> None:
        """SIGKILL every process of the session, as a CI runner ending a job does."""
        for pid in self.session():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    def wait(self, timeout: float = 120) -> Result:
        out, _ = self.proc.communicate(timeout=timeout)
        return Result(self.args, self.proc.returncode, out, "")


class Stack:
    """One stack of one project directory, in a workspace."""

    def __init__(self, ws: Workspace, project: Path, name: str) -> None:
        self.ws = ws
        self.dir = project
        self.name = name

    def run(self, *args: str, **kw: Any) -> Result:
        return self.ws.run(*args, "--stack", self.name, cwd=self.dir, **kw)

    def init(self) -> Stack:
        self.ws.run("stack", "init", self.name, "--non-interactive", cwd=self.dir)
        return self

    def set(self, key: str, value: str, *, secret: bool = False, path: bool = False) -> None:
        flags = (["--secret"] if secret else []) + (["--path"] if path else [])
        # the value on stdin: nothing in the process list, as a user pipes a secret in
        self.run("config", "set", *flags, key, stdin=value)

    def configure(
        self, settings: Mapping[str, str] | None = None, secrets: Mapping[str, str] | None = None
    ) -> None:
        """Several keys in one command (`pulumi config set-all`): ``settings`` in plain
        text, ``secrets`` encrypted. One command derives the passphrase's key once (about
        0.3 s of CPU), where a `config set --secret` per key derives it each time."""
        args = [f"--plaintext={k}={v}" for k, v in (settings or {}).items()]
        args += [f"--secret={k}={v}" for k, v in (secrets or {}).items()]
        if args:
            self.run("config", "set-all", *args)

    def up(self, *args: str, **kw: Any) -> Result:
        return self.run("up", "--yes", "--non-interactive", *args, **kw)

    def preview(self, *args: str, **kw: Any) -> Result:
        return self.run("preview", "--non-interactive", *args, **kw)

    def refresh(self, *args: str, **kw: Any) -> Result:
        return self.run("refresh", "--yes", "--non-interactive", *args, **kw)

    def destroy(self, *args: str, **kw: Any) -> Result:
        return self.run("destroy", "--yes", "--non-interactive", *args, **kw)

    def export(self) -> dict[str, Any]:
        """`pulumi stack export`: the state as the backend keeps it."""
        data: dict[str, Any] = json.loads(self.run("stack", "export").stdout)
        return data

    def resources(self, type_suffix: str = "Channel") -> list[dict[str, Any]]:
        """The channel resources of the exported state."""
        deployment = self.export()["deployment"]
        return [r for r in deployment.get("resources", []) if r["type"].endswith(type_suffix)]

    def outputs(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            self.run("stack", "output", "--json", "--show-secrets").stdout
        )
        return data


def python_project(
    where: Path, program: str, *, name: str = "pingback-e2e", requirements: str = ""
) -> Path:
    """A Python project running ``program`` in the wheel's virtualenv (``_shipped``:
    nothing to install)."""
    where.mkdir(parents=True, exist_ok=True)
    (where / "Pulumi.yaml").write_text(
        f"name: {name}\nruntime:\n  name: python\n  options:\n    toolchain: pip\n"
        f"    virtualenv: {shipped().venv}\n"
    )
    (where / "__main__.py").write_text(program)
    if requirements:
        (where / "requirements.txt").write_text(requirements)
    return where


def copy_example(name: str, where: Path) -> Path:
    """examples/<name>, with its virtualenv pointed at the wheel's (its requirements are
    this package, installed there)."""
    source = ROOT / "examples" / name
    target = where / name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    project = target / "Pulumi.yaml"
    project.write_text(
        project.read_text().replace("virtualenv: venv", f"virtualenv: {shipped().venv}")
    )
    return target


PLUGIN_FILES = (
    "PulumiPlugin.yaml",
    "__main__.py",
    "requirements.txt",
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "CHANGELOG.md",
)


def plugin_copy(where: Path) -> Path:
    """The files a user's checkout gives `pulumi package add <checkout>`: the plugin's
    PulumiPlugin.yaml, __main__.py and requirements.txt, and the package they install."""
    target = where / "pulumi-pingback"
    target.mkdir(parents=True)
    for name in PLUGIN_FILES:
        shutil.copy(ROOT / name, target / name)
    shutil.copytree(
        ROOT / "pulumi_pingback",
        target / "pulumi_pingback",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return target


@dataclass(frozen=True)
class PluginAdded:
    """A copy of this checkout's plugin, made ready by `pulumi package add <plugin>` in a
    new YAML project: what the command printed, and the project as it left it."""

    plugin: Path
    project: Path
    added: Result


def wait_for(predicate: Any, timeout: float = 60, what: str = "a condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def lines_with(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


def secrets_outside_envelopes(value: Any, canaries: Sequence[str], path: str = "") -> list[str]:
    """Where any canary appears in ``value`` outside Pulumi's secret envelopes (and outside
    the passphrase-encrypted ciphertexts they hold)."""
    found: list[str] = []
    if isinstance(value, dict):
        if value.get("4dabf18193072939515e22adb298388d") == "1b47061264138c4ac30d75fd1eb44270":
            return []  # a secret: ciphertext, never plain
        for k, v in value.items():
            found += secrets_outside_envelopes(v, canaries, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += secrets_outside_envelopes(v, canaries, f"{path}[{i}]")
    elif isinstance(value, str):
        found += [f"{path}: {c}" for c in canaries if c in value]
    return found


SECRET_SIG = "4dabf18193072939515e22adb298388d"  # the key of Pulumi's secret envelope
SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"


def ciphertexts(value: Any, path: str = "") -> list[str]:
    """Where ``value`` (a state, a resource of one) holds Pulumi secret envelopes: each
    costs the engine an encryption at every checkpoint."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == SECRET_VALUE:
            return [path]
        return [p for k, v in value.items() for p in ciphertexts(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in ciphertexts(v, f"{path}[{i}]")]
    return []


def sealed_whole(value: Any) -> dict[str, Any]:
    """``value`` of `pulumi stack export --show-secrets` (its secrets as plaintext
    envelopes) as one secret, which `pulumi stack import` encrypts: how pulumi-pingback
    0.3 sealed a channel's config."""

    def plain(v: Any) -> Any:
        if isinstance(v, dict) and v.get(SECRET_SIG) == SECRET_VALUE:
            return json.loads(v["plaintext"])
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return {SECRET_SIG: SECRET_VALUE, "plaintext": json.dumps(plain(value))}


def squash(text: str) -> str:
    """The CLI's output with runs of spaces made one (it aligns columns per block)."""
    return "\n".join(re.sub(" +", " ", line) for line in text.splitlines())


def timeless(line: str) -> str:
    """A line of the CLI's output with each step's duration as ``(…)``."""
    return re.sub(r"\(\d+(\.\d+)?m?s\)", "(…)", line).rstrip()


# ---- PingBack and projects, as the e2e tests use them ------------------------------------


def api(sim: Any, token: str = TOKEN) -> httpx.Client:
    """PingBack's API as the dashboard (or a colleague) uses it: outside Pulumi."""
    return httpx.Client(base_url=f"{sim.url}/api/v1", headers={"Authorization": f"Bearer {token}"})


def plant(sim: Any, type_: str, config: dict[str, Any], active: bool = True) -> str:
    """A channel made outside Pulumi (the dashboard); its id."""
    with api(sim) as client:
        made = client.post(
            "/channels/", json={"type": type_, "config": config, "is_active": active}
        )
    made.raise_for_status()
    return str(made.json()["id"])


def writes(sim: Any) -> list[tuple[str, str]]:
    """What changed PingBack since the log was cleared: every request but the lists."""
    return [(method, path) for method, path in asked(sim) if method != "GET"]


def ids(st: Stack, type_: str = CHANNEL) -> dict[str, str]:
    """Resource name -> channel id, of the live (not pending-delete) resources of a type."""
    return {
        r["urn"].rsplit("::", 1)[1]: r["id"]
        for r in st.export()["deployment"].get("resources", [])
        if r["type"] == type_ and not r.get("delete")
    }


def yaml_project(where: Path, plugin: Path, resources: Mapping[str, Any], **more: Any) -> Path:
    """A YAML project using the plugin as `pulumi package add` records it (a local path
    under `packages:`), declaring ``resources``; every config key in ``more['config']``
    is a secret string."""
    where.mkdir(parents=True, exist_ok=True)
    project: dict[str, Any] = {
        "name": more.pop("name", where.name),
        "runtime": "yaml",
        "packages": {"pingback": str(plugin)},
    }
    secrets = more.pop("config", ())
    if secrets:
        project["config"] = {k: {"type": "string", "secret": True} for k in secrets}
    project["resources"] = dict(resources)
    project.update(more)
    (where / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    return where


def stack_on(
    ws: Workspace,
    project: Path,
    sim: Any,
    name: str = "dev",
    *,
    settings: Mapping[str, str] | None = None,
    **secrets: str,
) -> Stack:
    """A stack of ``project``: apiUrl pointed at the simulator and ``settings`` (e.g.
    ``{"pingback:timeout": "2"}``) in plain text, the token and ``secrets`` as secrets."""
    st = Stack(ws, project, name).init()
    st.configure(
        {"pingback:apiUrl": sim.url, **(settings or {})}, {"pingback:token": TOKEN, **secrets}
    )
    return st
