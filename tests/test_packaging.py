"""The package as it would be published: the wheel's contents and metadata."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

from pulumi_pingback import __version__

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_is_ready_to_publish(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("pulumi_pingback-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = f"pulumi_pingback-{__version__}.dist-info"
        metadata = Parser().parsestr(archive.read(f"{info}/METADATA").decode())
        scripts = archive.read(f"{info}/entry_points.txt").decode()
        archive_plugin_json = archive.read("pulumi_pingback/pulumi-plugin.json")
    assert f"{info}/licenses/LICENSE" in names and "pulumi_pingback/py.typed" in names
    # What Pulumi's Python host reads to tell whether a pulumi-* package wants a plugin:
    # this one does not (tests/cli/test_langhost.py, under the real CLI's rule).
    plugin = json.loads(archive_plugin_json)
    assert plugin == {"resource": False}
    assert not [n for n in names if n.startswith(("tests/", "examples/", "benchmarks/"))]
    assert metadata["Version"] == __version__ and metadata["License-Expression"] == "Apache-2.0"
    classifiers = metadata.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers and "Development Status :: 4 - Beta" in classifiers
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL") or [])
    assert {"Homepage", "Source", "Issues", "Changelog"} <= set(urls)
    requires = metadata.get_all("Requires-Dist") or []
    base = [r for r in requires if "extra ==" not in r]
    assert all("<" in r for r in base), base  # every runtime dependency has an upper bound
    assert "pingback = pulumi_pingback.command:console" in scripts
    assert "pingback-simulator = pulumi_pingback.simulator.__main__:main" in scripts
    assert "pulumi-resource-pingback = pulumi_pingback.native:main" in scripts
    assert "pulumi<3.273,>=3.272.0; extra == 'native'" in requires  # the tested SDK
    assert str(metadata.get_payload()).startswith("# pulumi-pingback")  # the README
    assert (ROOT / "CHANGELOG.md").read_text().count(f"## [{__version__}]") == 1


def test_every_test_the_readme_names_exists() -> None:
    """README.md and docs/*.md back their promises with test names (`tests/f.py::test_x`,
    then `…::test_y` for more in the same file); each must be a test of that file. Each
    document is read on its own: a `…` refers to the last file named in that document."""
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    named: list[tuple[str, str, str]] = []
    for document in documents:
        current = ""
        for path, test in re.findall(
            r"`(?:(tests/[\w/]+\.py)|…)(?:::(\w+))?", document.read_text()
        ):
            current = path or current
            if test:
                assert current, f"{document.name}: …::{test} follows no file"
                named.append((document.name, current, test))
    assert len(named) >= 40
    missing = [
        f"{document}: {path}::{test}"
        for document, path, test in named
        if not (ROOT / path).exists()
        or not re.search(rf"^def {test}\(", (ROOT / path).read_text(), re.M)
    ]
    assert missing == []


def test_the_readme_is_short() -> None:
    """The README is for users (what it is, the quick start — its three files and
    commands, 70 lines —, install, a program, adoption, troubleshooting); the reference
    and the rest live in docs/."""
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 280, len(lines)


SKIPPED = {".venv", "venv", "node_modules", ".git", "__pycache__", ".mypy_cache", ".ruff_cache"}


def test_nothing_refers_to_files_outside_the_repository() -> None:
    """What the project relies on is written in its own files (docs/pingback-api.md, …),
    never in a folder beside the checkout."""
    outside = ("../" + "shared", "/work/" + "shared")  # not spelt whole: this file is read too
    found = []
    for top in ("README.md", "docs", "examples", "tests", "pulumi_pingback", "scripts", ".ci"):
        start = ROOT / top
        files = [start] if start.is_file() else sorted(p for p in start.rglob("*") if p.is_file())
        for file in files:
            if SKIPPED & set(file.relative_to(ROOT).parts):
                continue
            data = file.read_bytes()
            if b"\0" in data[:8192]:
                continue  # a binary
            text = data.decode("utf-8", errors="replace")
            found += [f"{file.relative_to(ROOT)}: {word}" for word in outside if word in text]
    assert found == []


def test_ci_runs_the_readme_quick_start_word_for_word() -> None:
    readme = (ROOT / "README.md").read_text()
    # the user's quick start comes first (tests/cli/test_shipped.py runs it); then these
    assert readme.index("## Quick start\n") < readme.index("## Contributing\n")
    block = readme.split("## Contributing\n", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    install, test = block.strip().splitlines()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert install in ci and test in ci
    assert "scripts/pulumi-cli/build" in install  # the end-to-end suite's CLI
    assert "export CI=true" in ci  # a missing CLI fails instead of skipping
    # the soak the default skips, beside the conformance tests against both hosts
    assert any(line.startswith(".venv/bin/python -m pytest -q -m soak ") for line in ci)
    assert any(line.startswith("scripts/pulumi-cli/conformance/run both ") for line in ci)
