"""The SDKs the native plugin's schema generates, in every language the README shows.

`pulumi package gen-sdk <plugin> --language python|nodejs|go` writes each SDK: the names
in it (package, resource, enum, properties) are what the README's snippets must say.
Each SDK compiles with its language's own tools (tsc, go vet and the compiler, mypy); the
README's programs, written against the generated names, type-check, and the usual
mistakes do not. Then a TypeScript, a Go and a Python program each `up`, `preview` (no
changes) and `destroy` channels in the simulator through the plugin as the CLI runs it —
TypeScript and Go with the SDK `pulumi package add` generates and links, as the README
says (the same sources as gen-sdk's; the compile checks run in those projects) — with
what the CLI prints, what PingBack received and the exported state checked.

npm and Go caches outlive the run (see ``_sdks``): a warm run downloads nothing.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pulumi_pingback import __version__
from pulumi_pingback.channels._kinds import KINDS

from ..engine._processes import SimulatorProcess
from ._cli import TOKEN, Stack, Workspace, python_project, secrets_outside_envelopes, squash
from ._sdks import (
    PULUMI_NPM,
    TSCONFIG_OPTIONS,
    diagnostics,
    gen_sdk,
    go_project,
    marked_lines,
    nodejs_project,
    pip_install_target,
    run,
    toolchain_env,
    tsc,
    write_json,
)

pytestmark = pytest.mark.timeout(900)  # a cold npm or Go cache downloads first

GO_MODULE = "github.com/pulumi-pingback/pulumi-pingback/sdk/go"
GO_IMPORT = f"{GO_MODULE}/pingback"
NODE_PACKAGE = "@pulumi-pingback/pingback"
PYTHON_PACKAGE = "pulumi_pingback_native"

# The enum ChannelType in each SDK: member name -> value (the schema's enum names).
ENUM = {
    "telegram": ("TELEGRAM", "Telegram", "ChannelTypeTelegram"),
    "whatsapp": ("WHATSAPP", "Whatsapp", "ChannelTypeWhatsapp"),
    "instagram": ("INSTAGRAM", "Instagram", "ChannelTypeInstagram"),
    "x": ("X", "X", "ChannelTypeX"),
    "widget": ("WIDGET", "Widget", "ChannelTypeWidget"),
    "webchat": ("WEBCHAT", "Webchat", "ChannelTypeWebchat"),
    "email": ("EMAIL", "Email", "ChannelTypeEmail"),
    "sms": ("SMS", "Sms", "ChannelTypeSms"),
}

BOT_TOKEN = "7123456789:AAH-sdk-canary-bot"
SECRETS = {
    "telegramBotToken": BOT_TOKEN,
    "whatsappAccessToken": "EAAG-sdk-canary-access",
    "whatsappVerifyToken": "sdk-canary-verify",
}
CANARIES = [TOKEN, *SECRETS.values()]

# The programs of the native provider's guide (docs/native.md), read from it: its first
# snippet in each language is what these tests compile, run and check.


def _guide_snippet(language: str) -> str:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "native.md").read_text()
    fence = f"```{language}\n"
    start = guide.index(fence) + len(fence)
    return guide[start : guide.index("```", start)]


TYPESCRIPT_PROGRAM = _guide_snippet("typescript")

GO_PROGRAM = _guide_snippet("go")

PYTHON_PROGRAM = _guide_snippet("python")

# What each language's checker must refuse: every line marked MISTAKE is reported.

TYPESCRIPT_MISTAKES = """\
import * as pingback from "@pulumi-pingback/pingback";

new pingback.Channel("a", { type: pingback.ChannelType.TELEGRAM }); // MISTAKE: the member is Telegram
new pingback.Channel("b", { type: "telegramm" }); // MISTAKE: not a ChannelType
new pingback.Channel("c", { type: "telegram", is_active: false }); // MISTAKE: the property is isActive
new pingback.Channel("d", { config: {} }); // MISTAKE: type is required
new pingback.Channel("e", { type: "telegram", isActive: "no" }); // MISTAKE: a boolean
new pingback.Channel("f", { type: "telegram", isActive: false }); // a plain string is a ChannelType
new pingback.Channel("g", { type: "telegram", config: { botTokn: "1:x" } }); // MISTAKE: no such key
new pingback.Channel("h", { type: "telegram", config: { bot_token: "1:x" } }); // MISTAKE: botToken
new pingback.Channel("i", { type: "email", config: { extra: { smtp: "x" } } }); // undocumented keys
"""

GO_MISTAKES = """\
package main

import (
	"github.com/pulumi-pingback/pulumi-pingback/sdk/go/pingback"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		_, err := pingback.NewChannel(ctx, "a", &pingback.ChannelArgs{
			Type: pingback.ChannelTypeTELEGRAM, // MISTAKE: the constant is ChannelTypeTelegram
		})
		_, err = pingback.NewChannel(ctx, "b", &pingback.ChannelArgs{
			Type:     pingback.ChannelTypeTelegram,
			IsActive: false, // MISTAKE: a pulumi.Bool
		})
		_, err = pingback.NewChannel(ctx, "c", &pingback.ChannelArgs{
			Type:   "telegram",                             // MISTAKE: a ChannelType
			Config: pulumi.Map{"botToken": pulumi.String("1:x")}, // MISTAKE: a ChannelConfigArgs
		})
		_, err = pingback.NewChannel(ctx, "e", &pingback.ChannelArgs{
			Type:   pingback.ChannelTypeTelegram,
			Config: &pingback.ChannelConfigArgs{BotTokn: pulumi.String("1:x")}, // MISTAKE: BotToken
		})
		_, err = pingback.NewChannel(ctx, "d", &pingback.ChannelArgs{
			Type:   pingback.ChannelType("telegram"),
			Active: pulumi.Bool(true), // MISTAKE: the field is IsActive
		})
		return err
	})
}
"""

PYTHON_MISTAKES = """\
import pulumi_pingback_native as pingback

pingback.Channel("a", type=pingback.ChannelType.Telegram)  # MISTAKE: the member is TELEGRAM
pingback.Channel("b", type="telegram")  # MISTAKE: a ChannelType, not a str
pingback.Channel("c", type=pingback.ChannelType.TELEGRAM, isActive=False)  # MISTAKE: is_active
pingback.Channel("d", type=pingback.ChannelType.TELEGRAM, is_active="no")  # MISTAKE: a bool
pingback.Channel("e", type=pingback.ChannelType("telegram"), is_active=False)
pingback.Channel("f", type=pingback.ChannelType.TELEGRAM, config={"bot_tokn": "1:x"})  # MISTAKE: bot_token
pingback.Channel("g", type=pingback.ChannelType.TELEGRAM, config=pingback.ChannelConfigArgs(bot_token="1:x"))
"""

MISTAKE = "MISTAKE"


@pytest.fixture
def ws(pulumi_bin: Path, tmp_path: Path) -> Workspace:
    """The conftest's workspace, with the toolchains' caches (npm, Go) in its
    environment, which the CLI passes to the language hosts and the programs."""
    return Workspace(tmp_path / "ws", pulumi_bin, env=toolchain_env())


@pytest.fixture(scope="module")
def sdks(
    pulumi_bin: Path, native_plugin: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """`pulumi package gen-sdk` for each language, one at a time, of the schema the plugin
    serves (`pulumi package get-schema`: the plugin made ready and started once, not once
    per language). The package-add tests check that `package add`, which generates from
    the plugin, writes the same sources."""
    root = tmp_path_factory.mktemp("gen-sdk")
    gen = Workspace(root / "ws", pulumi_bin, env=toolchain_env())
    schema = root / "schema.json"
    schema.write_text(gen.run("package", "get-schema", str(native_plugin), cwd=root).stdout)
    assert json.loads(schema.read_text())["name"] == "pingback"
    return {
        language: gen_sdk(gen, schema, language, root / "sdk")
        for language in ("python", "nodejs", "go")
    }


@pytest.fixture(scope="module")
def python_site(sdks: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated Python SDK, pip-installed into a directory of its own."""
    return pip_install_target(sdks["python"], tmp_path_factory.mktemp("python-sdk") / "site")


def introspect_python_sdk(site: Path) -> dict[str, Any]:
    """Import the SDK in the test virtualenv (a process of its own) and list its names."""
    code = """
import inspect, json
import pulumi_pingback_native as sdk
init = inspect.signature(sdk.Channel._internal_init).parameters
outputs = [n for n, v in vars(sdk.Channel).items() if isinstance(v, property)]
print(json.dumps({
    "enum": {m.name: m.value for m in sdk.ChannelType},
    "exports": sorted(n for n in dir(sdk) if not n.startswith("_")),
    "inputs": [n for n in init if n not in ("__self__", "resource_name", "opts", "__props__")],
    "outputs": outputs,
    "args": [n for n in inspect.signature(sdk.ChannelArgs).parameters],
    "str_enum": issubclass(sdk.ChannelType, str),
}))
"""
    done = run([sys.executable, "-c", code], site, env={"PYTHONPATH": str(site)})
    data: dict[str, Any] = json.loads(done.stdout)
    return data


# 1. What gen-sdk writes: the names the README's snippets use.


def test_the_python_sdk_is_pulumi_pingback_native_with_channel_and_channel_type(
    sdks: dict[str, Path], python_site: Path
) -> None:
    sdk = sdks["python"]
    assert re.search(
        r'^\s*name = "pulumi_pingback_native"$', (sdk / "pyproject.toml").read_text(), re.M
    )
    package = sdk / PYTHON_PACKAGE
    for name in ("__init__.py", "channel.py", "provider.py", "_enums.py", "py.typed"):
        assert (package / name).is_file(), name

    names = introspect_python_sdk(python_site)
    assert names["enum"] == {member[0]: value for value, member in ENUM.items()}
    assert names["str_enum"] is True  # ChannelType.TELEGRAM == "telegram"
    assert set(names["enum"].values()) == set(KINDS)  # every channel type, nothing more
    assert {"Channel", "ChannelArgs", "ChannelType", "Provider", "ProviderArgs", "config"} <= set(
        names["exports"]
    )
    assert names["inputs"] == ["adopt_id", "adopt_overwrite", "config", "is_active", "type"]
    assert names["args"] == ["type", "adopt_id", "adopt_overwrite", "config", "is_active"]
    assert sorted(names["outputs"]) == sorted(
        [
            "business_id",
            "config",
            "created_at",
            "identity",
            "is_active",
            "meta_callback_url",
            "meta_verify_token",
            "type",
        ]
    )
    channel = (package / "channel.py").read_text()
    assert "'pingback:index:Channel'" in channel


def test_the_nodejs_sdk_is_pulumi_pingback_slash_pingback_with_channel_and_channel_type(
    sdks: dict[str, Path],
) -> None:
    sdk = sdks["nodejs"]
    package = json.loads((sdk / "package.json").read_text())
    assert package["name"] == NODE_PACKAGE
    # the schema's version, not "${VERSION}" (respectSchemaVersion): the SDK runs as made
    assert package["version"] == __version__
    assert package["pulumi"] == {"resource": True, "name": "pingback", "version": __version__}
    # the @pulumi/pulumi the TypeScript projects here install is in the SDK's range
    wanted = package["dependencies"]["@pulumi/pulumi"]
    assert wanted.startswith("^3.") and int(wanted.split(".")[1]) <= int(PULUMI_NPM.split(".")[1])
    # the config is one typed object, its keys camelCase and described
    inputs = (sdk / "types" / "input.ts").read_text()
    assert "export interface ChannelConfigArgs {" in inputs
    assert re.search(r"^\s+botToken\?: pulumi\.Input<string", inputs, re.M), inputs
    assert re.search(r"^\s+extra\?: pulumi\.Input<\{\[key: string\]: any\}", inputs, re.M)
    assert "bot_token" not in inputs

    enums = (sdk / "types" / "enums" / "index.ts").read_text()
    members = dict(re.findall(r'^\s+(\w+): "(\w+)",$', enums, re.M))
    assert members == {member[1]: value for value, member in ENUM.items()}
    assert "export type ChannelType = (typeof ChannelType)[keyof typeof ChannelType];" in enums

    channel = (sdk / "channel.ts").read_text()
    assert "export class Channel extends pulumi.CustomResource {" in channel
    assert "public static readonly __pulumiType = 'pingback:index:Channel';" in channel
    args = channel[channel.index("export interface ChannelArgs {") :]
    assert re.findall(r"^\s+(\w+\??): pulumi.Input", args, re.M) == [
        "adoptId?",
        "adoptOverwrite?",
        "config?",
        "isActive?",
        "type",
    ]
    outputs = re.findall(r"readonly (\w+): pulumi.Output<([^>]+>?)>;", channel)
    assert dict(outputs) == {
        "businessId": "string | undefined",
        "config": "outputs.ChannelConfig",
        "createdAt": "string | undefined",
        "identity": "string | undefined",
        "isActive": "boolean",
        "metaCallbackUrl": "string | undefined",
        "metaVerifyToken": "string | undefined",
        "type": "enums.ChannelType",
    }
    index = (sdk / "index.ts").read_text()
    for export in (
        "export { ChannelArgs }",
        "export const Channel:",
        'export * from "./types/enums";',
    ):
        assert export in index, export


def test_the_go_sdk_is_imported_from_its_import_base_path_with_new_channel(
    sdks: dict[str, Path],
) -> None:
    package = sdks["go"] / "pingback"
    files = sorted(p.name for p in package.glob("*.go"))
    assert {"channel.go", "provider.go", "pulumiEnums.go", "init.go"} <= set(files)
    for file in files:
        assert "\npackage pingback\n" in (package / file).read_text(), file
    channel = (package / "channel.go").read_text()
    # The SDK imports itself by the schema's importBasePath: the path programs import.
    assert f'"{GO_IMPORT}/internal"' in channel
    assert "func NewChannel(ctx *pulumi.Context,\n\tname string, args *ChannelArgs," in channel

    enums = (package / "pulumiEnums.go").read_text()
    constants = dict(re.findall(r'^\t(\w+) += ChannelType\("(\w+)"\)$', enums, re.M))
    assert constants == {member[2]: value for value, member in ENUM.items()}

    args = channel[channel.index("type ChannelArgs struct {") :]
    args = args[: args.index("\n}\n")]
    assert re.findall(r"^\t(\w+) +(\S+)$", args, re.M) == [
        ("AdoptId", "pulumi.StringPtrInput"),
        ("AdoptOverwrite", "pulumi.BoolPtrInput"),
        ("Config", "ChannelConfigPtrInput"),
        ("IsActive", "pulumi.BoolPtrInput"),
        ("Type", "ChannelTypeInput"),
    ]
    types = (package / "pulumiTypes.go").read_text()
    assert "type ChannelConfigArgs struct {" in types
    assert 'BotToken pulumi.StringPtrInput `pulumi:"botToken"`' in types
    assert "_token" not in types
    state = channel[channel.index("type Channel struct {") :]
    state = state[: state.index("\n}\n")]
    assert dict(re.findall(r"^\t(\w+) +(\S+) `pulumi", state, re.M)) == {
        "BusinessId": "pulumi.StringPtrOutput",
        "Config": "ChannelConfigOutput",
        "CreatedAt": "pulumi.StringPtrOutput",
        "Identity": "pulumi.StringPtrOutput",
        "IsActive": "pulumi.BoolOutput",
        "MetaCallbackUrl": "pulumi.StringPtrOutput",
        "MetaVerifyToken": "pulumi.StringPtrOutput",
        "Type": "ChannelTypeOutput",
    }


# 2. The generated SDKs compile, the programs type-check and the mistakes do not: for
# TypeScript and Go in the projects `pulumi package add` links the SDK into (section 3),
# for Python here.


def test_the_python_sdk_imports_and_mypy_types_the_program(
    python_site: Path, tmp_path: Path
) -> None:
    (tmp_path / "program.py").write_text(PYTHON_PROGRAM)
    (tmp_path / "mistakes.py").write_text(PYTHON_MISTAKES)
    # The program strict; the generated code is Pulumi's (not strict-clean), read as typed.
    (tmp_path / "mypy.ini").write_text(
        f"[mypy]\nstrict = True\nmypy_path = {python_site}\n"
        f"cache_dir = {tmp_path / '.mypy_cache'}\n\n"
        f"[mypy-{PYTHON_PACKAGE}.*]\nignore_errors = True\n"
    )
    mypy = [sys.executable, "-m", "mypy", "--config-file", "mypy.ini"]
    assert "Success: no issues found" in run([*mypy, "program.py"], tmp_path, timeout=900).stdout

    refused = run([*mypy, "mistakes.py"], tmp_path, check=False, timeout=900)
    assert refused.returncode == 1
    errors = diagnostics(refused.stdout, "mistakes.py")
    assert set(errors) == marked_lines(PYTHON_MISTAKES, MISTAKE), refused.stdout
    assert '"type[ChannelType]" has no attribute "Telegram"' in errors[3]


# 3. Programs up, preview with no changes, destroy, through the plugin.


def lifecycle(st: Stack, sim: SimulatorProcess, *, functions: bool = False) -> None:
    """The program of any language: two channels up, a preview that changes nothing, the
    state holding no credential in the clear, then destroy."""
    st.init()
    st.configure({"pingback:apiUrl": sim.url}, {"pingback:token": TOKEN, **SECRETS})

    up = st.up()
    printed = squash(up.stdout)
    assert "+ pingback:index:Channel support-bot created" in printed, up.stdout
    assert "+ pingback:index:Channel support-whatsapp created" in printed, up.stdout
    assert "+ 3 created" in printed  # the stack and the two channels
    assert not [c for c in CANARIES if c in up.output]
    outputs = st.outputs()
    if functions:  # the TypeScript program reads its bot back with the functions
        (bot_id,) = [c["id"] for c in sim.state()["channels"] if c["type"] == "telegram"]
        assert outputs.pop("foundIdentity") == "telegram:bot/7123456789"
        assert outputs.pop("telegramIds") == [bot_id]
    assert outputs == {
        "identity": "telegram:bot/7123456789",
        "metaCallbackUrl": f"{sim.url}/api/v1/webhooks/whatsapp",
    }
    writes = [r for r in sim.requests() if r["method"] != "GET"]
    assert (
        sorted((r["method"], r["path"], r["status"]) for r in writes)
        == [("POST", "/api/v1/channels/", 201)] * 2
    )
    assert all(r["user_agent"] == f"pulumi-pingback/{__version__}" for r in writes)
    assert sorted((r["body"] for r in writes), key=lambda b: str(b["type"])) == [
        {"type": "telegram", "config": {"bot_token": BOT_TOKEN}, "is_active": True},
        {
            "type": "whatsapp",
            "config": {
                "phone_number_id": "109876543210",
                "access_token": SECRETS["whatsappAccessToken"],
                "verify_token": SECRETS["whatsappVerifyToken"],
            },
            "is_active": False,
        },
    ]
    channels = {c["type"]: c for c in sim.state()["channels"]}
    assert sorted(channels) == ["telegram", "whatsapp"]
    assert channels["whatsapp"]["is_active"] is False
    assert sim.state()["webhooks"] == {"7123456789": channels["telegram"]["id"]}

    # A preview of the same program changes nothing and writes nothing.
    sim.clear_log()
    preview = st.preview("--expect-no-changes")
    assert "3 unchanged" in preview.stdout
    assert [r for r in sim.requests() if r["method"] != "GET"] == []

    # The state: ids, readable identities, every credential inside a secret envelope.
    state = st.export()
    assert secrets_outside_envelopes(state, CANARIES) == []
    for backend_file in st.ws.backend.rglob("*.json"):
        text = backend_file.read_text()
        assert not [c for c in CANARIES if c in text], backend_file
    resources = {r["urn"].rsplit("::", 1)[1]: r for r in st.resources()}
    assert {name: r["outputs"]["identity"] for name, r in resources.items()} == {
        "support-bot": "telegram:bot/7123456789",
        "support-whatsapp": "whatsapp:phone/109876543210",
    }
    assert {name: r["id"] for name, r in resources.items()} == {
        "support-bot": channels["telegram"]["id"],
        "support-whatsapp": channels["whatsapp"]["id"],
    }
    for r in resources.values():
        assert r["type"] == "pingback:index:Channel"
        config = r["outputs"]["config"]  # each credential sealed alone, the number readable
        sealed = {k for k, v in config.items() if isinstance(v, dict) and "ciphertext" in v}
        assert sealed == set(config) - {"phoneNumberId"}
    assert resources["support-whatsapp"]["outputs"]["config"]["phoneNumberId"] == "109876543210"
    assert "ciphertext" in resources["support-whatsapp"]["outputs"]["metaVerifyToken"]
    assert resources["support-whatsapp"]["outputs"]["isActive"] is False
    providers = [
        r for r in state["deployment"]["resources"] if r["type"] == "pulumi:providers:pingback"
    ]
    assert len(providers) == 1
    assert providers[0]["inputs"]["apiUrl"] == sim.url

    sim.clear_log()
    done = st.destroy()
    assert "- 3 deleted" in done.stdout
    deletes = sorted((r["method"], r["path"]) for r in sim.requests() if r["method"] != "GET")
    assert deletes == sorted(("DELETE", f"/api/v1/channels/{c['id']}") for c in channels.values())
    assert sim.state()["channels"] == []
    assert st.resources() == []


def sources(sdk: Path, pattern: str) -> list[Path]:
    """An SDK's source files, leaving out what installing it added (node_modules, bin)."""
    found = (p.relative_to(sdk) for p in sdk.rglob(pattern))
    return sorted(p for p in found if not {"node_modules", "bin"} & set(p.parts))


def same_sources(generated: Path, linked: Path, pattern: str) -> None:
    """The SDK `pulumi package add` linked has the sources `gen-sdk` writes, file for
    file: what is compiled here is the SDK the names tests read."""
    written = sources(generated, pattern)
    assert written, f"no {pattern} in {generated}"
    assert sources(linked, pattern) == written
    for source in written:
        assert (linked / source).read_text() == (generated / source).read_text(), source


def test_a_typescript_program_with_the_sdk_package_add_links_goes_up_and_down(
    ws: Workspace,
    sim: SimulatorProcess,
    native_plugin: Path,
    sdks: dict[str, Path],
    tmp_path: Path,
) -> None:
    project = nodejs_project(tmp_path / "ts", TYPESCRIPT_PROGRAM, name="pingback-ts")
    added = ws.run("package", "add", str(native_plugin), cwd=project, timeout=900)
    assert f'import * as pingback from "{NODE_PACKAGE}";' in added.stdout
    assert yaml.safe_load((project / "Pulumi.yaml").read_text())["packages"] == {
        "pingback": str(native_plugin)
    }
    manifest = json.loads((project / "package.json").read_text())
    assert manifest["dependencies"][NODE_PACKAGE] == "file:sdks/pingback"
    # Linked through sdk/v3's npm package, as Pulumi's Node.js host links: the local SDK
    # may run its install scripts (its build), which npm 12 skips unless allowed.
    assert manifest["allowScripts"] == {"file:sdks/pingback": True}
    sdk = project / "sdks" / "pingback"
    linked = json.loads((sdk / "package.json").read_text())
    assert linked["name"] == NODE_PACKAGE and linked["version"] == __version__
    same_sources(sdks["nodejs"], sdk, "*.ts")

    # The SDK compiles with tsc and its own tsconfig (strict, declarations): npm ran its
    # postinstall, `tsc` in the SDK, during `package add`'s install, which fails (and the
    # command with it) when tsc reports an error.
    assert linked["scripts"]["postinstall"] == "node ./scripts/postinstall.js"
    postinstall = (sdk / "scripts" / "postinstall.js").read_text()
    assert 'execSync("tsc"+typesFlag' in postinstall and "process.exit(1);" in postinstall
    tsconfig = (sdk / "tsconfig.json").read_text()
    assert tsconfig == (sdks["nodejs"] / "tsconfig.json").read_text()
    assert '"strict": true' in tsconfig and '"declaration": true' in tsconfig
    # ... compiled where node finds it
    built = project / "node_modules" / NODE_PACKAGE / "bin"
    for name in ("index.js", "index.d.ts", "channel.js", "channel.d.ts", "types/enums/index.js"):
        assert (built / name).is_file(), name

    tsc(project, "--noEmit")  # the program, strict, with Pulumi's template tsconfig
    # The usual mistakes, against the same installed SDK and options, are each reported.
    check = project / "mistakes"
    check.mkdir()
    (check / "mistakes.ts").write_text(TYPESCRIPT_MISTAKES)
    options = {**TSCONFIG_OPTIONS, "noEmit": True}
    write_json(check / "tsconfig.json", {"compilerOptions": options, "files": ["mistakes.ts"]})
    refused = tsc(project, "-p", "mistakes", check=False)
    assert refused.returncode != 0
    errors = diagnostics(refused.stdout, "mistakes.ts")
    assert set(errors) == marked_lines(TYPESCRIPT_MISTAKES, MISTAKE), refused.stdout
    assert "Property 'TELEGRAM' does not exist" in errors[3]
    assert "'is_active' does not exist in type 'ChannelArgs'" in errors[5]
    shutil.rmtree(check)

    lifecycle(Stack(ws, project, "dev"), sim, functions=True)


def test_a_go_program_with_the_sdk_package_add_links_goes_up_and_down(
    ws: Workspace,
    sim: SimulatorProcess,
    native_plugin: Path,
    sdks: dict[str, Path],
    tmp_path: Path,
) -> None:
    project = go_project(tmp_path / "go", GO_PROGRAM, name="pingback-go")
    added = ws.run("package", "add", str(native_plugin), cwd=project, timeout=900)
    assert f'  import (\n    "{GO_IMPORT}"\n  )' in added.stdout  # as Pulumi's Go host says it
    assert yaml.safe_load((project / "Pulumi.yaml").read_text())["packages"] == {
        "pingback": str(native_plugin)
    }
    gomod = run(["go", "mod", "edit", "-json"], project)
    module = json.loads(gomod.stdout)
    # Link writes only the replace, as Pulumi's Go host does; `go mod tidy` (the
    # InstallDependencies that follows) writes the require a replaced module gets.
    assert module["Replace"] == [{"Old": {"Path": GO_MODULE}, "New": {"Path": "./sdks/pingback"}}]
    assert {"Path": GO_MODULE, "Version": "v0.0.0-00010101000000-000000000000"} in module["Require"]
    sdk = project / "sdks" / "pingback"
    assert (sdk / "go.mod").read_text().startswith(f"module {GO_MODULE}\n")
    same_sources(sdks["go"], sdk, "*.go")
    # `package add` left a module that builds: the host tidied it (go.sum has the SDK's needs)
    assert (project / "go.sum").is_file()
    # vet type-checks the program and the SDK's packages; the program is built by `up`
    run(["go", "vet", "./...", f"{GO_MODULE}/..."], project, timeout=900)
    assert run(["gofmt", "-l", "."], sdk).stdout == ""  # the generated code is gofmt'd

    # The usual mistakes: the compiler, not vet (vet stops at the first type error, the
    # compiler lists them all), in a package of the same module.
    mistakes = project / "mistakes"
    mistakes.mkdir()
    (mistakes / "main.go").write_text(GO_MISTAKES)
    refused = run(
        ["go", "build", "-o", tmp_path / "mistakes.bin", "./mistakes"], project, check=False
    )
    assert refused.returncode != 0
    errors = diagnostics(refused.stderr, "main.go")
    assert set(errors) == marked_lines(GO_MISTAKES, MISTAKE), refused.stderr
    assert "undefined: pingback.ChannelTypeTELEGRAM" in errors[11]
    shutil.rmtree(mistakes)

    lifecycle(Stack(ws, project, "dev"), sim)


def test_a_python_program_with_the_generated_sdk_goes_up_and_down(
    ws: Workspace, sim: SimulatorProcess, native_plugin: Path, python_site: Path, tmp_path: Path
) -> None:
    # `pulumi package add` would pip-install the SDK into the project's virtualenv, here
    # the test virtualenv: the SDK is read from its own directory instead.
    project = python_project(tmp_path / "py", PYTHON_PROGRAM, name="pingback-py")
    with (project / "Pulumi.yaml").open("a") as f:
        f.write(f"packages:\n  pingback: {native_plugin}\n")
    ws.env["PYTHONPATH"] = str(python_site)

    lifecycle(Stack(ws, project, "dev"), sim)


def test_the_native_guide_names_the_generated_packages() -> None:
    """The native provider's guide (docs/native.md) imports what the SDKs are: checked
    here so that a rename in the schema (or a snippet edited by hand) fails."""
    guide = (Path(__file__).resolve().parents[2] / "docs" / "native.md").read_text()
    section = guide[: guide.index("\n## Import")]
    assert f'from "{NODE_PACKAGE}"' in section
    assert f"import {PYTHON_PACKAGE} as pingback" in section
    assert "pingback.ChannelType.Telegram" in section  # TypeScript
    assert "pingback.ChannelTypeTelegram" in section  # Go
    assert "pingback.ChannelType.TELEGRAM" in section  # Python
