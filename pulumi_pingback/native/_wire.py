"""The native provider's wire: ``PropertyValue`` <-> the core's plain values with their
secret paths, schema names <-> the core's (the properties, and each config key: the
schema's ``config.botToken`` is PingBack's ``bot_token``, ``config.extra.<key>`` its
``<key>``), and the policy's per-path diff as a detailed diff. Pure translation, no I/O
(:mod:`._server` serves it).

A state written by 0.3.0 holds config keys in PingBack's names (``bot_token``, a
widget's more keys beside ``widget_id``): read as they are, they make the same core
values, so an upgraded stack diffs clean. A program's inputs in that shape are refused
at Check, naming the key to write."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.provider.experimental.provider import PropertyDiff, PropertyDiffKind

from .._exceptions import ChannelValidationError
from ..channels._check import safe_key
from ..channels._diff import DiffDecision, path_segments, path_string
from ..channels._schema import (
    CHANNEL_PROPERTIES,
    CONFIG_KEYS,
    CONFIG_KEYS_TO_CORE,
    EXTRA,
    WIRE_NAMES,
    config_key_name,
)
from ..channels._unknowns import UNKNOWN, is_unknown

__all__ = [
    "TO_CORE",
    "TO_WIRE",
    "config_key_name",
    "core_path",
    "detailed_diff",
    "unwire",
    "wire",
    "wire_value",
]

Path_ = tuple[str, ...]

# Wire (schema) names <-> the core's (Python) names, from the schema's one table.
TO_CORE = {p.name: p.core for p in CHANNEL_PROPERTIES}
TO_WIRE = WIRE_NAMES


# ---- values: PropertyValue <-> plain Python, secrets as paths -------------------------------


def _plain(value: PropertyValue, path: Path_, secrets: set[Path_]) -> Any:
    """A wire value as the core takes it: unknowns as the sentinel, whole floats as ints."""
    if value.is_secret:
        secrets.add(path)
    v = value.value
    if isinstance(v, Computed):
        return UNKNOWN
    if isinstance(v, Mapping):
        return {k: _plain(item, (*path, k), secrets) for k, item in v.items()}
    if isinstance(v, tuple):
        return [_plain(item, (*path, str(i)), secrets) for i, item in enumerate(v)]
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if v is None or isinstance(v, bool | float | str):
        return v
    where = ".".join(path)
    raise ChannelValidationError(
        [(where, "must be JSON data: a string, number, bool, list or map")]
    )


def _strays(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A program's config keys the schema does not have, each with the key to write: a
    key in 0.3.0's name (``bot_token``) its new name; any other (a misspelling, or a key
    PingBack does not document, which sat beside the others in 0.3.0) under ``extra``."""
    problems = []
    for key in config:
        if key == EXTRA or key in CONFIG_KEYS_TO_CORE:
            continue
        name = safe_key(key)  # the program's, printed by the CLI: printable, short
        if key in CONFIG_KEYS:
            fix = f"the schema names this key '{CONFIG_KEYS[key]}' (renamed after 0.3.0); "
            problems.append((f"config.{name}", f"{fix}write config.{CONFIG_KEYS[key]}"))
            continue
        close = difflib.get_close_matches(key, list(CONFIG_KEYS_TO_CORE), n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'? " if close else ""
        problems.append(
            (
                f"config.{name}",
                f"not a key of the config; {hint}a key PingBack does not document goes in "
                f"config.{EXTRA} (moved there after 0.3.0): config.{EXTRA}.{name}",
            )
        )
    return problems


def _config_to_core(
    config: Mapping[str, Any], secrets: set[Path_], *, strict: bool
) -> tuple[dict[str, Any], set[Path_]]:
    """A config in the schema's keys as the core's, with its secret paths moved along.
    ``strict`` (a program's new inputs): a key the schema does not have is refused; else
    (a state) a key in 0.3.0's shape is read as it is, which is the core's."""
    problems = _strays(config) if strict else []
    out: dict[str, Any] = {}
    moved: dict[Path_, Path_] = {}
    for key, value in config.items():
        pairs: list[tuple[str, Any, Path_]]
        if key == EXTRA and isinstance(value, Mapping):
            pairs = [(inner, item, (EXTRA, inner)) for inner, item in value.items()]
            if ("config", EXTRA) in secrets:
                secrets |= {("config", inner) for inner in value}
        else:
            pairs = [(CONFIG_KEYS_TO_CORE.get(key, key), value, (key,))]
        for core, item, where in pairs:
            if core in out:
                named = ".".join(safe_key(part) for part in where)
                problems.append((f"config.{named}", "given twice; keep one"))
            out[core] = item
            moved[("config",) + where] = ("config", core)  # noqa: RUF005
    if problems:
        raise ChannelValidationError(problems)
    translated: set[Path_] = set()
    for path in secrets:
        for length in (3, 2):
            target = moved.get(path[:length])
            if path[:1] == ("config",) and target is not None:
                translated.add((*target, *path[length:]))
                break
        else:
            if path != ("config", EXTRA):
                translated.add(path)
    return out, translated


def unwire(
    props: Mapping[str, PropertyValue], *, strict: bool = False
) -> tuple[dict[str, Any], set[Path_]]:
    """Wire properties as core properties (Python names, PingBack's config keys) and the
    paths that were secret. ``strict``: a program's new inputs (Check), in which a config
    key the schema does not have is refused, naming the key to write."""
    secrets: set[Path_] = set()
    plain: dict[str, Any] = {}
    for key, value in props.items():
        core = TO_CORE.get(key, key)
        plain[core] = _plain(value, (core,), secrets)
    config = plain.get("config")
    if isinstance(config, Mapping):
        plain["config"], secrets = _config_to_core(config, secrets, strict=strict)
    return plain, secrets


def wire_value(value: Any, path: Path_, secrets: set[Path_]) -> PropertyValue:
    secret = path in secrets
    if isinstance(value, Mapping):
        inner: Any = {str(k): wire_value(v, (*path, str(k)), secrets) for k, v in value.items()}
    elif isinstance(value, list | tuple):
        inner = [wire_value(v, (*path, str(i)), secrets) for i, v in enumerate(value)]
    elif isinstance(value, int) and not isinstance(value, bool):
        inner = float(value)  # PropertyValue takes floats only
    elif is_unknown(value):
        inner = UNKNOWN  # the wire's unknown: Computed does not marshal
    else:
        inner = value
    return PropertyValue(inner, is_secret=secret)


def _config_path(path: Path_, channel_type: object) -> Path_:
    """A core path with its config key in the schema's name (the head left as it is):
    ``("config", "bot_token")`` -> ``("config", "botToken")``, a widget's undocumented
    key -> under ``extra``."""
    if path[:1] != ("config",) or len(path) < 2:
        return path
    return ("config", *config_key_name(channel_type, path[1]).split(".", 1), *path[2:])


def wire_path(path: Path_, channel_type: object) -> Path_:
    """A core property path in the schema's names."""
    head, *rest = _config_path(path, channel_type)
    return (TO_WIRE.get(head, head), *rest)


def wire(props: Mapping[str, Any], secrets: set[Path_]) -> dict[str, PropertyValue]:
    """Core properties on the wire, schema names, ``secrets`` (core paths) marked."""
    channel_type = props.get("type")
    marked = {_config_path(p, channel_type) for p in secrets}
    out: dict[str, PropertyValue] = {}
    for key, value in props.items():
        if key == "config" and isinstance(value, Mapping):
            value = _config_to_wire(value, channel_type)
        out[TO_WIRE.get(key, key)] = wire_value(value, (key,), marked)
    return out


def _config_to_wire(config: Mapping[str, Any], channel_type: object) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = config_key_name(channel_type, key)
        if name.startswith(f"{EXTRA}."):
            out.setdefault(EXTRA, {})[key] = value
        else:
            out[name] = value
    return out


# ---- diffs -------------------------------------------------------------------------------


def core_path(path: str) -> str:
    """A property path in the schema's names (``isActive``, ``config.botToken``,
    ``config.extra.theme``) in the core's (``is_active``, ``config.bot_token``,
    ``config.theme``)."""
    head, *rest = path_segments(path) or [""]
    if head == "config" and rest:
        if rest[0] == EXTRA and len(rest) > 1:
            rest = rest[1:]
        else:
            rest = [CONFIG_KEYS_TO_CORE.get(rest[0], rest[0]), *rest[1:]]
    return path_string([TO_CORE.get(head, head), *rest])


_KINDS = {
    ("add", False): PropertyDiffKind.ADD,
    ("add", True): PropertyDiffKind.ADD_REPLACE,
    ("delete", False): PropertyDiffKind.DELETE,
    ("delete", True): PropertyDiffKind.DELETE_REPLACE,
    ("update", False): PropertyDiffKind.UPDATE,
    ("update", True): PropertyDiffKind.UPDATE_REPLACE,
}


def detailed_diff(decision: DiffDecision, channel_type: object) -> dict[str, PropertyDiff]:
    """The policy's per-path answer in the schema's names: ``config.botToken:
    UPDATE_REPLACE`` when the bot changes, ``UPDATE`` when its token rotates."""
    out: dict[str, PropertyDiff] = {}
    for change in decision.detail:
        name = path_string(list(wire_path(tuple(change.path), channel_type)))
        out[name] = PropertyDiff(_KINDS[change.op, change.replace], input_diff=True)
    return out
