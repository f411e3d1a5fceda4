"""The native provider's package schema: one table of properties, everything derived.

:data:`CHANNEL_PROPERTIES` and :data:`PROVIDER_PROPERTIES` name each property twice —
as the schema (and so every language's SDK and the wire) writes it, and as this
package's core (:mod:`.._operations`) does — with its type, description and whether it is
secret. :func:`package_schema` builds the schema ``GetSchema`` serves; :mod:`..native._server`
translates names with the same rows. Descriptions of config keys come from the table of
channel kinds (:mod:`._kinds`), so a new channel type is described once.

Pure and light: no pulumi import, so tests and ``pingback`` can read it cheaply.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .._settings import TABLE as SETTINGS_TABLE
from .._version import __version__
from ._kinds import KINDS

__all__ = [
    "CHANNEL_PROPERTIES",
    "CHANNEL_TOKEN",
    "PACKAGE",
    "PROVIDER_PROPERTIES",
    "Property",
    "config_types",
    "package_schema",
    "schema_json",
]

PACKAGE = "pingback"
CHANNEL_TOKEN = f"{PACKAGE}:index:Channel"
CHANNEL_TYPE_TOKEN = f"{PACKAGE}:index:ChannelType"
REPOSITORY = "https://github.com/pulumi-pingback/pulumi-pingback"


@dataclass(frozen=True)
class Property:
    """One property: its schema (wire) name, its core (Python) name, its schema type."""

    name: str
    core: str
    spec: dict[str, Any]
    description: str
    input: bool = True
    output: bool = True
    required_input: bool = False
    required_output: bool = False
    secret: bool = False
    env: str | None = None  # provider settings: the environment variable fallback
    input_spec: dict[str, Any] | None = None  # as an input, when it differs from the output
    printable: bool = False
    """Never holds a credential: a check failure may name it (the CLI prints its value)."""
    read_back: bool = False
    """A refresh or an import writes it back among the inputs (what a program declares)."""
    refresh_mark: bool = False
    """PingBack gives it to every channel and no program declares it: a Read carrying it is
    a refresh of what a create wrote (not a lookup)."""

    def schema(self, *, as_input: bool = False) -> dict[str, Any]:
        spec: dict[str, Any] = {
            **(self.input_spec if as_input and self.input_spec else self.spec),
            "description": self.description,
        }
        if self.secret:
            spec["secret"] = True
        if self.env:
            spec["defaultInfo"] = {"environment": [self.env]}
        return spec


def _config_token(name: str) -> str:
    return f"{PACKAGE}:index:{name}"


def config_types() -> dict[str, dict[str, Any]]:
    """One object type per documented channel type (``TelegramConfig``…), from its row:
    its keys, described, each credential secret, so that every generated SDK types and
    documents the config of the type it declares."""
    types: dict[str, dict[str, Any]] = {}
    for kind in KINDS.values():
        if not kind.config_name:
            continue
        more = " More keys may be given as a plain map." if kind.free_keys else ""
        types[_config_token(kind.config_name)] = {
            "description": f"The config of {kind.type} channels: {kind.summary}{more}",
            "type": "object",
            "properties": {
                key: {
                    "type": "string",
                    "description": kind.key_docs[key]
                    + (
                        " A credential: stored and shown as a secret."
                        if kind.credential(key)
                        else ""
                    ),
                    **({"secret": True} if kind.credential(key) else {}),
                }
                for key in kind.keys
            },
            "required": list(kind.keys),
        }
    return types


def _config_input() -> dict[str, Any]:
    """``config`` as an input: one of the typed configs, or a plain map (the undocumented
    types, a widget's extra keys). Not secret as a whole: each credential is, and readable
    keys (``phone_number_id``) stay readable in every language's previews."""
    return {
        "oneOf": [{"$ref": f"#/types/{token}"} for token in config_types()]
        + [{"type": "object", "additionalProperties": {"$ref": "pulumi.json#/Any"}}]
    }


def _config_description() -> str:
    lines = [
        "The channel's settings, as PingBack's API takes them: the typed config of its "
        "type, or a map. Each credential is kept secret in the state, input and output "
        "alike, whatever the program gives; the other documented keys stay readable, and "
        "the config of a type that documents none is secret as a whole. The keys each "
        "type takes:",
        "",
    ]
    for kind in KINDS.values():
        if kind.keys:
            keys = ", ".join(
                f"`{k}`{' (credential)' if k in kind.credentials else ''}" for k in kind.keys
            )
            more = "; more keys allowed" if kind.free_keys else ""
            lines.append(f"- `{kind.type}`: {keys}{more}.")
        else:
            lines.append(f"- `{kind.type}`: any keys (PingBack does not document them).")
    lines += [
        "",
        "Keys starting with `_` are PingBack's own (it adds `_meta_setup_instructions`) "
        "and cannot be set.",
    ]
    return "\n".join(lines)


CHANNEL_PROPERTIES: tuple[Property, ...] = (
    Property(
        "type",
        "type",
        {"$ref": f"#/types/{CHANNEL_TYPE_TOKEN}"},
        "The channel type. Changing it replaces the channel.",
        required_input=True,
        required_output=True,
        printable=True,
        read_back=True,
    ),
    Property(
        "config",
        "config",
        {"type": "object", "additionalProperties": {"$ref": "pulumi.json#/Any"}},
        _config_description(),
        required_output=True,
        input_spec=_config_input(),
        read_back=True,
    ),
    Property(
        "isActive",
        "is_active",
        {"type": "boolean", "default": True},
        "Whether PingBack delivers the channel's messages (default true); changed in place.",
        required_output=True,
        printable=True,
        read_back=True,
    ),
    Property(
        "adoptId",
        "adopt_id",
        {"type": "string"},
        "The id of a channel that already exists in PingBack, for the resource to manage it "
        "instead of creating one. It must hold the declared type and config (else the "
        "adoption is refused, naming the keys that differ), unless `adoptOverwrite` is set. "
        "`pulumi import` does the same without this input, and shows the difference.",
        output=False,
        printable=True,
    ),
    Property(
        "adoptOverwrite",
        "adopt_overwrite",
        {"type": "boolean", "default": False},
        "With `adoptId`: replace a config (or `isActive`) PingBack holds that differs from "
        "the declared one, instead of refusing the adoption.",
        output=False,
        printable=True,
    ),
    Property(
        "identity",
        "identity",
        {"type": "string"},
        "What the channel is bound to: `telegram:bot/<bot id>`, "
        "`whatsapp:phone/<phone_number_id>`, `instagram:phone/<phone_number_id>` or "
        "`x:account/<account id>`. A change of identity replaces the channel; rotating a "
        "credential of the same identity updates it in place.",
        input=False,
        read_back=True,
    ),
    Property(
        "businessId",
        "business_id",
        {"type": "string"},
        "The PingBack business that owns the channel.",
        input=False,
        refresh_mark=True,
    ),
    Property(
        "createdAt",
        "created_at",
        {"type": "string"},
        "When PingBack created the channel (ISO 8601).",
        input=False,
        refresh_mark=True,
    ),
    Property(
        "metaCallbackUrl",
        "meta_callback_url",
        {"type": "string"},
        "WhatsApp and Instagram: the callback URL to enter in Meta's developer console.",
        input=False,
    ),
    Property(
        "metaVerifyToken",
        "meta_verify_token",
        {"type": "string"},
        "WhatsApp and Instagram: the verify token to enter in Meta's developer console.",
        input=False,
        secret=True,
    ),
)

OPTION_KEYS: tuple[str, ...] = ("replace_on_changes", "ignore_changes")
"""Resource options the dynamic ``PingBackChannel`` passes among its inputs (the dynamic
provider sees no options of its own); never credentials, so a check failure may name them.
Not in the schema: the native provider gets options from the engine."""

# ---- derived from the table: what every other module uses ---------------------------------

INPUTS: tuple[str, ...] = tuple(p.core for p in CHANNEL_PROPERTIES if p.input)
"""What a program declares (core names), in order."""
COMPUTED: tuple[str, ...] = tuple(p.core for p in CHANNEL_PROPERTIES if not p.input)
"""What only PingBack says (outputs a program does not declare)."""
SECRET_OUTPUTS: tuple[str, ...] = tuple(p.core for p in CHANNEL_PROPERTIES if p.output and p.secret)
"""Outputs secret as a whole whatever the program declared (the Meta verify token); the
credentials of ``config`` are secret key by key (:func:`._results.secret_paths`)."""
READ_BACK: tuple[str, ...] = tuple(p.core for p in CHANNEL_PROPERTIES if p.read_back)
REFRESH_MARKS: tuple[str, ...] = tuple(p.core for p in CHANNEL_PROPERTIES if p.refresh_mark)
PRINTABLE: tuple[str, ...] = tuple(p.core for p in CHANNEL_PROPERTIES if p.printable)
WIRE_NAMES: dict[str, str] = {p.core: p.name for p in CHANNEL_PROPERTIES}
"""core name -> the schema's (wire) name."""

PROVIDER_PROPERTIES: tuple[Property, ...] = tuple(
    Property(s.name, s.key, s.spec, s.description, output=False, secret=s.secret, env=s.env)
    for s in SETTINGS_TABLE
)
"""The provider's settings as the schema's config (one row each in :data:`.._settings.TABLE`)."""


def _resource(props: tuple[Property, ...], description: str) -> dict[str, Any]:
    return {
        "description": description,
        "properties": {p.name: p.schema() for p in props if p.output},
        "required": [p.name for p in props if p.required_output],
        "inputProperties": {p.name: p.schema(as_input=True) for p in props if p.input},
        "requiredInputs": [p.name for p in props if p.required_input],
    }


def package_schema() -> dict[str, Any]:
    """The package schema (Pulumi's package metaschema)."""
    settings = {p.name: p.schema() for p in PROVIDER_PROPERTIES}
    return {
        "name": PACKAGE,
        "displayName": "PingBack",
        "version": __version__,
        "description": "PingBack messaging channels (Telegram bots, WhatsApp numbers, X "
        "accounts, web widgets…) as code.",
        "keywords": ["pulumi", "pingback", "messaging", "category/utility", "kind/native"],
        "homepage": REPOSITORY,
        "repository": REPOSITORY,
        "license": "Apache-2.0",
        "publisher": "pulumi-pingback",
        "meta": {"moduleFormat": "(.*)"},
        "config": {"variables": settings},
        "provider": {
            "description": "The PingBack provider: one business, one API token. Settings "
            "not given fall back to the PINGBACK_* environment variables.",
            "inputProperties": settings,
        },
        "resources": {
            CHANNEL_TOKEN: _resource(
                CHANNEL_PROPERTIES,
                "A PingBack messaging channel: a Telegram bot, a WhatsApp or Instagram number, "
                "an X account, the web widget, web chat, email or SMS.\n\n"
                "Replaced when its type or identity changes (another bot, number or "
                "account); updated in place otherwise, credential rotation included. "
                "Import an existing channel with `pulumi import pingback:index:Channel "
                "<name> <channel id>`.",
            )
        },
        "types": {
            **config_types(),
            CHANNEL_TYPE_TOKEN: {
                "description": "A PingBack channel type.",
                "type": "string",
                "enum": [
                    {
                        "name": "X" if kind.type == "x" else kind.type.capitalize(),
                        "value": kind.type,
                        "description": kind.summary,
                    }
                    for kind in KINDS.values()
                ],
            },
        },
        # respectSchemaVersion: an SDK from `pulumi package gen-sdk` carries this version
        # (without it, its package.json says "${VERSION}" and the engine refuses it).
        "language": {
            "python": {
                "packageName": "pulumi_pingback_native",
                "pyproject": {"enabled": True},
                "respectSchemaVersion": True,
            },
            "nodejs": {"packageName": "@pulumi-pingback/pingback", "respectSchemaVersion": True},
            "go": {
                "importBasePath": "github.com/pulumi-pingback/pulumi-pingback/sdk/go/pingback",
                "generateResourceContainerTypes": True,
                "respectSchemaVersion": True,
            },
            "csharp": {"rootNamespace": "PulumiPingback"},
        },
    }


def schema_json() -> str:
    return json.dumps(package_schema(), indent=2, sort_keys=False)
