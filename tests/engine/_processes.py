"""The processes the tests talk to: the provider (as the CLI starts it) and the simulator."""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import httpx
from google.protobuf import empty_pb2
from pulumi.runtime import proto, rpc
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, provider_pb2, provider_pb2_grpc

from ._wire import to_struct

DYNAMIC_SERVER = (sys.executable, "-u", "-m", "pulumi.dynamic")
"""What the CLI's `pulumi-resource-pulumi-python` shim runs with the project's Python."""

ROOT = Path(__file__).resolve().parents[2]


class EngineLog(engine_pb2_grpc.EngineServicer):
    """The engine's log service, as a provider reaches it at the address the CLI gives
    (what ``pulumi.log`` uses, and what the CLI prints): every message is kept in
    :data:`ENGINE_LOG` as (severity name, urn, message)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()

    def Log(self, request: Any, context: Any) -> Any:
        severity = engine_pb2.LogSeverity.Name(request.severity)
        with self.lock:
            self.messages.append((severity, request.urn, request.message))
        return empty_pb2.Empty()

    def since(self, mark: int = 0) -> list[tuple[str, str, str]]:
        with self.lock:
            return list(self.messages[mark:])


class EngineServer:
    """A loopback gRPC server standing for one CLI command's engine, as a provider sees
    it: its log service. The plugin serves Construct/Call through it, logs to it, and its
    create journal probes it (and names a deployment by it)."""

    def __init__(self) -> None:
        self.log = EngineLog()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        engine_pb2_grpc.add_EngineServicer_to_server(self.log, self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        self.address = f"127.0.0.1:{port}"

    def stop(self) -> None:
        self._server.stop(None)


def _engine_server() -> tuple[str, EngineLog]:
    server = EngineServer()
    _KEEP.append(server)
    return server.address, server.log


_KEEP: list[EngineServer] = []
ENGINE_ADDRESS, ENGINE_LOG = _engine_server()
NATIVE_PLUGIN = (sys.executable, str(ROOT), ENGINE_ADDRESS)
"""What the CLI runs for the plugin in this repository (PulumiPlugin.yaml, runtime
python): ``python <plugin directory> <engine address>``, i.e. the root ``__main__.py``."""


STARTUP_LIST = [("GET", "/api/v1/channels/")]
"""What a provider asks PingBack when it starts: one list (the token and the URL checked),
which a refresh then reuses."""


def asked(sim: Any) -> list[tuple[str, str]]:
    """Every request the simulator (in-process or its own process) logged, as
    (method, path), since its log was last cleared."""
    return [(r["method"], r["path"]) for r in sim.requests()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


Recorder = Callable[[str, Any, Any, "grpc.RpcError | None"], None]
"""Called after each call a provider process answers: method, request, response (None
on an error), error."""


class _RecordingStub:
    """A provider stub that hands every call, and how it ended, to a recorder."""

    def __init__(self, stub: Any, record: Recorder) -> None:
        self._stub = stub
        self._record = record

    def __getattr__(self, method: str) -> Callable[..., Any]:
        call = getattr(self._stub, method)

        def recorded(request: Any, **kw: Any) -> Any:
            try:
                response = call(request, **kw)
            except grpc.RpcError as exc:
                self._record(method, request, None, exc)
                raise
            self._record(method, request, response, None)
            return response

        return recorded


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate ``proc``; kill it if it has not exited within 10 s."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:  # pragma: no cover
        proc.kill()
        proc.wait(10)


class ProviderProcess:
    """A provider server, started with the whole command line ``command`` (default
    ``python -u -m pulumi.dynamic``; :data:`ENGINE_ADDRESS` in it stands for the engine's
    address), its port read from stdout. Given ``config``, it is configured as the CLI
    configures the dynamic provider: with the whole stack config as ``namespace:key``
    (secrets wrapped); without, the caller configures it (CheckConfig, DiffConfig and
    Configure: see ``Engine``). ``plugin_dir``: the directory the Handshake names (the
    CLI sends the plugin's; default ``cwd``); ``record``: called after every call."""

    def __init__(
        self,
        config: dict[str, str] | None,
        *,
        secret_keys: Iterable[str],
        cwd: Path,
        env: dict[str, str],
        command: Sequence[str] = DYNAMIC_SERVER,
        plugin_dir: Path | None = None,
        record: Recorder | None = None,
        engine_address: str = "",
    ) -> None:
        self.engine_address = engine_address or ENGINE_ADDRESS
        self.proc = subprocess.Popen(
            [self.engine_address if a == ENGINE_ADDRESS else a for a in command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        port_line = self.proc.stdout.readline().decode().strip()
        if not port_line.isdigit():
            err = self.proc.stderr.read().decode()
            raise RuntimeError(f"provider process did not print a port: {port_line!r} {err}")
        self.stdout: list[bytes] = []
        self.stderr: list[bytes] = []
        self._readers = [
            threading.Thread(target=self._drain, args=(self.proc.stdout, self.stdout), daemon=True),
            threading.Thread(target=self._drain, args=(self.proc.stderr, self.stderr), daemon=True),
        ]
        for t in self._readers:
            t.start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port_line}")
        stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
        self.stub: Any = stub if record is None else _RecordingStub(stub, record)
        self.handshake, self.version = self._hello(plugin_dir or cwd)
        self.configure: Any = None
        if config is None:
            return
        secret = set(secret_keys)
        args = {k: (rpc.wrap_rpc_secret(v) if k in secret else v) for k, v in config.items()}
        self.configure = self.stub.Configure(
            proto.ConfigureRequest(
                args=to_struct(args),
                # the dynamic provider's package is pulumi-python: pulumi-python:config:<key>
                variables={f"pulumi-python:config:{k}": v for k, v in config.items()},
                acceptSecrets=True,
                acceptResources=True,
                sends_old_inputs=True,
                sends_old_inputs_to_delete=True,
            ),
            timeout=60,
        )

    def _hello(self, plugin_dir: Path) -> tuple[Any, str]:
        """What the engine sends a plugin it started, before anything else
        (pkg/resource/plugin/provider_plugin.go): Handshake, where UNIMPLEMENTED means
        "the old protocol" and any other error fails the load; then GetPluginInfo. The
        engine's service addresses (mapper, loader, resolver) are the same dummy as its
        own: nothing here serves them."""
        handshake: Any = None
        try:
            handshake = self.stub.Handshake(
                provider_pb2.ProviderHandshakeRequest(
                    engine_address=self.engine_address,
                    root_directory=str(plugin_dir),
                    program_directory=str(plugin_dir),
                    configure_with_urn=True,
                    supports_views=True,
                    supports_refresh_before_update=True,
                    invoke_with_preview=True,
                    mapper_target=self.engine_address,
                    loader_target=self.engine_address,
                    resolver_target=self.engine_address,
                    accepts_byte_string=True,
                    sends_old_outputs_to_check=True,
                    accepts_outputs_in_invoke=True,
                    accepts_outputs_in_call=True,
                ),
                timeout=60,
            )
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise
        info = self.stub.GetPluginInfo(empty_pb2.Empty(), timeout=60)
        return handshake, str(info.version)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @staticmethod
    def _drain(stream: Any, sink: list[bytes]) -> None:
        for line in iter(stream.readline, b""):
            sink.append(line)

    def cancel(self) -> None:
        """``Cancel``, as the engine sends every plugin it started when the command ends
        (before it stops the process); a process already gone is no error."""
        with contextlib.suppress(grpc.RpcError):
            self.stub.Cancel(empty_pb2.Empty(), timeout=10)

    def close(self) -> str:
        """Cancel, then stop the process; returns everything it printed."""
        if self.proc.poll() is None:
            self.cancel()
        self.channel.close()
        _stop(self.proc)
        for t in self._readers:
            t.join(5)
        return (b"".join(self.stdout) + b"".join(self.stderr)).decode(errors="replace")


class SimulatorProcess:
    """``python -m pulumi_pingback.simulator`` in its own process, as users run it."""

    def __init__(self, *args: str, token: str | None = None, port: int | None = None) -> None:
        # ``--port 0`` by default: the simulator binds a port the system picks and names it
        # in its banner. A port picked here and freed before the simulator binds it could
        # be taken meanwhile by another test process (pytest-xdist runs several).
        extra = ["--token", token] if token else []
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pulumi_pingback.simulator",
                "--port",
                str(port or 0),
                *extra,
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert self.proc.stdout is not None
        banner = self.proc.stdout.readline()
        self._output: list[bytes] = [banner]
        found = re.search(rb"on http://127\.0\.0\.1:(\d+)", banner)
        if found is None:
            _stop(self.proc)
            rest = self.proc.stdout.read()
            raise RuntimeError(f"the simulator did not start: {(banner + rest).decode()}")
        self.port = int(found.group(1))
        self.url = f"http://127.0.0.1:{self.port}"
        # Drained all along: the simulator logs a line per request, and a full pipe would
        # block it mid-answer (the requests then time out).
        self._reader = threading.Thread(
            target=ProviderProcess._drain, args=(self.proc.stdout, self._output), daemon=True
        )
        self._reader.start()
        self.control = httpx.Client(base_url=self.url)
        for _ in range(200):
            try:
                self.control.get("/_sim/state")
                return
            except httpx.TransportError:
                time.sleep(0.05)
        self.close()
        raise RuntimeError(f"the simulator did not start: {self.output()}")

    def reset(self, **config: Any) -> None:
        self.control.post("/_sim/reset").raise_for_status()
        if config:
            self.control.post("/_sim/config", json=config).raise_for_status()

    def clear_log(self) -> None:
        self.control.post("/_sim/clear-log").raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        return list(self.control.get("/_sim/requests").json())

    def state(self) -> dict[str, Any]:
        return dict(self.control.get("/_sim/state").json())

    def output(self) -> str:
        """What the simulator printed so far (all of it once it has stopped)."""
        if self.proc.poll() is not None:
            self._reader.join(5)
        return b"".join(self._output).decode(errors="replace")

    def close(self) -> str:
        self.control.close()
        _stop(self.proc)
        return self.output()

    def __enter__(self) -> SimulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
