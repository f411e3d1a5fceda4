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
    "CONFIG_KEYS",
    "CONFIG_KEYS_TO_CORE",
    "EXTRA",
    "FUNCTIONS",
    "PACKAGE",
    "PROVIDER_PROPERTIES",
    "Property",
    "config_key_name",
    "config_type",
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


CONFIG_TYPE_TOKEN = f"{PACKAGE}:index:ChannelConfig"
EXTRA = "extra"
"""The schema's ``config.extra``: the keys PingBack does not document, as given."""


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


CONFIG_KEYS: dict[str, str] = {key: _camel(key) for kind in KINDS.values() for key in kind.keys}
"""Each config key PingBack documents (the core's and PingBack's name) -> the schema's."""
CONFIG_KEYS_TO_CORE: dict[str, str] = {wire: core for core, wire in CONFIG_KEYS.items()}


def config_key_name(channel_type: object, key: str) -> str:
    """How the schema (every language's SDK, the native wire) names a key of a channel's
    config: camelCase for a key the channel's type documents (of any type, when the type
    is not known), ``extra.<key>`` for any other: a key PingBack does not document, or one
    it holds that the type does not take (added in the dashboard)."""
    kind = KINDS.get(channel_type) if isinstance(channel_type, str) else None
    documented = kind.keys if kind is not None else tuple(CONFIG_KEYS)
    return CONFIG_KEYS[key] if key in documented else f"{EXTRA}.{key}"


def config_type() -> dict[str, Any]:
    """``ChannelConfig``: every key PingBack documents, typed, optional, described with the
    types that take it, each credential secret; and ``extra``, the map for the keys it
    does not document (email, SMS, web chat; a widget's more keys), secret. One type, so
    that every generated SDK rejects a misspelt key at compile time."""
    properties: dict[str, Any] = {}
    for core, wire in CONFIG_KEYS.items():
        kinds = [k for k in KINDS.values() if core in k.keys]
        docs: dict[str, list[str]] = {}
        for kind in kinds:
            docs.setdefault(kind.key_docs[core], []).append(kind.type)
        text = " ".join(
            f"{', '.join(f'`{t}`' for t in types)}: {doc}" for doc, types in docs.items()
        )
        secret = any(k.credential(core) for k in kinds)
        properties[wire] = {
            "type": "string",
            "description": text
            + (" A credential: stored and shown as a secret." if secret else ""),
            **({"secret": True} if secret else {}),
        }
    properties[EXTRA] = {
        "type": "object",
        "additionalProperties": {"$ref": "pulumi.json#/Any"},
        "description": "Keys PingBack does not document, passed as given: the config of "
        "`email`, `sms` and `webchat` channels, a widget's more keys. Secret: any of them "
        "may hold a credential.",
        "secret": True,
    }
    return {
        "description": "A channel's settings. Each type takes its own keys, all required: "
        + "; ".join(
            f"`{kind.type}`: "
            + (
                ", ".join(f"`{CONFIG_KEYS[k]}`" for k in kind.keys)
                + (", and any in `extra`" if kind.free_keys else "")
                if kind.keys
                else "any keys, in `extra`"
            )
            for kind in KINDS.values()
        )
        + ".",
        "type": "object",
        "properties": properties,
    }


def _config_description() -> str:
    return (
        "The channel's settings: the keys of its type (see `ChannelConfig`). Each "
        "credential is kept secret in the state, input and output alike, whatever the "
        "program gives; the other documented keys stay readable, and the config of a type "
        "that documents none is secret as a whole. PingBack's own keys (it adds "
        "`_meta_setup_instructions`) cannot be set."
    )


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
        {"$ref": f"#/types/{CONFIG_TYPE_TOKEN}"},
        _config_description(),
        required_output=True,
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

TIME_LIMITS = "custom_timeouts"
"""The ``customTimeouts`` the dynamic ``PingBackChannel`` passes among its inputs (the
dynamic provider is not given the engine's ``timeout``): ``{"create": "10s", …}``, kept
among the outputs too, for the delete. Not in the schema: the native provider gets the
engine's."""
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


CHANNEL_INFO_TOKEN = f"{PACKAGE}:index:ChannelInfo"
FUNCTIONS: dict[str, str] = {
    f"{PACKAGE}:index:getChannels": "get_channels",
    f"{PACKAGE}:index:getChannel": "get_channel",
}
"""The functions' tokens -> their core names (:data:`._check.LOOKUPS`)."""


def _channel_info() -> dict[str, Any]:
    """A channel as the functions return it (:func:`._results.channel_info`)."""
    return {
        "description": "A channel of the business, as `getChannels` and `getChannel` read "
        "it: never a credential, so nothing in it is secret.",
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "The channel's id."},
            "type": {"$ref": f"#/types/{CHANNEL_TYPE_TOKEN}", "description": "Its type."},
            "identity": {
                "type": "string",
                "description": "What it is bound to (`telegram:bot/<bot id>`…), when its "
                "type has one.",
            },
            "isActive": {"type": "boolean", "description": "Whether PingBack delivers it."},
            "createdAt": {"type": "string", "description": "When PingBack made it (ISO 8601)."},
            "config": {
                "$ref": f"#/types/{CONFIG_TYPE_TOKEN}",
                "description": "The keys of its config that hold no credential and that its "
                "type documents (`phoneNumberId`, `widgetId`); never a credential, nor a key "
                "PingBack does not document.",
            },
        },
        "required": ["id", "type", "isActive", "config"],
    }


def _functions() -> dict[str, Any]:
    info = _channel_info()
    return {
        f"{PACKAGE}:index:getChannels": {
            "description": "Every channel of the business, or of one type, oldest first — "
            "those no stack manages too (the widget channel PingBack makes with a widget). "
            "Read at every preview and update; never a credential.",
            "inputs": {
                "properties": {
                    "type": {
                        "$ref": f"#/types/{CHANNEL_TYPE_TOKEN}",
                        "description": "Only the channels of this type.",
                    }
                }
            },
            "outputs": {
                "properties": {
                    "channels": {
                        "type": "array",
                        "items": {"$ref": f"#/types/{CHANNEL_INFO_TOKEN}"},
                        "description": "The channels, oldest first.",
                    }
                },
                "required": ["channels"],
            },
        },
        f"{PACKAGE}:index:getChannel": {
            "description": "One channel of the business, by its id or by what it is bound to "
            "(`identity`, e.g. `telegram:bot/7123456789`): an error when there is none (or, "
            "for an identity, several). Never a credential.",
            "inputs": {
                "properties": {
                    "id": {"type": "string", "description": "The channel's id."},
                    "identity": {
                        "type": "string",
                        "description": "What the channel is bound to: `telegram:bot/<bot id>`, "
                        "`whatsapp:phone/<phone number id>`, `instagram:phone/<phone number "
                        "id>` or `x:account/<account id>`.",
                    },
                }
            },
            "outputs": {"properties": info["properties"], "required": info["required"]},
        },
    }


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
        "functions": _functions(),
        "types": {
            CONFIG_TYPE_TOKEN: config_type(),
            CHANNEL_INFO_TOKEN: _channel_info(),
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
