"""The GitHub Actions example (examples/github-actions/pingback.yml) is the workflow
docs/ci.md describes, and the guide names each setting as the code spells it. Static:
the workflow is parsed, nothing runs."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from pulumi_pingback._settings import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "examples" / "github-actions" / "pingback.yml"
GUIDE = ROOT / "docs" / "ci.md"
SECURITY = ROOT / "SECURITY.md"
SOURCE = ROOT / "pulumi_pingback"

SECRET = re.compile(r"\$\{\{\s*secrets\.([A-Za-z0-9_]+)\s*\}\}")
ON_PR = "github.event_name == 'pull_request'"
ON_MAIN = ("github.event_name == 'push'", "github.ref == 'refs/heads/main'")


def workflow() -> dict[str, Any]:
    loaded = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(loaded, dict)
    return loaded


def triggers(flow: Mapping[Any, Any]) -> Any:
    """``on:`` — which YAML 1.1 (PyYAML) reads as the key True."""
    return flow["on"] if "on" in flow else flow[True]


def jobs() -> dict[str, dict[str, Any]]:
    found = workflow()["jobs"]
    assert isinstance(found, dict)
    return found


def pulumi_steps(job: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The job's `pulumi/actions` steps that run a command (not the install-only one)."""
    for step in job["steps"]:
        if str(step.get("uses", "")).startswith("pulumi/actions@") and "command" in step.get(
            "with", {}
        ):
            yield step


def guards(job: Mapping[str, Any], step: Mapping[str, Any]) -> str:
    return " && ".join(str(g) for g in (job.get("if"), step.get("if")) if g)


def test_it_runs_on_pull_requests_and_on_pushes_to_main() -> None:
    on = triggers(workflow())
    assert "pull_request" in on
    assert on["push"]["branches"] == ["main"]


def test_preview_runs_on_pull_requests_only_and_up_on_main_only() -> None:
    commands: dict[str, list[str]] = {"preview": [], "up": []}
    for job in jobs().values():
        for step in pulumi_steps(job):
            assert step["uses"] == "pulumi/actions@v6"
            command = step["with"]["command"]
            assert command in commands, command
            commands[command].append(guards(job, step))
            assert step["with"]["stack-name"] and step["with"]["work-dir"]
    assert commands["preview"] and commands["up"]
    for guard in commands["preview"]:
        assert ON_PR in guard and "push" not in guard
    for guard in commands["up"]:
        assert all(part in guard for part in ON_MAIN) and "pull_request" not in guard


def test_every_up_is_in_a_concurrency_group_per_stack_never_cancelled() -> None:
    for name, job in jobs().items():
        group = job.get("concurrency", {})
        assert isinstance(group, dict) and group.get("group"), f"job {name} has no group"
        assert group.get("cancel-in-progress") is False
        if any(s["with"]["command"] == "up" for s in pulumi_steps(job)):
            assert "matrix.stack" in group["group"]
            assert all(s["with"]["stack-name"] == "${{ matrix.stack }}" for s in pulumi_steps(job))
            assert job["strategy"]["fail-fast"] is False


def test_the_project_gets_python_and_its_dependencies() -> None:
    for job in jobs().values():
        uses = [str(s.get("uses", "")) for s in job["steps"]]
        runs = [str(s.get("run", "")) for s in job["steps"]]
        assert any(u.startswith("actions/setup-python@") for u in uses)
        assert "pulumi install" in runs
        # the CLI is installed (pulumi/actions without a command) before `pulumi install`
        install_only = next(
            i for i, s in enumerate(job["steps"]) if "pulumi/actions@" in str(s.get("uses"))
        )
        assert "command" not in job["steps"][install_only].get("with", {})
        assert install_only < runs.index("pulumi install")


def test_the_guide_lists_every_secret_the_workflow_reads() -> None:
    guide = GUIDE.read_text()
    used = set(SECRET.findall(WORKFLOW.read_text()))
    assert {"PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE", "PINGBACK_TOKEN"} <= used
    for name in sorted(used):
        assert f"`{name}`" in guide, name
    assert "`pingback:token`" in guide


def test_the_guide_links_the_workflow() -> None:
    assert "(../examples/github-actions/pingback.yml)" in GUIDE.read_text()
    assert (ROOT / "examples" / "github-actions" / "README.md").is_file()


def source_text() -> str:
    return "\n".join(p.read_text() for p in sorted(SOURCE.rglob("*.py")))


@pytest.mark.parametrize("doc", [GUIDE, SECURITY], ids=lambda p: p.name)
def test_each_setting_is_named_as_the_code_spells_it(doc: Path) -> None:
    text = doc.read_text()
    source = source_text()
    keys = set(re.findall(r"\bpingback:[A-Za-z]+\b(?!:)", text))  # not pingback:index:…
    envs = set(re.findall(r"\bPINGBACK_[A-Z_]+\b", text))
    assert {"pingback:token"} <= keys and "PINGBACK_TOKEN" in envs
    for key in sorted(keys):
        assert key in SETTINGS, key  # the settings' table
    for env in sorted(envs):
        assert env in SETTINGS.values() or f'"{env}"' in source, env
    if doc == GUIDE:
        assert {"PINGBACK_STATE_DIR", "PINGBACK_LOG_LEVEL"} <= envs


def test_the_recovery_the_guide_gives_is_the_one_the_provider_prints() -> None:
    guide = GUIDE.read_text()
    source = source_text()
    for words in (
        "--import-pending-creates",
        "No run on this machine made",
        "must not be empty",
        "no PingBack API token",
    ):
        assert words in guide and words in source, words
    assert "https://api.pingback.live" in guide and "https://api.pingback.live" in source
