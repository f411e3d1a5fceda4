"""What the state's secrets cost: the size of `pulumi stack export` and the CLI's CPU for
an `up`, this checkout beside another one (``--before``), in the same run, interleaved.

    .venv/bin/python -m benchmarks.state                         # this checkout only
    .venv/bin/python -m benchmarks.state --before /tmp/base      # and a checkout to compare
    .venv/bin/python -m benchmarks.state --before /tmp/base --quick   # a smoke run

Each checkout gets a ``Workspace`` of its own (PULUMI_HOME, file backend, PYTHONPATH at
that checkout, so a Python program and the dynamic provider import its package) and a copy
of its native plugin made ready by `pulumi package add`; one simulator answers both, with no
latency (CPU is measured, not waiting).

- state: `pulumi up` of N widgets (no credential) and of N Telegram bots (one credential,
  given as plain text: sealed anyway), per front (a Python program of ``PingBackChannel``s,
  a YAML program of ``pingback:index:Channel``s); the size of `pulumi stack export` and the
  number of ciphertexts (Pulumi secret envelopes) in it, per channel.
- CPU: `pulumi up` of M widgets in a new stack, per front and checkout, in turn, repeated;
  the CPU (user + sys) of the `pulumi` process and every process it waited for (language
  host, program, plugins): ``getrusage(RUSAGE_CHILDREN)`` before and after it. The engine
  encrypts each secret and re-serializes the state at every checkpoint, so its CPU grows
  with the ciphertexts a stack holds. Median of the repeats; the wall time beside it.

Figures are printed, never asserted. The CLI is the one ``scripts/pulumi-cli/build`` makes
(skipped, with a message, when it is missing).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.cli._cli import (
    PLUGIN_FILES,
    Stack,
    Workspace,
    ciphertexts,
    cli_bin,
    python_project,
)
from tests.engine import SimulatorProcess

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-state-token"
BUILD = "scripts/pulumi-cli/build"
NATIVE = "pingback:index:Channel"


# ---- the programs -------------------------------------------------------------------------


def _bot(i: int) -> str:
    return f"{7200000000 + i}:AAH-bench-state-{i:04d}-secretpart"


def dynamic_program(kind: str, n: int) -> str:
    if kind == "widget":
        config = 'config={"widget_id": f"bench-state-w{i}"}'
    else:
        config = 'config={"bot_token": f"{7200000000 + i}:AAH-bench-state-{i:04d}-secretpart"}'
    return (
        "from pulumi_pingback import PingBackChannel\n\n"
        f"for i in range({n}):\n"
        f'    PingBackChannel(f"c{{i}}", type="{kind}", {config})\n'
    )


def yaml_program(where: Path, plugin: Path, kind: str, n: int) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    resources = {
        f"c{i}": {
            "type": NATIVE,
            "properties": {
                "type": kind,
                "config": (
                    {"widgetId": f"bench-state-w{i}"} if kind == "widget" else {"botToken": _bot(i)}
                ),
            },
        }
        for i in range(n)
    }
    project = {
        "name": where.name,
        "runtime": "yaml",
        "packages": {"pingback": str(plugin)},
        "resources": resources,
    }
    (where / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    return where


# ---- a checkout ---------------------------------------------------------------------------


def plugin_from(tree: Path, where: Path) -> Path:
    """``tests.cli._cli.plugin_copy`` of another checkout: the files `pulumi package add`
    takes from it."""
    target = where / "pulumi-pingback"
    target.mkdir(parents=True)
    for name in PLUGIN_FILES:
        shutil.copy(tree / name, target / name)
    shutil.copytree(
        tree / "pulumi_pingback",
        target / "pulumi_pingback",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return target


@dataclass
class Checkout:
    """One checkout under test: its workspace, its plugin, its projects."""

    label: str
    tree: Path
    root: Path
    ws: Workspace
    plugin: Path = Path()
    projects: dict[tuple[str, str, int], Path] = field(default_factory=dict)

    @classmethod
    def make(cls, label: str, tree: Path, root: Path, bin_dir: Path) -> Checkout:
        ws = Workspace(root / "ws", bin_dir, env={"PYTHONPATH": str(tree)})
        return cls(label, tree, root, ws)

    def add_plugin(self) -> float:
        self.plugin = plugin_from(self.tree, self.root / "plugin")
        project = self.root / "add-once"
        project.mkdir()
        (project / "Pulumi.yaml").write_text("name: add-once\nruntime: yaml\n")
        start = time.perf_counter()
        self.ws.run("package", "add", str(self.plugin), cwd=project, timeout=900)
        return time.perf_counter() - start

    def project(self, front: str, kind: str, n: int) -> Path:
        key = (front, kind, n)
        if key not in self.projects:
            where = self.root / f"{front}-{kind}-{n}"
            self.projects[key] = (
                python_project(where, dynamic_program(kind, n), name=where.name)
                if front == "dynamic"
                else yaml_program(where, self.plugin, kind, n)
            )
        return self.projects[key]

    def stack(self, sim: SimulatorProcess, front: str, kind: str, n: int, name: str) -> Stack:
        st = Stack(self.ws, self.project(front, kind, n), name).init()
        st.set("pingback:apiUrl", sim.url)
        st.set("pingback:token", TOKEN, secret=True)
        return st


def timed_up(st: Stack, expect: str) -> tuple[float, float]:
    """`pulumi up` of ``st``: the CPU seconds (user + sys) of the CLI and every process it
    waited for, and the wall seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = st.up()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if expect not in done.stdout:
        raise RuntimeError(f"expected {expect!r} in the output of\n{done}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def reset(sim: SimulatorProcess) -> None:
    sim.reset(plan="pro", latency=0, limit=100_000, token=TOKEN)


# ---- the run ------------------------------------------------------------------------------


def measure_state(
    sim: SimulatorProcess, checkouts: list[Checkout], n: int
) -> dict[tuple[str, str, str], tuple[int, int, int]]:
    """(checkout, front, kind) -> (bytes of `pulumi stack export`, of its channels as
    compact JSON, ciphertexts), N channels."""
    sizes: dict[tuple[str, str, str], tuple[int, int, int]] = {}
    for kind in ("widget", "telegram"):
        for front in ("dynamic", "native"):
            for c in checkouts:
                reset(sim)
                st = c.stack(sim, front, kind, n, f"state-{front}-{kind}")
                st.up()
                exported = st.run("stack", "export").stdout
                channels = [
                    r
                    for r in json.loads(exported)["deployment"]["resources"]
                    if r["type"].endswith("Channel")
                ]
                if len(channels) != n:
                    raise RuntimeError(f"{c.label} {front}: {len(channels)} of {n} channels")
                # the channels' share of it, as compact JSON (the export indents)
                held = sum(len(json.dumps(r, separators=(",", ":"))) for r in channels)
                sizes[c.label, front, kind] = (
                    len(exported.encode()),
                    held,
                    len(ciphertexts(channels)),
                )
                print(
                    f"  state {c.label:>6} {front:>7} {n} {kind}s: {len(exported.encode())} "
                    f"bytes (the channels: {held} as compact JSON), "
                    f"{sizes[c.label, front, kind][2]} ciphertexts",
                    flush=True,
                )
                st.run("stack", "rm", "--force", "--yes")
    return sizes


def measure_cpu(
    sim: SimulatorProcess, checkouts: list[Checkout], m: int, repeats: int, kind: str
) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """(checkout, front) -> [(CPU s, wall s)] of `pulumi up` of M channels, interleaved."""
    runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for i in range(repeats):
        for front in ("dynamic", "native"):
            order = checkouts if i % 2 == 0 else checkouts[::-1]  # neither always first
            for c in order:
                reset(sim)
                st = c.stack(sim, front, kind, m, f"cpu-{front}-{i}")
                cpu, wall = timed_up(st, f"{m + 1} created")
                runs.setdefault((c.label, front), []).append((cpu, wall))
                print(
                    f"  cpu {i + 1}/{repeats} {c.label:>6} {front:>7} up of {m} {kind}s: "
                    f"{cpu:.2f} s CPU, {wall:.2f} s wall",
                    flush=True,
                )
                st.run("stack", "rm", "--force", "--yes")
    return runs


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a few channels, one repeat")
    parser.add_argument(
        "--before", type=Path, help="another checkout (e.g. `git worktree add` of a commit)"
    )
    parser.add_argument(
        "--cpu-kind", choices=("widget", "telegram"), default="widget", help="what `up` makes"
    )
    args = parser.parse_args()
    n, m, repeats = (10, 20, 1) if args.quick else (100, 300, 3)
    bin_dir = cli_bin()
    if bin_dir is None:
        print(
            f"skipped: the Pulumi CLI built by {BUILD} is not in its cache "
            f"(or PINGBACK_PULUMI_BIN): run `{BUILD}` first"
        )
        return 0
    started = time.perf_counter()
    trees = [("after", ROOT)] + ([("before", args.before.resolve())] if args.before else [])
    with tempfile.TemporaryDirectory(prefix="pingback-state-bench-") as tmp:
        root = Path(tmp)
        checkouts = [Checkout.make(label, tree, root / label, bin_dir) for label, tree in trees]
        with SimulatorProcess("--quiet", token=TOKEN) as sim:
            reset(sim)
            for c in checkouts:
                print(f"setup: `pulumi package add` of {c.tree}", flush=True)
                c.add_plugin()
            sizes = measure_state(sim, checkouts, n)
            runs = measure_cpu(sim, checkouts, m, repeats, args.cpu_kind)
    labels = [c.label for c in checkouts]
    print(
        f"\n`pulumi stack export` of {n} channels, and the CLI's CPU for `pulumi up` of {m} "
        f"{args.cpu_kind}s (median of {repeats}; {time.perf_counter() - started:.0f} s)\n"
    )
    print("| measure | front | " + " | ".join(labels) + " |")
    print("|---|---|" + "---|" * len(labels))
    for kind in ("widget", "telegram"):
        for front in ("dynamic", "native"):
            cells = []
            for label in labels:
                size, held, sealed = sizes[label, front, kind]
                cells.append(f"{size} B; a channel {held / n:.0f} B, {sealed / n:g} ciphertexts")
            print(f"| state of {n} {kind}s | {front} | " + " | ".join(cells) + " |")
    for front in ("dynamic", "native"):
        cells = []
        for label in labels:
            cpu = statistics.median(r[0] for r in runs[label, front])
            wall = statistics.median(r[1] for r in runs[label, front])
            cells.append(f"{cpu:.2f} s CPU ({wall:.2f} s wall)")
        print(f"| `up` of {m} {args.cpu_kind}s | {front} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
