"""How long the native plugin takes to start, beside a bare SDK plugin started the same way.

    .venv/bin/python -m benchmarks.start                      # median of 9 starts each
    .venv/bin/python -m benchmarks.start --quick              # median of 3 (a smoke run)
    .venv/bin/python -m benchmarks.start --compare /tmp/base  # also another checkout

The CLI starts the plugin several times per command (a YAML ``up``: two processes only
answer GetPluginInfo and GetSchema, two run the steps), each as ``python <plugin dir>
<engine address>``. Each start is timed from the spawn to the first GetPluginInfo answer
(after the Handshake the engine sends first, as :class:`tests.engine.ProviderProcess`
does) and to the first GetSchema answer, for (a) a bare ``pulumi.provider.experimental``
provider with an empty schema, written here, started with the same Python, and (b) the
plugin of this checkout (and of ``--compare``'s), interleaved, in one run. Then, so that
what a start no longer loads is not just moved unseen into the first step: the same
plugins configured (CheckConfig + Configure against the simulator) and their first and
second Check + Create. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pulumi.runtime import proto, rpc

from tests.engine import ENGINE_ADDRESS, NATIVE_PLUGIN, ProviderProcess, SimulatorProcess, to_struct

TOKEN = "start-bench-token"
PROVIDER_URN = "urn:pulumi:bench::bench::pulumi:providers:pingback::default"
CHANNEL_URN = "urn:pulumi:bench::bench::pingback:index:Channel::c"
TARGET_MS = 60.0

BARE_PLUGIN = """
import asyncio, sys

import grpc.aio
from pulumi.provider.experimental.provider import GetSchemaResponse, Provider
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime.proto import provider_pb2_grpc


class Bare(Provider):
    async def get_schema(self, request):
        return GetSchemaResponse(schema='{"name": "bare", "version": "0.0.1"}')


async def serve():
    server = grpc.aio.server()
    servicer = ProviderServicer(sys.argv[1:], "0.0.1", Bare(), engine_address=sys.argv[1])
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    sys.stdout.write(f"{port}\\n")
    sys.stdout.flush()
    await server.wait_for_termination()


asyncio.run(serve())
"""
"""The baseline: the least a Python plugin on the SDK's provider API does to start."""


@dataclass
class Plugin:
    """A plugin to start, and its timings (ms), one per start."""

    name: str
    command: Sequence[str]
    pythonpath: str | None = None
    info: list[float] = field(default_factory=list)
    schema: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    configure: list[float] = field(default_factory=list)
    first_create: list[float] = field(default_factory=list)
    second_create: list[float] = field(default_factory=list)
    to_first_create: list[float] = field(default_factory=list)

    def env(self, state_dir: str) -> dict[str, str]:
        env = {**os.environ, "PINGBACK_STATE_DIR": state_dir}  # no journal in the user's
        if self.pythonpath is not None:
            env["PYTHONPATH"] = self.pythonpath
        return env


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def cpu_ms(pid: int) -> float:
    """The CPU process ``pid`` has used so far, its threads' together (Linux), in ms: the
    figure a busy machine does not stretch as it stretches the time to an answer."""
    tasks = Path(f"/proc/{pid}/task")
    if not tasks.is_dir():
        return math.nan
    ns = 0
    for task in tasks.iterdir():
        with contextlib.suppress(OSError):  # a thread that has just ended
            ns += int((task / "schedstat").read_text().split()[0])
    return ns / 1e6


def start(plugin: Plugin, state_dir: str) -> ProviderProcess:
    """One start, timed to the first GetPluginInfo and GetSchema answers."""
    t0 = time.perf_counter()
    process = ProviderProcess(
        None,
        secret_keys=(),
        cwd=Path(state_dir),
        env=plugin.env(state_dir),
        command=plugin.command,
    )  # spawn, read the port, Handshake, GetPluginInfo: as the engine does
    plugin.info.append(_ms(t0))
    process.stub.GetSchema(proto.GetSchemaRequest(), timeout=60)
    plugin.schema.append(_ms(t0))
    plugin.cpu.append(cpu_ms(process.pid))
    return process


def steps(plugin: Plugin, sim: SimulatorProcess, state_dir: str, tag: str) -> None:
    """One start that runs steps: CheckConfig + Configure, then two Check + Create."""
    t0 = time.perf_counter()
    process = ProviderProcess(
        None, secret_keys=(), cwd=Path(state_dir), env=plugin.env(state_dir), command=plugin.command
    )
    try:
        stub = process.stub
        t = time.perf_counter()
        news = {"token": rpc.wrap_rpc_secret(TOKEN), "apiUrl": sim.url}
        checked = stub.CheckConfig(
            proto.CheckRequest(urn=PROVIDER_URN, olds=to_struct({}), news=to_struct(news)),
            timeout=60,
        )
        stub.Configure(
            proto.ConfigureRequest(args=checked.inputs, acceptSecrets=True, acceptResources=True),
            timeout=60,
        )
        plugin.configure.append(_ms(t))
        for k, times in enumerate((plugin.first_create, plugin.second_create)):
            t = time.perf_counter()
            inputs = {"type": "widget", "config": {"widgetId": f"{tag}-{k}"}, "isActive": True}
            checked = stub.Check(
                proto.CheckRequest(urn=CHANNEL_URN, olds=to_struct({}), news=to_struct(inputs)),
                timeout=60,
            )
            stub.Create(proto.CreateRequest(urn=CHANNEL_URN, properties=checked.inputs), timeout=60)
            times.append(_ms(t))
            if k == 0:
                plugin.to_first_create.append(_ms(t0))
    finally:
        process.close()


def _median(xs: list[float]) -> float:
    return statistics.median(xs)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.start")
    parser.add_argument("--quick", action="store_true", help="3 starts each (a smoke run)")
    parser.add_argument("--runs", type=int, help="starts of each plugin (default 9)")
    parser.add_argument(
        "--compare",
        type=Path,
        help="another checkout of this repository (`git worktree add DIR <commit>`), "
        "whose plugin is measured in the same run",
    )
    args = parser.parse_args()
    runs = args.runs or (3 if args.quick else 9)
    plugins = [
        Plugin("bare SDK plugin", [sys.executable, "-c", BARE_PLUGIN, ENGINE_ADDRESS]),
        Plugin("pulumi-resource-pingback", NATIVE_PLUGIN),
    ]
    if args.compare:
        root = args.compare.resolve()
        plugins.append(
            Plugin(f"pingback at {root}", [sys.executable, str(root), ENGINE_ADDRESS], str(root))
        )
    bare, ours = plugins[0], plugins[1:]
    sim = SimulatorProcess(token=TOKEN)
    started = time.perf_counter()
    try:
        sim.reset(limit=100_000)
        with tempfile.TemporaryDirectory(prefix="pingback-start-") as state_dir:
            for plugin in plugins:  # a first start of each, unmeasured: files in the cache
                start(plugin, state_dir).close()
            for i in range(runs):
                order = plugins if i % 2 == 0 else plugins[::-1]  # interleaved, both ways
                for plugin in order:
                    start(plugin, state_dir).close()
                for j, plugin in enumerate(ours):
                    steps(plugin, sim, state_dir, f"r{i}p{j}")
    finally:
        sim.close()
    report(bare, ours, runs, time.perf_counter() - started)


def report(bare: Plugin, ours: list[Plugin], runs: int, seconds: float) -> None:
    print(
        f"\nplugin start ({os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"median of {runs} starts each, interleaved, {seconds:.0f} s)\n"
    )
    print(f"| | measured | baseline (same run) | difference | target ≤ +{TARGET_MS:.0f} ms |")
    print("|---|---|---|---|---|")
    firsts: list[tuple[str, Callable[[Plugin], list[float]]]] = [
        ("spawn → first GetPluginInfo answer", lambda p: p.info),
        ("spawn → first GetSchema answer", lambda p: p.schema),
        ("its CPU to the first GetSchema answer", lambda p: p.cpu),
    ]
    for plugin in ours:
        for what, times in firsts:
            figure, base = _median(times(plugin)), _median(times(bare))
            diff = figure - base
            verdict = "ok" if diff <= TARGET_MS else "MISSED"
            print(
                f"| {plugin.name}: {what} | {figure:.0f} ms | {bare.name} {base:.0f} ms "
                f"| {diff:+.0f} ms | {verdict} |"
            )
    print("\nthe first steps of a plugin that runs them (simulator answering at once):\n")
    print("| | CheckConfig + Configure | first Check + Create | second | spawn → first Create |")
    print("|---|---|---|---|---|")
    for plugin in ours:
        print(
            f"| {plugin.name} | {_median(plugin.configure):.0f} ms "
            f"| {_median(plugin.first_create):.1f} ms | {_median(plugin.second_create):.1f} ms "
            f"| {_median(plugin.to_first_create):.0f} ms |"
        )


if __name__ == "__main__":
    main()
