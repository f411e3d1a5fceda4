"""The one validator: a channel's declared inputs, every problem at once. Pure.

Everything it knows of a type comes from its row in :mod:`._kinds`. Messages name the
property and the fix; they quote key names and the channel type, never a config value.
At preview, unknown values (computed from other resources) are not judged.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any

from .._untrusted import is_channel_id
from ._kinds import CHANNEL_TYPES, KINDS, Kind, a_channel, channel_identity, kind_of
from ._schema import COMPUTED, INPUTS, OPTION_KEYS, TIME_LIMITS
from ._unknowns import UNKNOWN, contains_unknown, is_unknown, to_wire

__all__ = ["Problem", "as_given", "check_config", "check_inputs", "check_lookup", "safe_key"]

Problem = tuple[str, str]
"""(property path, reason) — the shape of a Pulumi CheckFailure."""

KeyNames = Callable[[object, str], str]
"""How a front names a config key of a channel type in messages (the native schema's
``botToken`` for PingBack's ``bot_token``: :func:`._schema.config_key_name`)."""


def as_given(_channel_type: object, key: str) -> str:
    """The dynamic front's config keys: PingBack's own, as the program gives them."""
    return key


# COMPUTED: keys the resource class registers as outputs (None at registration) or that a
# refresh writes back as inputs; accepted and recomputed, never required.
PATH_ROOTS = ("type", "config", "is_active", "*")
NOT_A_STRING = "must be a string"
EMPTY = "must not be empty; give the value or remove the key"


def _did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'? " if close else ""


def safe_key(key: object) -> str:
    """A key name fit for a message: printable and short (keys are names, not secrets)."""
    text = "".join(ch if ch.isprintable() else "?" for ch in str(key))
    return text if len(text) <= 40 else text[:37] + "..."


def _check_nested(path: str, value: object) -> list[Problem]:
    """Empty strings anywhere inside an open config's value."""
    if isinstance(value, str) and not value.strip():
        return [(path, EMPTY)]
    if isinstance(value, Mapping):
        return [p for k, v in value.items() for p in _check_nested(f"{path}.{safe_key(k)}", v)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _check_nested(f"{path}[{i}]", v)]
    return []


def _check_key(kind: Kind | None, key: str, value: object, key_names: KeyNames) -> list[Problem]:
    path = f"config.{safe_key(key_names(kind.type if kind else None, key))}"
    if is_unknown(value) or kind is None or key not in kind.keys:
        return [] if is_unknown(value) else _check_nested(path, value)
    if contains_unknown(value):
        return []
    if not isinstance(value, str):
        return [(path, NOT_A_STRING)]
    if not value.strip():
        return [(path, EMPTY)]
    fmt = kind.formats.get(key)
    if fmt is not None and not fmt.matches(value):
        return [(path, fmt.hint)]
    return []


def check_config(
    channel_type: str | None,
    config: Mapping[Any, Any],
    stored: Mapping[Any, Any] | None = None,
    *,
    key_names: KeyNames = as_given,
) -> list[Problem]:
    """Reserved, unknown, malformed and missing keys of a config, in that order, named as
    ``key_names`` says the front names them.

    ``channel_type`` None: the type is unknown (preview), so only what holds for every
    type is judged. ``stored``: the config PingBack already holds for this channel (the
    old inputs of the same type: an import, a refresh, an adopted or imported channel's
    next update). A key declared with the very value PingBack stores — one added in the
    dashboard, an empty value PingBack accepted — is not judged, and a required key it
    lacks too is not asked for: what exists imports, checks and diffs clean, while every
    key a program sets or changes is checked.
    """
    kind = kind_of(channel_type)
    problems: list[Problem] = []
    held = stored if stored is not None else {}
    for key, value in config.items():
        if key in held and held[key] == value and not contains_unknown(value):
            continue
        name = safe_key(key)
        if not isinstance(key, str) or not key:
            problems.append(("config", "config keys must be non-empty strings"))
        elif key.startswith("_"):
            problems.append(
                (
                    f"config.{name}",
                    "keys starting with '_' are reserved for PingBack (it adds e.g. "
                    f"_meta_setup_instructions); remove '{name}' from config",
                )
            )
        elif kind is not None and not kind.free_keys and key not in kind.keys:
            allowed = [key_names(kind.type, k) for k in kind.keys]
            problems.append(
                (
                    f"config.{name}",
                    f"unknown key '{name}' for {a_channel(kind.type)}; "
                    f"{_did_you_mean(key, allowed)}allowed keys: {', '.join(allowed)}",
                )
            )
        else:
            problems.extend(_check_key(kind, key, value, key_names))
    if kind is not None:
        # A type that takes more keys takes a misspelt one too: say so where its key is
        # missing (any other type refuses the misspelt key itself, with a did-you-mean).
        given = (
            [k for k in config if isinstance(k, str) and k not in kind.keys]
            if kind.free_keys
            else []
        )
        for key in kind.keys:
            if key not in config and (stored is None or key in stored):
                named = f"config.{key_names(kind.type, key)}"
                close = difflib.get_close_matches(key, given, n=1, cutoff=0.75)
                hint = (
                    f" (did you mean '{safe_key(close[0])}'? write it as "
                    f"'{key_names(kind.type, key)}')"
                    if close
                    else ""
                )
                problems.append((named, f"missing: {a_channel(kind.type)} needs {named}{hint}"))
    return problems


def _check_paths(option: str, paths: Any, names: Mapping[str, str]) -> list[Problem]:
    """``replace_on_changes`` / ``ignore_changes``: property paths of a channel's inputs."""
    from ._diff import path_segments

    example = "e.g. ['config.bot_token']"
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        return [(option, f"must be a list of property paths, {example}")]
    problems: list[Problem] = []
    for path in paths:
        segments = path_segments(path)
        if not segments or segments[0] not in PATH_ROOTS:
            hint = _did_you_mean(segments[0] if segments else "", PATH_ROOTS)
            roots = f"{names['type']}, {names['config']} or {names['is_active']}"
            problems.append(
                (
                    option,
                    f"'{path[:40]}' names no input of a channel; {hint}paths start with "
                    f"{roots} ({example}); identity changes always replace",
                )
            )
    return problems


def _check_type(channel_type: Any) -> list[Problem]:
    if is_unknown(channel_type):
        return []
    if not isinstance(channel_type, str):
        return [("type", f"must be one of: {', '.join(CHANNEL_TYPES)}")]
    if channel_type not in KINDS:
        return [
            (
                "type",
                f"unknown channel type '{safe_key(channel_type)}'; "
                f"{_did_you_mean(channel_type, CHANNEL_TYPES)}must be one of: "
                f"{', '.join(CHANNEL_TYPES)}",
            )
        ]
    return []


PYTHON_NAMES: Mapping[str, str] = {k: k for k in (*INPUTS, *OPTION_KEYS, *COMPUTED)}
"""How a Python program names each property (the default audience)."""


def check_inputs(
    news: Mapping[str, Any],
    olds: Mapping[str, Any] | None = None,
    *,
    names: Mapping[str, str] = PYTHON_NAMES,
    key_names: KeyNames = as_given,
) -> tuple[dict[str, Any], list[Problem]]:
    """Validate and normalise a channel's declared inputs.

    Returns the checked inputs (``type``, ``config``, ``is_active``, ``identity`` when the
    channel has one, ``adopt_id`` and ``replace_on_changes`` when given) — unknowns kept
    as the wire sentinel — and every problem found. ``olds``: the channel's previous
    inputs, whose config PingBack holds (see :func:`check_config`). ``names``: how the
    program's language names each property, and ``key_names`` each config key, for the
    messages.
    """
    problems: list[Problem] = []
    allowed = [names.get(k, k) for k in INPUTS]
    for key in news:
        if key.startswith("__") or key in (*INPUTS, *OPTION_KEYS, *COMPUTED, TIME_LIMITS):
            continue
        problems.append(
            (
                safe_key(key),
                f"unknown property; {_did_you_mean(str(key), allowed)}allowed: "
                f"{', '.join(allowed)}",
            )
        )

    channel_type = news.get("type")
    config = news.get("config")
    if config is None:
        config = {}
    is_active = news.get("is_active", True)
    if is_active is None:
        is_active = True
    inputs: dict[str, Any] = {"type": channel_type, "config": config, "is_active": is_active}

    adopt_id = news.get("adopt_id")
    if adopt_id is not None:
        inputs["adopt_id"] = adopt_id
        if not is_unknown(adopt_id) and not is_channel_id(adopt_id):
            problems.append(
                ("adopt_id", "must be the UUID of an existing channel (copy it from PingBack)")
            )
    overwrite = news.get("adopt_overwrite")
    if overwrite is not None and not is_unknown(overwrite):
        inputs["adopt_overwrite"] = overwrite
        if not isinstance(overwrite, bool):
            problems.append(("adopt_overwrite", "must be true or false (a boolean)"))
        elif overwrite and adopt_id is None:
            problems.append(
                ("adopt_overwrite", f"takes effect only with {names.get('adopt_id', 'adopt_id')}")
            )
    if isinstance(news.get(TIME_LIMITS), Mapping):
        inputs[TIME_LIMITS] = dict(news[TIME_LIMITS])  # the engine parsed them already
    for option in OPTION_KEYS:
        paths = news.get(option)
        if paths is not None and not is_unknown(paths):
            inputs[option] = paths
            problems.extend(_check_paths(option, paths, names))

    problems.extend(_check_type(channel_type))
    known_type = channel_type if isinstance(channel_type, str) and channel_type in KINDS else None
    if isinstance(config, Mapping):
        judged_type = None if is_unknown(channel_type) else known_type
        old_config = (olds or {}).get("config")
        stored = (
            old_config
            if isinstance(old_config, Mapping) and (olds or {}).get("type") == channel_type
            else None
        )
        if judged_type is not None or is_unknown(channel_type):
            problems.extend(check_config(judged_type, config, stored, key_names=key_names))
    elif not is_unknown(config):
        problems.append(("config", "must be an object (a dict of config keys)"))
    if not is_unknown(is_active) and not isinstance(is_active, bool):
        problems.append(("is_active", "must be true or false (a boolean, not a string)"))

    kind = kind_of(known_type)
    if is_unknown(channel_type) or (
        kind is not None
        and kind.identity_key is not None
        and (not isinstance(config, Mapping) or is_unknown(config.get(kind.identity_key)))
    ):
        inputs["identity"] = UNKNOWN  # preview: computed from what is not known yet
    elif not problems:
        identity = channel_identity(known_type, config)
        if identity is not None:
            inputs["identity"] = identity
    if isinstance(config, Mapping) and not contains_unknown(config):
        inputs["config"] = dict(config)
    return to_wire(inputs), problems


LOOKUPS: Mapping[str, tuple[str, ...]] = {
    "get_channels": ("type",),
    "get_channel": ("id", "identity"),
}
"""The functions (``getChannels``, ``getChannel``) and their arguments, core names."""


def check_lookup(
    function: str, args: Mapping[str, Any], *, names: Mapping[str, str] = PYTHON_NAMES
) -> list[Problem]:
    """A function's arguments: ``get_channels`` takes an optional ``type``;
    ``get_channel`` exactly one of ``id`` (a channel's UUID) and ``identity``
    (``telegram:bot/<bot id>``, ``whatsapp:phone/<phone_number_id>``…)."""
    from ._kinds import kind_of_identity

    allowed = LOOKUPS[function]
    problems: list[Problem] = [
        (
            safe_key(key),
            f"unknown argument; {_did_you_mean(str(key), list(allowed))}allowed: "
            f"{', '.join(names.get(a, a) for a in allowed)}",
        )
        for key in args
        if key not in allowed
    ]
    if function == "get_channels":
        if args.get("type") is not None:
            problems.extend(_check_type(args["type"]))
        return problems
    channel_id, identity = args.get("id"), args.get("identity")
    if (channel_id is None) == (identity is None):
        problems.append(
            ("", "give exactly one of id (a channel's id) and identity (what it is bound to)")
        )
    elif channel_id is not None and not is_channel_id(channel_id):
        problems.append(("id", "must be the UUID of a channel (`pingback channels` lists them)"))
    elif identity is not None and (
        not isinstance(identity, str)
        or kind_of_identity(identity) is None
        or not identity.partition("/")[2]
    ):
        labels = sorted({k.identity_label for k in KINDS.values() if k.identity_label})
        problems.append(
            (
                "identity",
                f"must be <kind>/<id>, one of {', '.join(f'{label}/…' for label in labels)} "
                "(e.g. telegram:bot/7123456789)",
            )
        )
    return problems
