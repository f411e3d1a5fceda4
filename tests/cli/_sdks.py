"""Toolchains for the generated SDKs: npm and TypeScript, Go, pip and mypy, each run as a
user runs it, with caches that outlive a test run.

npm keeps its own cache (``~/.npm``) and is asked to prefer it (``--prefer-offline``:
no metadata revalidation once a package is cached); Go uses the module and build caches
of ``scripts/pulumi-cli/build`` (``<cli cache>/gomod``, ``<cli cache>/gobuild``), so that
the CLI's cache in CI also carries the programs' modules and builds. Nothing here reaches
beyond 127.0.0.1 but the npm registry and the Go module proxy, and only on a cold cache.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from ._cli import Workspace

PULUMI_NPM = "3.270.0"
"""The @pulumi/pulumi the TypeScript projects install (the generated SDK asks ^3.269.0)."""

TSCONFIG_OPTIONS: dict[str, object] = {
    # Pulumi's TypeScript template (`pulumi new typescript`), as users start from it.
    "strict": True,
    "outDir": "bin",
    "target": "es2020",
    "module": "commonjs",
    "moduleResolution": "node",
    "sourceMap": True,
    "experimentalDecorators": True,
    "pretty": False,
    "noFallthroughCasesInSwitch": True,
    "noImplicitReturns": True,
    "forceConsistentCasingInFileNames": True,
}


def cli_cache() -> Path:
    """The cache ``scripts/pulumi-cli/build`` uses (PINGBACK_CLI_CACHE, else its default)."""
    given = os.environ.get("PINGBACK_CLI_CACHE")
    if given:
        return Path(given)
    return (
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pulumi-pingback" / "cli"
    )


def toolchain_env() -> dict[str, str]:
    """What npm and go run with, here and under the CLI (the hosts pass it on)."""
    cache = cli_cache()
    return {
        "GOMODCACHE": str(cache / "gomod"),
        "GOCACHE": str(cache / "gobuild"),
        "GOFLAGS": "-buildvcs=false",
        "GOTOOLCHAIN": "local",  # the Go on PATH, never a downloaded one
        "npm_config_prefer_offline": "true",
        "npm_config_audit": "false",
        "npm_config_fund": "false",
        "npm_config_update_notifier": "false",
    }


def run(
    command: Sequence[str | Path],
    cwd: Path,
    *,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """A toolchain command; with ``check``, a failure is an assertion showing its output."""
    done = subprocess.run(
        [str(c) for c in command],
        cwd=cwd,
        env={**os.environ, **toolchain_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"$ {' '.join(map(str, command))}  (in {cwd}, exit {done.returncode})\n"
            f"{done.stdout}{done.stderr}"
        )
    return done


def gen_sdk(ws: Workspace, source: Path, language: str, out: Path) -> Path:
    """`pulumi package gen-sdk <source> --language <language> --out <out>`, the source a
    plugin or its schema (a file): the SDK's directory (the CLI writes it to
    ``<out>/<language>``)."""
    ws.run(
        "package", "gen-sdk", str(source), "--language", language, "--out", str(out), cwd=out.parent
    )
    sdk = out / language
    assert sdk.is_dir(), f"gen-sdk wrote nothing to {sdk}"
    return sdk


def write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=4) + "\n")


def tsc(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The project's own ``tsc`` (node_modules/.bin)."""
    return run([project / "node_modules" / ".bin" / "tsc", *args], project, check=check)


def diagnostics(output: str, file: str) -> dict[int, str]:
    """Line number -> the errors reported on it in ``file``, from tsc
    (``file(12,5): error TS2339: …``), the Go toolchain (``./file:12:5: …``) or mypy
    (``file:12: error: …``)."""
    found: dict[int, str] = {}
    name = re.escape(file)
    pattern = rf"(?:^|[\s/]){name}(?:\((\d+),\d+\)|:(\d+)(?::\d+)?):? (.*)"
    last: int | None = None
    for line in output.splitlines():
        m = re.search(pattern, line)
        if m:
            last = int(m.group(1) or m.group(2))
            found[last] = found[last] + "\n" + m.group(3) if last in found else m.group(3)
        elif last is not None and line.startswith(" "):  # tsc's continuation lines
            found[last] += "\n" + line.strip()
        else:
            last = None
    return found


def marked_lines(source: str, mark: str) -> set[int]:
    """The lines of ``source`` carrying ``mark`` (a comment naming the expected error)."""
    return {n for n, line in enumerate(source.splitlines(), 1) if mark in line}


def nodejs_project(where: Path, program: str, *, name: str) -> Path:
    """A TypeScript project as `pulumi new typescript` makes one: @pulumi/pulumi,
    TypeScript and the Node types in package.json, Pulumi's tsconfig, ``index.ts``."""
    where.mkdir(parents=True)
    (where / "Pulumi.yaml").write_text(f"name: {name}\nruntime: nodejs\n")
    write_json(
        where / "package.json",
        {
            "name": name,
            "private": True,
            "main": "index.ts",
            "dependencies": {"@pulumi/pulumi": PULUMI_NPM},
            "devDependencies": {"typescript": "^5.0.0", "@types/node": "^20"},
        },
    )
    write_json(
        where / "tsconfig.json", {"compilerOptions": TSCONFIG_OPTIONS, "files": ["index.ts"]}
    )
    (where / "index.ts").write_text(program)
    return where


def go_project(where: Path, program: str, *, name: str) -> Path:
    """A Go project as `pulumi new go` makes one: a module requiring the Pulumi SDK (the
    CLI's version, already in the module cache) and ``main.go``."""
    where.mkdir(parents=True)
    (where / "Pulumi.yaml").write_text(f"name: {name}\nruntime: go\n")
    (where / "go.mod").write_text(
        f"module {name}\n\ngo 1.25\n\nrequire github.com/pulumi/pulumi/sdk/v3 v3.274.1\n"
    )
    (where / "main.go").write_text(program)
    return where


def pip_install_target(sdk: Path, target: Path) -> Path:
    """The generated Python SDK installed into a directory of its own (``pip install
    --target``, no dependencies: the test virtualenv has them), so that it has the
    installed metadata its ``_utilities`` reads its version from, and the test
    virtualenv is left as it is."""
    run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", target, sdk],
        sdk,
    )
    return target
