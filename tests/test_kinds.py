"""One row per channel type: everything typed and derived agrees with the rows."""

from __future__ import annotations

import dataclasses
import inspect
import re
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

import pulumi_pingback
from pulumi_pingback import (
    ChannelConfig,
    ChannelType,
    ChannelTypeName,
    PingBackChannel,
    PingBackChannelProvider,
)
from pulumi_pingback.channels._configs import CONFIG_CLASSES, _Fields, _Open
from pulumi_pingback.channels._kinds import KINDS, channel_identity
from pulumi_pingback.dynamic._provider import seal_config

ROOT = Path(__file__).resolve().parent.parent
TYPING = Path(__file__).resolve().parent / "typing"


def test_every_type_is_one_row_and_one_name_everywhere() -> None:
    names = set(KINDS)
    assert names == {t.value for t in ChannelType}
    assert names == set(typing.get_args(ChannelTypeName))
    assert names == set(CONFIG_CLASSES)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_the_typed_config_class_matches_its_row(name: str) -> None:
    kind, cls = KINDS[name], CONFIG_CLASSES[name]
    assert kind.config_name in ("", cls.__name__)  # the native schema's object type too
    assert set(kind.key_docs) == set(kind.keys)  # every documented key described
    assert bool(kind.config_name) == bool(kind.keys)
    if kind.free_keys:
        assert issubclass(cls, _Open)
        required = [
            p.name
            for p in inspect.signature(cls).parameters.values()
            if p.kind is p.KEYWORD_ONLY and p.default is p.empty
        ]
        assert required == list(kind.keys)
        assert cls.__doc__ and name in cls.__doc__
        return
    assert issubclass(cls, _Fields)
    assert [f.name for f in dataclasses.fields(cls)] == list(kind.keys)  # type: ignore[arg-type]
    typed_dict = getattr(pulumi_pingback, cls.__name__ + "Dict")
    assert list(typed_dict.__annotations__) == list(kind.keys)
    assert typed_dict.__required_keys__ == frozenset(kind.keys)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="typing.get_overloads is 3.11+")
def test_each_overload_pairs_a_type_with_its_config() -> None:
    overloads: list[Any] = []
    if sys.version_info >= (3, 11):
        overloads = list(typing.get_overloads(PingBackChannel.__init__))
    pairs: dict[str, set[str]] = {}
    for overload in overloads:
        type_hint, config_hint = (overload.__annotations__[k] for k in ("type", "config"))
        literal = re.findall(r"'(\w+)'", type_hint)  # Literal['telegram', ChannelType.TELEGRAM]
        if not literal:
            continue  # the Output[str] overload
        (name,) = literal
        assert f"ChannelType.{name.upper()}" in type_hint
        pairs[name] = set(re.findall(r"\b(\w+Config)\b", config_hint))
    assert pairs == {name: {cls.__name__} for name, cls in CONFIG_CLASSES.items()}


@pytest.mark.parametrize(
    ("name", "config", "identity"),
    [
        ("telegram", {"bot_token": "7123456789:AAH-x"}, "telegram:bot/7123456789"),
        ("telegram", {"bot_token": "garbage"}, None),
        ("whatsapp", {"phone_number_id": "1098"}, "whatsapp:phone/1098"),
        ("instagram", {"phone_number_id": "55"}, "instagram:phone/55"),
        ("x", {"access_token": "42-abc"}, "x:account/42"),
        ("x", {"access_token": "opaque"}, None),
        ("widget", {"widget_id": "w"}, None),
        ("sms", {}, None),
    ],
)
def test_identity_comes_from_the_row(
    name: str, config: dict[str, str], identity: str | None
) -> None:
    assert channel_identity(name, config) == identity


@pytest.mark.parametrize("name", sorted(KINDS))
def test_sealing_follows_the_row(name: str) -> None:
    kind = KINDS[name]
    config = {key: f"value-of-{key}" for key in kind.keys} | (
        {"extra": "x"} if kind.free_keys else {}
    )
    sealed = seal_config(name, config)
    if not kind.keys:  # a type that documents no key: its whole config
        assert set(sealed) == {"4dabf18193072939515e22adb298388d", "value"}
        assert seal_config(name, {}) == {}  # nothing to hide: no ciphertext
        return
    for key in config:  # each credential, and each key the row does not document
        assert (sealed[key] == config[key]) is (key in kind.keys and key not in kind.credentials)


_NO_MATCH = 'No overload variant of "PingBackChannel" matches argument types "str", '
_NO_FIT = 'Cannot infer value of type parameter "TypeMatchingConfig" of "PingBackChannel"'
MYPY_SAYS = {
    # A typed config with a type it is not for (misspelt, another type's, a str or a union
    # of literals) fits no overload, and mypy reports the first one its arguments match
    # once literals and type variables are erased: the first overload alone (any str type),
    # whose type variable no type fits (#29: one line, where it listed the ten overloads).
    "the type": _NO_FIT,
    "x's config": _NO_FIT,
    "telegram's config": _NO_FIT,
    "whatsapp's config": _NO_FIT,
    "a str type, TelegramConfig": _NO_FIT,
    "kind may be another type": _NO_FIT,
    # A literal written in the call ("telegram", a dict literal) is erased to str or dict,
    # like no Literal or TypedDict parameter: no overload is picked, mypy names no value
    # and lists the overloads.
    "a key": _NO_MATCH + '"str", "dict[str, Output[str]]"',
    "missing": _NO_MATCH + '"str", "dict[str, str]"',
    "no config": _NO_MATCH + '"str"  [call-overload]',
    "not a bool": _NO_MATCH + '"str", "str"  [call-overload]',
    "a key (enum)": _NO_MATCH + '"ChannelType", "dict[str, Output[str]]"',
    "a dict variable": _NO_MATCH + '"str", "dict[str, Output[str]]"',
    "a str type, a dict": _NO_MATCH + '"str", "dict[str, Output[str]]"',
    "an unknown field": 'Unexpected keyword argument "bot_tokn" for "TelegramConfig"; '
    'did you mean "bot_token"?',
    "positional": 'Too many positional arguments for "TelegramConfig"',
}
"""What mypy says on each ``# mistake: <what>`` line of tests/typing/mistakes.py."""

ONE_LINE = {what for what, said in MYPY_SAYS.items() if said == _NO_FIT}
"""The mistakes mypy reports in one line: the error, no note (no list of overloads)."""


def test_the_typed_api_catches_mistakes_before_preview() -> None:
    """mypy --strict over a file of deliberate mistakes: each one reported, on its line,
    in the words of MYPY_SAYS (in one line for ONE_LINE); and a file of correct uses
    (ordinary code whose type or config is known only at run time included): nothing
    reported."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--hide-error-context",
            str(TYPING / "mistakes.py"),
            str(TYPING / "correct.py"),
            str(ROOT / "examples" / "adopt-existing" / "__main__.py"),  # made by `pingback export`
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    errors: dict[int, list[str]] = {}
    printed: dict[int, int] = {}  # lines mypy prints about each line, notes included
    for line in out.stdout.splitlines():
        if line.startswith(str(Path("tests/typing/mistakes.py"))):
            number = int(line.split(":")[1])
            printed[number] = printed.get(number, 0) + 1
            if ": error: " in line:
                errors.setdefault(number, []).append(line.split(": error: ", 1)[1])
    mistakes = {
        number: line.split("# mistake: ", 1)[1]
        for number, line in enumerate((TYPING / "mistakes.py").read_text().splitlines(), 1)
        if "# mistake: " in line
    }
    assert sorted(mistakes.values()) == sorted(MYPY_SAYS), "one MYPY_SAYS entry per mistake"
    for number, what in mistakes.items():
        said = errors.get(number, [])
        assert any(MYPY_SAYS[what] in error for error in said), (what, said, out.stdout)
        if what in ONE_LINE:
            assert printed[number] == 1, (what, out.stdout)
    assert set(errors) <= set(mistakes), out.stdout  # nothing reported elsewhere
    assert "correct.py" not in out.stdout and "adopt-existing" not in out.stdout, out.stdout


@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_typed_config_is_tagged_with_its_type(name: str) -> None:
    """What keeps a TelegramConfig from passing with another type, or a ``str`` one (the
    first overload's ``ConfigFor[TypeMatchingConfig]``), is its own ``_for_channel_type``
    (typing only), narrowed to its type's literal."""
    source = inspect.getsource(CONFIG_CLASSES[name])
    assert f'def _for_channel_type(self, channel_type: Literal["{name}"], /)' in source
    assert issubclass(CONFIG_CLASSES[name], ChannelConfig)


registered: list[pulumi.runtime.MockResourceArgs] = []


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        registered.append(args)
        return f"{args.name}-id", {k: v for k, v in args.inputs.items() if k != "__provider"}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        return {}, []


@pytest.fixture
def mocks() -> None:
    registered.clear()
    pulumi.runtime.set_mocks(_Mocks(), preview=False)


def _stack_config(value: str) -> str:
    """A type as ``pulumi.Config().require("type")`` gives it: a ``str``."""
    return value


@pulumi.runtime.test
def test_channel_config_of_a_dict_reaches_the_provider_as_that_dict(mocks: None) -> Any:
    """#29: a dict with a type from stack config, as mypy takes it (``ChannelConfig({...})``,
    or its keywords): the provider is given the dict itself, a credential sealed as in any
    config, and checks it as any dict."""
    bot = PingBackChannel(
        "bot", type=_stack_config("telegram"), config=ChannelConfig({"bot_token": "1:abc"})
    )
    widget = PingBackChannel(
        "w", type=_stack_config("widget"), config=ChannelConfig(widget_id="w1")
    )

    def check(_: Any) -> None:
        sent = {args.name: args.inputs for args in registered}
        assert sent["w"]["type"] == "widget" and sent["w"]["config"] == {"widget_id": "w1"}
        assert rpc.is_rpc_secret(sent["bot"]["config"])
        assert rpc.unwrap_rpc_secret(sent["bot"]["config"]) == {"bot_token": "1:abc"}

    return pulumi.Output.all(bot.id, widget.id).apply(check)


def test_channel_config_of_a_dict_is_checked_at_preview_and_shows_no_value() -> None:
    misspelt = ChannelConfig({"bot_tokn": "1:abc"})
    assert repr(misspelt) == "ChannelConfig(keys=['bot_tokn'])"  # values may be credentials
    assert ChannelConfig({"a": "1"}, b="2").to_dict() == {"a": "1", "b": "2"}
    news = {"type": "telegram", "config": misspelt.to_dict(), "is_active": True}
    failures = PingBackChannelProvider().check({}, news).failures or []
    assert [f.property for f in failures] == ["config.bot_tokn", "config.bot_token"]
    assert "did you mean 'bot_token'?" in failures[0].reason
