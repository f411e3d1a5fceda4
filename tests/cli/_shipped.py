"""What ships, as the end-to-end suite installs it: the sdist and the wheel
``python -m build`` makes of this checkout (``twine check`` clean), and a virtualenv of
their own with the wheel installed — ``pulumi-pingback[native,simulator]``, dependencies
from the package index, as a user installs it.

Every Python program of tests/cli runs in that virtualenv, and its ``bin/`` (``pingback``,
``pulumi-resource-pingback``) is what the CLI finds on ``PATH``: a module left out of the
wheel, or a path that exists only in a checkout, fails the suite. (The fast tests import
the checkout; the native plugin of ``pulumi package add <checkout>`` is installed from a
copy of the checkout's files, as that command installs it.)

Made once per change: ``<cache>/shipped/dist-<hash of the files the build reads>`` holds
the build, ``<cache>/shipped/venv-<hash of pyproject.toml>-<Python>`` the virtualenv (the
wheel reinstalled when the build changes), all under a file lock, so pytest-xdist's
workers wait for the first instead of building four times. Under ``CI=true`` the
virtualenv is made anew once per test run, its dependencies resolved from the index as
a user's would be that day; elsewhere it is kept until pyproject.toml changes. Builds
older than a day are removed (a younger one may be another checkout's, in use).
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..engine import ROOT

_BUILD_READS = ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "pulumi_pingback")
"""What the wheel and the sdist's metadata are made of (the sdist's other files are the
source plugin's and the docs', which no test takes from it)."""


@dataclass(frozen=True)
class Shipped:
    sdist: Path
    wheel: Path
    twine_check: str
    """What ``twine check`` printed (it passed)."""
    venv: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"


def _cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pulumi-pingback" / "shipped"


def _digest(paths: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for name in paths:
        top = ROOT / name
        files = sorted(top.rglob("*")) if top.is_dir() else [top]
        for f in files:
            if f.is_file() and "__pycache__" not in f.parts:
                h.update(str(f.relative_to(ROOT)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _run(*args: str | Path) -> str:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=900, cwd=ROOT
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _this_ci_run() -> str:
    """Under CI, this test run (the id pytest-xdist gives all its workers); else ""."""
    if os.environ.get("CI") != "true":
        return ""
    return os.environ.get("PYTEST_XDIST_TESTRUNUID") or str(os.getppid())


@functools.cache
def shipped() -> Shipped:
    """The build and its virtualenv, made (or found up to date) once per process."""
    root = _cache()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        dist = root / f"dist-{_digest(_BUILD_READS)}"
        if not (dist / "twine-check.txt").exists():
            shutil.rmtree(dist, ignore_errors=True)
            _run(sys.executable, "-m", "build", "--outdir", dist, ROOT)
            checked = _run(
                sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir())
            )
            (dist / "twine-check.txt").write_text(checked)
            for old in root.glob("dist-*"):
                if old != dist and time.time() - old.stat().st_mtime > 86400:
                    shutil.rmtree(old, ignore_errors=True)
        (wheel,) = dist.glob("*.whl")
        (sdist,) = dist.glob("*.tar.gz")
        python = ".".join(map(str, sys.version_info[:3]))
        venv = root / f"venv-{_digest(('pyproject.toml',))}-{python}"
        made = {"python": sys.version, "run": _this_ci_run()}
        stamp = venv / "made-from.json"
        if not stamp.exists() or json.loads(stamp.read_text()) != made:
            shutil.rmtree(venv, ignore_errors=True)
            _run(sys.executable, "-m", "venv", venv)
            _run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
            _run(venv / "bin" / "pip", "install", "--quiet", f"{wheel}[native,simulator]")
            stamp.write_text(json.dumps(made))
        installed = venv / "installed-wheel"
        if not installed.exists() or installed.read_text() != str(wheel):
            _run(
                venv / "bin" / "pip", "install", "--quiet", "--no-deps", "--force-reinstall", wheel
            )
            installed.write_text(str(wheel))
        return Shipped(sdist, wheel, (dist / "twine-check.txt").read_text(), venv)
