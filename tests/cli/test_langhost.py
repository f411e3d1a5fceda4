"""Our language hosts (``scripts/pulumi-cli/langhost``: the proxy refuses Pulumi's own)
where a user's result depends on them behaving as the official hosts do (issue 27), each
rule driven over the host's own gRPC API, as the CLI drives it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import language_pb2, language_pb2_grpc


@pytest.fixture
def python_host(pulumi_bin: Path) -> Iterator[tuple[subprocess.Popen[bytes], Any]]:
    """``pulumi-language-python`` started as the CLI starts it (no engine address: a call
    that needs none), with its stub."""
    host = subprocess.Popen(
        [str(pulumi_bin / "pulumi-language-python")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert host.stdout is not None
    port = int(host.stdout.readline())
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield host, language_pb2_grpc.LanguageRuntimeStub(channel)
    finally:
        channel.close()
        if host.poll() is None:
            host.kill()
        host.wait(10)


def test_ctrl_c_lets_the_call_in_flight_finish_then_the_host_exits(
    python_host: tuple[subprocess.Popen[bytes], Any], tmp_path: Path
) -> None:
    """The official hosts trap SIGINT and stop serving gracefully: what runs (a program's
    Run, a plugin) finishes and is answered before the host exits; a host that died
    under it would leave the CLI a broken call. (Ctrl-C reaches the program too, from the
    terminal; here only the host gets it.)"""
    host, stub = python_host
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    (plugin / "__main__.py").write_text(
        "import sys, time\n"
        "print('started', flush=True)\n"
        "time.sleep(1.5)\n"
        "print('finished', flush=True)\n"
    )
    options = struct_pb2.Struct()
    options.update({"virtualenv": sys.prefix})  # this suite's virtualenv: python, no pip
    info = language_pb2.ProgramInfo(
        root_directory=str(plugin), program_directory=str(plugin), entry_point=".", options=options
    )
    stream = stub.RunPlugin(language_pb2.RunPluginRequest(pwd=str(plugin), info=info), timeout=60)
    printed, interrupted = b"", False
    for answer in stream:
        printed += answer.stdout
        if b"started" in printed and not interrupted:
            host.send_signal(signal.SIGINT)  # once: a second Ctrl-C is an exit at once
            interrupted = True
            time.sleep(0.2)
            assert host.poll() is None  # still serving the call in flight
    assert interrupted and b"finished" in printed
    assert host.wait(10) == 0
