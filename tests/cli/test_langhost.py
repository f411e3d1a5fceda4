"""Our language hosts (``scripts/pulumi-cli/langhost``: the proxy refuses Pulumi's own)
where a user's result depends on them behaving as the official hosts do (issue 27), each
rule driven over the host's own gRPC API, as the CLI drives it."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import language_pb2, language_pb2_grpc

from ._cli import Stack, Workspace, python_project


@contextlib.contextmanager
def _host(
    pulumi_bin: Path, language: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], Any]]:
    """``pulumi-language-<language>`` started as the CLI starts it (no engine address: the
    calls made here need none), with its stub; killed at the end if still running."""
    host = subprocess.Popen(
        [str(pulumi_bin / f"pulumi-language-{language}")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert host.stdout is not None
    channel = grpc.insecure_channel(f"127.0.0.1:{int(host.stdout.readline())}")
    try:
        yield host, language_pb2_grpc.LanguageRuntimeStub(channel)
    finally:
        channel.close()
        if host.poll() is None:
            host.kill()
        host.wait(10)


@pytest.fixture
def python_host(pulumi_bin: Path) -> Iterator[tuple[subprocess.Popen[bytes], Any]]:
    with _host(pulumi_bin, "python") as started:
        yield started


def _required_packages(
    pulumi_bin: Path,
    language: str,
    program: Path,
    options: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> set[tuple[str, str, str, str]]:
    """What the host answers GetRequiredPackages for the program in ``program``: each
    package as (name, version, kind, server)."""
    struct = struct_pb2.Struct()
    struct.update(options or {})
    info = language_pb2.ProgramInfo(
        root_directory=str(program), program_directory=str(program), entry_point=".", options=struct
    )
    with _host(pulumi_bin, language, env) as (_, stub):
        answer = stub.GetRequiredPackages(
            language_pb2.GetRequiredPackagesRequest(info=info), timeout=120
        )
    return {(p.name, p.version, p.kind, p.server) for p in answer.packages}


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


def _distribution(site: Path, name: str, version: str, plugin_json: dict[str, Any] | None) -> None:
    """An installed distribution ``name`` (its package, named after it, and its metadata),
    with a pulumi-plugin.json in the package when given one."""
    package = site / name.replace("-", "_")
    package.mkdir()
    (package / "__init__.py").write_text("")
    if plugin_json is not None:
        (package / "pulumi-plugin.json").write_text(json.dumps(plugin_json))
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "RECORD").write_text("")


def test_required_packages_follow_the_official_python_rule(
    pulumi_bin: Path, tmp_path: Path
) -> None:
    """What Pulumi's Python host reports, and the CLI then installs or pins a default
    provider to: a `pulumi-*` distribution is a plugin named after it (its version made
    semver) unless its pulumi-plugin.json says otherwise; any distribution with a
    pulumi-plugin.json that says `"resource": true` is one, named and versioned by it;
    `pulumi-policy` never is. This package's own pulumi-plugin.json says it is not a
    plugin: a program that uses the dynamic provider wants no `pingback` plugin."""
    site = tmp_path / "site"
    site.mkdir()
    _distribution(site, "pulumi-foo", "1.2", None)
    _distribution(site, "pulumi-pre", "2.0.0rc3", None)
    _distribution(site, "pulumi-bar", "1.0.0", {"resource": False})
    _distribution(site, "pulumi-policy", "1.0.0", None)
    _distribution(site, "pulumi-unversioned", "1!2.0", None)  # an epoch: no plugin version
    _distribution(
        site,
        "acme-sdk",
        "0.1.0",
        {"resource": True, "name": "acme", "version": "3.1.0", "server": "https://acme.invalid"},
    )
    _distribution(site, "not-pulumi", "1.0.0", {"name": "x"})  # no "resource": true
    env = {**os.environ, "PYTHONPATH": str(site)}
    # this suite's virtualenv: pulumi-pingback installed
    reported = _required_packages(pulumi_bin, "python", tmp_path, {"virtualenv": sys.prefix}, env)
    assert reported == {
        ("foo", "v1.2.0", "resource", ""),
        ("pre", "v2.0.0-rc.3", "resource", ""),
        ("acme", "v3.1.0", "resource", "https://acme.invalid"),
    }


def test_a_dynamic_provider_program_wants_no_pingback_plugin(ws: Workspace, tmp_path: Path) -> None:
    """Under the official rule a `pulumi-*` package without pulumi-plugin.json is a plugin
    to install: `pulumi-pingback` was `pingback v0.3.0`, which the engine then looked for
    (on $PATH it warned `using pulumi-resource-pingback from $PATH`; elsewhere it would
    download one), and it pinned a default `pingback` provider to it. With the package's
    pulumi-plugin.json, a program that uses the dynamic provider wants nothing: the
    engine's log (`-v=7`, which names every package a language host requires and every
    plugin it installs) says nothing of pingback, with plugin acquisition on, as a user
    has it."""
    program = "import pulumi\nimport pulumi_pingback\n\npulumi.export('version', pulumi_pingback.__version__)\n"
    project = python_project(tmp_path / "dynamic", program, name="wants-no-plugin")
    stack = Stack(ws, project, "dev").init()
    env = {"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "false"}
    result = stack.run("preview", "--non-interactive", "-v=7", "--logtostderr", env=env)
    assert "gatherPackagesFromProgram" in result.stderr  # the engine asked the host
    engine = [
        line
        for line in result.stderr.splitlines()
        if re.search(r"gatherPackages|ensurePlugins|computeDefaultProvider|installPlugin", line)
    ]
    assert not [line for line in engine if "pingback" in line], engine
    assert "pulumi-resource-pingback" not in result.stdout


def test_a_plugin_that_is_a_buildable_package_is_installed_into_its_virtualenv(
    python_host: tuple[subprocess.Popen[bytes], Any], tmp_path: Path
) -> None:
    """`pulumi package add <dir>` (InstallDependencies for a plugin): as Pulumi's Python
    host does, a plugin directory that is a buildable package (pyproject.toml with a
    project name and a build backend) is pip-installed into its virtualenv, then what
    requirements.txt lists; here requirements.txt lists nothing, so only that rule makes
    the plugin's own package importable."""
    _, stub = python_host
    plugin = tmp_path / "plugin"
    (plugin / "mini_plugin").mkdir(parents=True)
    (plugin / "mini_plugin" / "__init__.py").write_text("NAME = 'mini'\n")
    (plugin / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "mini-plugin"\nversion = "0.1.0"\n'
    )
    (plugin / "requirements.txt").write_text("")
    options = struct_pb2.Struct()
    options.update({"toolchain": "pip", "virtualenv": "venv"})
    info = language_pb2.ProgramInfo(
        root_directory=str(plugin), program_directory=str(plugin), entry_point=".", options=options
    )
    request = language_pb2.InstallDependenciesRequest(
        directory=str(plugin), info=info, is_plugin=True
    )
    printed = b"".join(a.stdout + a.stderr for a in stub.InstallDependencies(request, timeout=600))
    assert b"Finished installing dependencies" in printed, printed.decode(errors="replace")
    imported = subprocess.run(
        [
            str(plugin / "venv" / "bin" / "python"),
            "-c",
            "import mini_plugin; print(mini_plugin.NAME)",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert imported.stdout == "mini\n", imported.stderr


def test_packs_at_once_into_one_folder_each_return_their_own_wheel(
    python_host: tuple[subprocess.Popen[bytes], Any], tmp_path: Path
) -> None:
    """Pack (the conformance runner packs the core SDK and each test's SDKs, several at
    once, into one artifacts folder): each answer names the wheel of its own package, and
    packing a package again answers its wheel again. Our host once took "the wheel that
    was not there before", which a concurrent pack could make, and found none the second
    time; like Pulumi's host it now builds in a folder of its own."""
    _, stub = python_host
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    names = ["alpha", "beta", "gamma"]
    for name in names:
        (tmp_path / name / f"pkg_{name}").mkdir(parents=True)
        (tmp_path / name / f"pkg_{name}" / "__init__.py").write_text("")
        (tmp_path / name / "pyproject.toml").write_text(
            '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
            f'[project]\nname = "pkg-{name}"\nversion = "1.0.0"\n'
        )

    def pack(name: str) -> str:
        request = language_pb2.PackRequest(
            package_directory=str(tmp_path / name), destination_directory=str(artifacts)
        )
        return str(stub.Pack(request, timeout=300).artifact_path)

    with ThreadPoolExecutor(len(names)) as pool:
        packed = list(pool.map(pack, names))
    assert [Path(p).name for p in packed] == [f"pkg_{n}-1.0.0-py3-none-any.whl" for n in names]
    assert all(Path(p).parent == artifacts and Path(p).is_file() for p in packed)
    assert pack("alpha") == packed[0]


def test_required_packages_follow_the_official_nodejs_rule(
    pulumi_bin: Path, tmp_path: Path
) -> None:
    """Pulumi's Node.js host reports each package.json under node_modules, at any depth,
    whose "pulumi" section says "resource": true: the plugin its section names (or, for
    an @pulumi/ package, its own name) at its section's version (or the package's). A
    third-party package that names no plugin is left out, as there."""

    def package(where: str, manifest: dict[str, Any]) -> None:
        path = tmp_path / where / "package.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(manifest))

    package(".", {"name": "program", "pulumi": {"resource": True, "name": "not-a-dependency"}})
    package("node_modules/@pulumi/pulumi", {"name": "@pulumi/pulumi", "version": "3.200.0"})
    aws = {"name": "@pulumi/aws", "version": "6.1.0", "pulumi": {"resource": True}}
    package("node_modules/@pulumi/aws", aws)
    acme = {"resource": True, "name": "acme", "version": "2.0.0", "server": "https://acme.invalid"}
    package("node_modules/acme-sdk", {"name": "acme-sdk", "version": "1.0.0", "pulumi": acme})
    package(
        "node_modules/third", {"name": "third", "version": "1.0.0", "pulumi": {"resource": True}}
    )
    package(
        "node_modules/plain", {"name": "plain", "version": "1.0.0", "pulumi": {"resource": False}}
    )
    random = {"name": "@pulumi/random", "version": "4.0.0", "pulumi": {"resource": True}}
    package("node_modules/plain/node_modules/@pulumi/random", random)
    reported = _required_packages(pulumi_bin, "nodejs", tmp_path)
    assert reported == {
        ("aws", "v6.1.0", "resource", ""),
        ("acme", "v2.0.0", "resource", "https://acme.invalid"),
        ("random", "v4.0.0", "resource", ""),
    }


def test_required_packages_follow_the_official_go_rule(pulumi_bin: Path, tmp_path: Path) -> None:
    """Pulumi's Go host reports each module the program's go.mod requires whose source
    holds a pulumi-plugin.json (at its root, in go/, go/*/ or */) saying "resource": true:
    the plugin it names (or the third segment of github.com/pulumi/pulumi-<name>/…), at
    its version (or the module's; a pseudo-version stands for the release before it, and
    one with no release before it, as a replaced untagged module has, for none)."""
    modules = {
        "example.com/acme": (
            "v1.2.0",
            "pulumi-plugin.json",
            {
                "resource": True,
                "name": "acme",
                "version": "3.1.0",
                "server": "https://acme.invalid",
            },
        ),
        "github.com/pulumi/pulumi-foo/sdk": (
            "v1.4.0",
            "go/foo/pulumi-plugin.json",
            {"resource": True},
        ),
        "example.com/plain": ("v0.1.0", "pulumi-plugin.json", {"resource": False}),
        "example.com/untagged": (
            "v0.0.0-00010101000000-000000000000",
            "x/pulumi-plugin.json",
            {"resource": True, "name": "untagged"},
        ),
        "example.com/pseudo": (
            "v1.29.1-0.20200403140640-efb5e2a48a86",
            "pulumi-plugin.json",
            {"resource": True, "name": "pseudo"},
        ),
    }
    program = tmp_path / "program"
    program.mkdir()
    lines = ["module example.com/program", "", "go 1.21", "", "require ("]
    lines += [f"\t{path} {version}" for path, (version, _, _) in modules.items()]
    lines += [")", ""]
    for i, (path, (_, where, meta)) in enumerate(modules.items()):
        source = tmp_path / f"m{i}"
        (source / where).parent.mkdir(parents=True, exist_ok=True)
        (source / "go.mod").write_text(f"module {path}\n\ngo 1.21\n")
        (source / where).write_text(json.dumps(meta))
        lines.append(f"replace {path} => ../m{i}")
    (program / "go.mod").write_text("\n".join(lines) + "\n")
    reported = _required_packages(pulumi_bin, "go", program)
    assert reported == {
        ("acme", "v3.1.0", "resource", "https://acme.invalid"),
        ("foo", "v1.4.0", "resource", ""),
        ("pseudo", "v1.29.0", "resource", ""),
    }
