"""Input checking for a channel: every problem at once, before any API call. Pure."""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Mapping
from typing import Any

from ._models import Problem, channel_identity, check_config_keys, validate_channel
from ._unknown import UNKNOWN, contains_unknown, is_unknown, to_wire

__all__ = ["INPUT_KEYS", "check_inputs"]

INPUT_KEYS = ("type", "config", "is_active", "adopt_id")
# Resource options PingBackChannel passes as inputs (the dynamic server cannot see them).
OPTION_KEYS = ("replace_on_changes",)
PATH_ROOTS = ("type", "config", "is_active", "*")
# Keys the resource class registers as outputs (None at registration) or that a refresh
# writes back as inputs; accepted and recomputed, never required.
OUTPUT_KEYS = (
    "identity",
    "business_id",
    "created_at",
    "meta_callback_url",
    "meta_verify_token",
)
IDENTITY_KEYS = {
    "telegram": "bot_token",
    "whatsapp": "phone_number_id",
    "instagram": "phone_number_id",
    "x": "access_token",
}


def _check_paths(paths: Any) -> list[Problem]:
    """``replace_on_changes``: property paths of a channel's inputs."""
    from ._diff import path_segments

    example = "e.g. ['config.bot_token']"
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        return [("replace_on_changes", f"must be a list of property paths, {example}")]
    problems: list[Problem] = []
    for path in paths:
        segments = path_segments(path)
        if not segments or segments[0] not in PATH_ROOTS:
            close = difflib.get_close_matches(segments[0] if segments else "", PATH_ROOTS, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append(
                (
                    "replace_on_changes",
                    f"'{path[:40]}' names no input of a channel; {hint}paths start with "
                    f"type, config or is_active ({example}); identity changes always replace",
                )
            )
    return problems


def check_inputs(news: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Validate and normalise declared inputs.

    Returns the checked inputs (``type``, ``config``, ``is_active``, ``identity`` when the
    channel has one, ``adopt_id`` when given) with unknowns kept as the wire sentinel,
    and every problem found. Unknown values (preview) are not judged.
    """
    problems: list[Problem] = []
    for key in news:
        if key.startswith("__") or key in INPUT_KEYS or key in OUTPUT_KEYS or key in OPTION_KEYS:
            continue
        close = difflib.get_close_matches(str(key), INPUT_KEYS, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'? " if close else ""
        problems.append(
            (str(key)[:40], f"unknown property; {hint}allowed: {', '.join(INPUT_KEYS)}")
        )

    channel_type = news.get("type")
    config = news.get("config")
    if config is None:
        config = {}
    is_active = news.get("is_active", True)
    if is_active is None:
        is_active = True
    adopt_id = news.get("adopt_id")

    inputs: dict[str, Any] = {"type": channel_type, "config": config, "is_active": is_active}

    replace_on = news.get("replace_on_changes")
    if replace_on is not None and not is_unknown(replace_on):
        inputs["replace_on_changes"] = replace_on
        problems.extend(_check_paths(replace_on))

    if adopt_id is not None:
        inputs["adopt_id"] = adopt_id
        if not is_unknown(adopt_id):
            try:
                uuid.UUID(str(adopt_id))
            except ValueError:
                problems.append(
                    ("adopt_id", "must be the UUID of an existing channel (copy it from PingBack)")
                )

    if is_unknown(channel_type) or contains_unknown(config) or is_unknown(is_active):
        # Preview: judge what is known, leave the rest to the run that knows it.
        known_type = None if is_unknown(channel_type) else channel_type
        if known_type is not None:
            _, type_problems = validate_channel({"type": known_type, "config": {}})
            problems.extend(p for p in type_problems if p[0] == "type")
        if isinstance(config, Mapping):
            problems.extend(
                check_config_keys(known_type if isinstance(known_type, str) else None, config)
            )
        elif not is_unknown(config):
            problems.append(("config", "must be an object (a dict of config keys)"))
        if not is_unknown(is_active) and not isinstance(is_active, bool):
            problems.append(("is_active", "must be true or false (a boolean, not a string)"))
        identity_key = IDENTITY_KEYS.get(known_type) if isinstance(known_type, str) else None
        if known_type is None or (
            identity_key is not None
            and (not isinstance(config, Mapping) or is_unknown(config.get(identity_key)))
        ):
            inputs["identity"] = UNKNOWN
        elif isinstance(config, Mapping) and isinstance(known_type, str):
            identity = channel_identity(known_type, config)
            if identity is not None:
                inputs["identity"] = identity
        return to_wire(inputs), problems

    spec, channel_problems = validate_channel(inputs)
    problems.extend(channel_problems)
    if spec is not None and not problems:
        inputs["config"] = dict(config) if isinstance(config, Mapping) else config
        identity = channel_identity(str(channel_type), config)
        if identity is not None:
            inputs["identity"] = identity
    return inputs, problems
