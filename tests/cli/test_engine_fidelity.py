"""The engine harness (tests/engine) checked against the real engine, call by call.

The harness plans the commands the fast tests run whole — `up` (a plain `pulumi up`:
its preview first), preview, both replace orders, refresh, destroy, a read step, the
``import`` option —, and this checks those paths, and only those: ``up --refresh``,
`pulumi import` and the previews before refresh and destroy are not in the harness, and
the other tests of tests/cli prove them under the CLI alone. One stack per target goes
through every scenario under the real CLI, with ``PULUMI_DEBUG_GRPC`` recording what the
engine sends the provider; then the same steps go through the harness
(``Engine(record=True)``) on the same simulator, reset. Each scenario's calls — methods in order, and each request in full: olds, news, inputs,
state, secrets, ``ignoreChanges``, ``preview``, urn/name/type, ``oldInputs``,
``oldOutputs``, ``sendsOldInputs``… — must agree once normalised (``_grpclog``), except
for the differences in ``DIFFERENCES``, each with its reason, each written in
docs/engine-fidelity.md, and each still needed where it is listed.

The targets: the dynamic provider through a Python program (``PingBackChannel``, run by
the harness with ``tests/program.py``), and the native plugin through a YAML program
(the harness given the same resources as ``Declared``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..conftest import TG, TG_OTHER_BOT
from ..engine import NATIVE, ROOT, CheckFailed, Declared, Engine, Run, Secret
from ..engine._processes import SimulatorProcess
from ..program import run_program
from ._cli import TOKEN, Stack, Workspace, python_project
from ._grpclog import Call, cli_calls, explain, harness_calls, methods, normalise

TG_THIRD = "7000000002:AAH" + "w" * 32
DOC = ROOT / "docs" / "engine-fidelity.md"

# ---- the program, one spec for both engines -----------------------------------------------

PROGRAM = '''"""The resources spec.json lists, as PingBackChannel declares them."""
import json
from pathlib import Path

import pulumi

from pulumi_pingback import PingBackChannel

for r in json.loads(Path(__file__).with_name("spec.json").read_text()):
    if "get" in r:
        PingBackChannel.get(r["name"], r["get"])
        continue
    config = {
        k: pulumi.Output.secret(v) if k in r.get("secret", []) else v
        for k, v in r["config"].items()
    }
    PingBackChannel(
        r["name"],
        type=r["type"],
        config=config,
        is_active=r.get("is_active", True),
        opts=pulumi.ResourceOptions(
            delete_before_replace=r.get("dbr"), ignore_changes=r.get("ignore")
        ),
    )
'''

Spec = list[dict[str, Any]]


def bot(token: str, **kw: Any) -> dict[str, Any]:
    return {
        "name": "bot",
        "type": "telegram",
        "config": {"bot_token": token},
        "secret": ["bot_token"],
        **kw,
    }


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


def yaml_program(spec: Spec, plugin: Path) -> str:
    """The same resources as a YAML program (a secret key: ``fn::secret``)."""
    lines = ["name: pingback-yaml", "runtime: yaml", "packages:", f"  pingback: {plugin}"]
    lines.append("resources:" if spec else "resources: {}")
    for r in spec:
        lines += [f"  {r['name']}:", "    type: pingback:index:Channel"]
        if "get" in r:
            lines += ["    get:", f"      id: {r['get']}"]
            continue
        lines += ["    properties:", f"      type: {r['type']}", "      config:"]
        for k, v in r["config"].items():
            key = _camel(k)  # the schema's name of PingBack's key: botToken, widgetId
            if k in r.get("secret", []):
                lines += [f"        {key}:", f"          fn::secret: {json.dumps(v)}"]
            else:
                lines.append(f"        {key}: {json.dumps(v)}")
        if "is_active" in r:
            lines.append(f"      isActive: {json.dumps(r['is_active'])}")
        options = []
        if r.get("dbr") is not None:
            options.append(f"      deleteBeforeReplace: {json.dumps(r['dbr'])}")
        if r.get("ignore"):
            options.append(f"      ignoreChanges: {json.dumps(r['ignore'])}")
        if r.get("import"):
            options.append(f"      import: {r['import']}")
        if options:
            lines += ["    options:", *options]
    return "\n".join(lines) + "\n"


def declared(r: dict[str, Any]) -> Declared:
    """A spec entry as the YAML program registers it: ``isActive`` only when written; a
    ``fn::secret`` value as a secret (the schema's ``config`` is not secret as a whole)."""
    if "get" in r:
        return Declared(r["name"], {}, read_id=r["get"])
    config = {k: Secret(v) if k in r.get("secret", []) else v for k, v in r["config"].items()}
    inputs: dict[str, Any] = {"type": r["type"], "config": config}
    if "is_active" in r:
        inputs["is_active"] = r["is_active"]
    return Declared(
        r["name"],
        inputs,
        delete_before_replace=r.get("dbr"),
        ignore_changes=tuple(r.get("ignore", ())),
        import_id=r.get("import"),
    )


# ---- the scenarios --------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One scenario: the program from here on (None: unchanged), what happens in the
    dashboard first, the CLI command, and what the harness runs for it."""

    name: str
    program: Spec | None
    cli: tuple[str, ...]
    harness: str  # preview+up | preview | up | refresh | destroy
    drift: bool = False  # the bot is turned on in the dashboard first
    make: dict[str, Any] | None = None  # a channel made in the dashboard first: "$made"
    targets: frozenset[str] = frozenset({"dynamic", "native"})


UP = ("up", "--yes", "--skip-preview")
STEPS = (
    # `pulumi up` without --skip-preview previews first: the harness's preview, then up
    # (the harness has no preview of refresh or destroy: those run with --skip-preview)
    Step("create", [bot(TG)], ("up", "--yes"), "preview+up"),
    Step("preview", [bot(TG, is_active=False, ignore=["config"])], ("preview",), "preview"),
    Step("update", None, UP, "up"),
    Step("replace-create-before-delete", [bot(TG_OTHER_BOT, is_active=False)], UP, "up"),
    Step(
        "replace-delete-before-replace",
        [bot(TG_THIRD, is_active=False, dbr=True)],
        UP,
        "up",
    ),
    Step(
        "refresh-with-drift",
        None,
        ("refresh", "--yes", "--skip-preview"),
        "refresh",
        drift=True,
    ),
    Step("destroy", None, ("destroy", "--yes", "--skip-preview"), "destroy"),
    Step(
        "get",
        [{"name": "found", "get": "$made"}],
        UP,
        "up",
        make={"type": "widget", "config": {"widget_id": "w-1"}},
    ),
    Step(
        "import-option",
        [{"name": "opt", "type": "widget", "config": {"widget_id": "w-2"}, "import": "$made"}],
        UP,
        "up",
        make={"type": "widget", "config": {"widget_id": "w-2"}},
        targets=frozenset({"native"}),
    ),
)
SCENARIOS = [(t, s.name) for t in ("dynamic", "native") for s in STEPS if t in s.targets]


# ---- the differences that stay, each with its reason ---------------------------------------

Erase = Callable[[list[Call]], list[Call]]


def _without_keys(*keys: str) -> Erase:
    def erase(calls: list[Call]) -> list[Call]:
        return [
            {**c, "request": {k: v for k, v in c["request"].items() if k not in keys}}
            for c in calls
        ]

    return erase


def _handshake_dirs(calls: list[Call]) -> list[Call]:
    dirs = ("rootDirectory", "programDirectory")
    return [
        {**c, "request": {**c["request"], **{k: "<dir>" for k in dirs if k in c["request"]}}}
        if c["method"] == "Handshake"
        else c
        for c in calls
    ]


def _without_schema_loader(calls: list[Call]) -> list[Call]:
    """Drop each process the CLI starts only for the plugin's schema: Handshake,
    GetPluginInfo, GetSchema, GetPluginInfo, and (at the end) its Cancel."""
    out = list(calls)
    while any(c["method"] == "GetSchema" for c in out):
        i = methods(out).index("GetSchema")
        assert methods(out)[i - 2 : i + 2] == [
            "Handshake",
            "GetPluginInfo",
            "GetSchema",
            "GetPluginInfo",
        ], methods(out)
        del out[i - 2 : i + 2]
        cancel = methods(out).index("Cancel", i - 2)
        del out[cancel]
    return out


ALL = frozenset(s.name for s in STEPS)
DYNAMIC_STEPS = frozenset(s.name for s in STEPS if "dynamic" in s.targets)


@dataclass(frozen=True)
class Difference:
    """A way the harness's calls differ from the CLI's: what, why, where (target ->
    scenarios: it must still show there), and how it is taken out of both sides."""

    key: str
    what: str
    why: str
    where: dict[str, frozenset[str]]
    erase: Erase = field(repr=False)


DIFFERENCES = (
    Difference(
        "resource-status",
        "The CLI adds resourceStatusAddress and resourceStatusToken to Create, Update, "
        "Delete and Read; the harness sends neither.",
        "They point at the engine's resource-status service, through which a provider may "
        "report progress and views; the harness serves no such service, and neither "
        "provider here uses it.",
        {"dynamic": DYNAMIC_STEPS - {"preview"}, "native": ALL},
        _without_keys("resourceStatusAddress", "resourceStatusToken"),
    ),
    Difference(
        "handshake-directory",
        "For the dynamic provider the CLI's Handshake names its own directory (where "
        "`pulumi-resource-pulumi-python` lives) as rootDirectory and programDirectory; the "
        "harness names the program's directory.",
        "The dynamic provider's plugin is a shim that ships with the CLI, which the harness "
        "does not have; the server answers Handshake UNIMPLEMENTED either way. (For the "
        "native plugin both name the plugin's directory.)",
        {"dynamic": DYNAMIC_STEPS},
        _handshake_dirs,
    ),
    Difference(
        "schema-loader",
        "With the native plugin, the CLI starts the plugin once more in each command that "
        "runs a YAML program (to type-check it) and sends it Handshake, GetPluginInfo, "
        "GetSchema, GetPluginInfo and, at the end, Cancel; the harness starts no such "
        "process.",
        "That process serves the language host and the code generator, not the "
        "deployment: no resource call goes to it. A Python program on a generated SDK "
        "needs no schema at run time.",
        {"native": ALL - {"refresh-with-drift", "destroy"}},
        _without_schema_loader,
    ),
)


# ---- running both engines -------------------------------------------------------------------


@dataclass
class Recording:
    cli: dict[str, list[Call]] = field(default_factory=dict)
    harness: dict[str, list[Call]] = field(default_factory=dict)


def _fill(spec: Spec, made: str | None) -> Spec:
    """``spec`` with the id of the channel made in the dashboard for ``$made``."""
    filled: Spec = json.loads(json.dumps(spec).replace("$made", made or "$made"))
    return filled


class _Dashboard:
    """PingBack's API as the dashboard uses it, outside Pulumi."""

    def __init__(self, sim: SimulatorProcess) -> None:
        self.http = httpx.Client(
            base_url=f"{sim.url}/api/v1", headers={"Authorization": f"Bearer {TOKEN}"}
        )

    def turn_on(self, cid: str) -> None:
        self.http.patch(f"/channels/{cid}", json={"is_active": True}).raise_for_status()

    def make(self, body: dict[str, Any]) -> str:
        response = self.http.post("/channels/", json=body)
        response.raise_for_status()
        return str(response.json()["id"])


def _reset(sim: SimulatorProcess) -> None:
    sim.reset(plan="pro", latency=0, limit=None)
    sim.control.delete("/_sim/faults").raise_for_status()


def _run_cli(
    target: str, root: Path, bin_dir: Path, sim: SimulatorProcess, plugin: Path | None
) -> dict[str, list[Call]]:
    _reset(sim)
    dashboard = _Dashboard(sim)
    ws = Workspace(root / "ws", bin_dir)
    project = root / "project"
    if target == "dynamic":
        python_project(project, PROGRAM)

        def write(spec: Spec) -> None:
            (project / "spec.json").write_text(json.dumps(spec))

        places = {sim.url: "<api>", str(bin_dir): "<plugin dir>"}
    else:
        assert plugin is not None
        project.mkdir(parents=True)

        def write(spec: Spec) -> None:
            (project / "Pulumi.yaml").write_text(yaml_program(spec, plugin))

        places = {sim.url: "<api>", str(plugin): "<plugin dir>"}
    write([])
    st = Stack(ws, project, "dev").init()
    st.set("pingback:apiUrl", sim.url)
    st.set("pingback:token", TOKEN, secret=True)
    made: str | None = None
    calls: dict[str, list[Call]] = {}
    for step in STEPS:
        if target not in step.targets:
            continue
        if step.make:
            made = dashboard.make(step.make)
        if step.program is not None:
            write(_fill(step.program, made))
        if step.drift:
            dashboard.turn_on(next(r["id"] for r in st.resources() if r["urn"].endswith("::bot")))
        log = root / f"{step.name}.grpc.jsonl"
        args = [a.replace("$made", made or "") for a in step.cli]
        st.run(*args, "--non-interactive", env={"PULUMI_DEBUG_GRPC": str(log)})
        calls[step.name] = normalise(cli_calls(log), values=places)
    return calls


def _run_harness(target: str, root: Path, sim: SimulatorProcess) -> dict[str, list[Call]]:
    _reset(sim)
    dashboard = _Dashboard(sim)
    config = {"pingback:apiUrl": sim.url, "pingback:token": TOKEN}
    program_dir = root / "program"
    program_dir.mkdir(parents=True)
    if target == "dynamic":
        engine = Engine(config, project="pingback-e2e", cwd=program_dir, record=True)
        (program_dir / "__main__.py").write_text(PROGRAM)
        places = {sim.url: "<api>"}
    else:
        # a YAML program's default provider has no `version` (a generated SDK's would)
        engine = Engine(
            config,
            project="pingback-yaml",
            cwd=program_dir,
            target=NATIVE,
            record=True,
            provider_version=None,
        )
        places = {sim.url: "<api>", str(ROOT): "<plugin dir>"}
    spec: Spec = []
    made: str | None = None

    def up(*, preview: bool = False) -> Run:
        if target == "dynamic":
            (program_dir / "spec.json").write_text(json.dumps(spec))
            return run_program(
                engine,
                program_dir,
                config=config,
                secret_keys=["pingback:token"],
                preview=preview,
            )[0]
        if preview:
            return engine.preview([declared(r) for r in spec])
        return engine.up([declared(r) for r in spec])

    calls: dict[str, list[Call]] = {}
    for step in STEPS:
        if target not in step.targets:
            continue
        if step.make:
            made = dashboard.make(step.make)
        if step.program is not None:
            spec = _fill(step.program, made)
        if step.drift:
            dashboard.turn_on(engine.state["bot"].id)
        runs: list[Run]
        if step.harness == "preview+up":
            runs = [up(preview=True), up()]
        elif step.harness == "preview":
            runs = [up(preview=True)]
        elif step.harness == "up":
            runs = [up()]
        elif step.harness == "refresh":
            runs = [engine.refresh()]
        else:
            assert step.harness == "destroy"
            runs = [engine.destroy()]
        calls[step.name] = normalise(harness_calls(runs), values=places)
    return calls


@pytest.fixture(scope="module")
def recorded(
    pulumi_bin: Path, simulator: SimulatorProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str, Path | None], Recording]]:
    """Each target's recording, made once for the module (both engines, every step)."""
    done: dict[str, Recording] = {}

    def get(target: str, plugin: Path | None) -> Recording:
        if target not in done:
            root = tmp_path_factory.mktemp(f"fidelity-{target}")
            rec = Recording()
            rec.cli = _run_cli(target, root / "cli", pulumi_bin, simulator, plugin)
            rec.harness = _run_harness(target, root / "harness", simulator)
            done[target] = rec
            shutil.rmtree(root / "cli" / "ws", ignore_errors=True)
        return done[target]

    yield get
    _reset(simulator)


def _erased(target: str, scenario: str, calls: list[Call]) -> list[Call]:
    for difference in DIFFERENCES:
        if scenario in difference.where.get(target, ()):
            calls = difference.erase(calls)
    return calls


@pytest.mark.parametrize(("target", "scenario"), SCENARIOS, ids=[f"{t}-{s}" for t, s in SCENARIOS])
def test_the_harness_sends_what_the_cli_sends(
    target: str,
    scenario: str,
    recorded: Callable[[str, Path | None], Recording],
    request: pytest.FixtureRequest,
) -> None:
    plugin = request.getfixturevalue("native_plugin") if target == "native" else None
    rec = recorded(target, plugin)
    cli, harness = rec.cli[scenario], rec.harness[scenario]
    assert _erased(target, scenario, cli) == _erased(target, scenario, harness), explain(
        _erased(target, scenario, cli), _erased(target, scenario, harness)
    )
    # Every listed difference still shows where it is listed (or the table is stale).
    for difference in DIFFERENCES:
        if scenario in difference.where.get(target, ()):
            assert (difference.erase(cli), difference.erase(harness)) != (cli, harness), (
                f"{difference.key} no longer shows in {target} {scenario}: drop it there"
            )


FAILING = f"""import pulumi
from pulumi_pingback import PingBackChannel

PingBackChannel(
    "c",
    type="telegram",
    config={{"bot_tokn": pulumi.Output.secret("{TG}")}},
    is_active=pulumi.Output.secret("yes"),
)
"""


def test_check_failures_print_as_the_harness_renders_them(
    ws: Workspace, sim: SimulatorProcess, tmp_path: Path
) -> None:
    """The engine prints a failing property's value with its secrets redacted, and a
    nested path (not a top-level key) as ``{<nil>}``."""
    st = Stack(ws, python_project(tmp_path / "failing", FAILING), "dev").init()
    st.set("pingback:apiUrl", sim.url)
    st.set("pingback:token", TOKEN, secret=True)
    printed = st.preview(check=False)
    assert printed.code != 0
    engine = Engine({"pingback:apiUrl": sim.url, "pingback:token": TOKEN}, cwd=tmp_path)
    failing = Declared(
        "c",
        {"type": "telegram", "config": {"bot_tokn": Secret(TG)}, "is_active": Secret("yes")},
    )
    with pytest.raises(CheckFailed) as info:
        engine.preview([failing])
    assert len(info.value.rendered) == 3
    for line in info.value.rendered:
        assert f"error: {line}" in printed.stdout, (line, printed.stdout)
    assert "property is_active value {[secret]} has a problem" in printed.stdout
    assert TG not in printed.stdout


def test_every_difference_is_in_the_doc_with_its_reason() -> None:
    doc = DOC.read_text()
    for difference in DIFFERENCES:
        assert f"`{difference.key}`" in doc, difference.key
    assert len({d.key for d in DIFFERENCES}) == len(DIFFERENCES)


def test_a_cancel_the_cli_abandoned_is_not_a_call(tmp_path: Path) -> None:
    """The CLI may send a provider a second ``Cancel`` as it closes it (see ``_grpclog``);
    that call ends ``CANCELED`` without reaching the provider, and is left out. A
    ``Cancel`` that failed otherwise still counts."""
    log = tmp_path / "grpc.log"
    entry = {"method": "/pulumirpc.ResourceProvider/Cancel", "request": {}}
    lines = [
        {**entry, "progress": "request_started"},
        {**entry, "progress": "response_completed"},
        {**entry, "progress": "response_completed", "errors": ["rpc error: code = Canceled"]},
        {**entry, "progress": "response_completed", "errors": ["rpc error: code = Internal"]},
    ]
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert cli_calls(log) == [
        {"method": "Cancel", "request": {}},
        {"method": "Cancel", "request": {}, "error": "INTERNAL"},
    ]
