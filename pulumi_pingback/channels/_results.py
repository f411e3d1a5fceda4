"""A channel's properties as the core hands them to both fronts, which only marshal them:
inputs and outputs with their secret paths, check failures a front may print, the
outputs a preview can already say, and what a refresh writes back among the inputs.

Properties use the Python names (``is_active``, ``meta_verify_token``) and plain values;
every rule comes from the property table (:mod:`._schema`) and the channel kinds
(:mod:`._kinds`). Light: no pydantic or httpx import, so a Pulumi program's preview may
use it (:mod:`..dynamic._resource`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._schema import COMPUTED, OPTION_KEYS, PRINTABLE, READ_BACK, REFRESH_MARKS, SECRET_OUTPUTS
from ._unknowns import UNKNOWN

if TYPE_CHECKING:
    from ._models import Channel

__all__ = [
    "Checked",
    "Outputs",
    "Path",
    "channel_info",
    "channel_outputs",
    "declared_inputs",
    "input_secret_paths",
    "is_refresh",
    "output_secret_paths",
    "planned_outputs",
    "reported",
    "sealed",
    "sealed_config",
    "sealed_config_keys",
    "secret_paths",
]

Path = tuple[str, ...]


@dataclass(frozen=True)
class Checked:
    """What Check answers, for either front: the inputs (plain; unknowns as the
    sentinel), the paths of them to mark secret, and the failures as (property, reason)
    in the front's names, each safe to print (:func:`reported`)."""

    inputs: dict[str, Any]
    secret_paths: frozenset[Path]
    failures: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Outputs:
    """A channel's outputs (plain) and the paths of them kept secret; ``id`` None for
    the outputs a preview plans."""

    id: str | None
    values: dict[str, Any]
    secret_paths: frozenset[Path]

    @classmethod
    def of(cls, channel: Channel) -> Outputs:
        values = channel_outputs(channel)
        return cls(channel.id, values, frozenset(secret_paths(values)))

    @classmethod
    def planned(cls, news: Mapping[str, Any], olds: Mapping[str, Any]) -> Outputs:
        values = planned_outputs(news, olds)
        return cls(None, values, frozenset(secret_paths(values)))

    def declared(self) -> tuple[dict[str, Any], frozenset[Path]]:
        """The inputs a program declaring this channel has (refresh, import), with their
        secret paths."""
        inputs = declared_inputs(self.values)
        return inputs, frozenset(secret_paths(inputs))


def sealed_config_keys(channel_type: Any, config: Any) -> set[str] | None:
    """The keys of a channel's ``config`` kept secret, among its inputs and its outputs
    alike (:func:`secret_paths`); None: the whole config.

    Every credential is a secret whatever the program gave (a plain string included), and
    so is every key PingBack does not document (a widget's extra keys, a key added in the
    dashboard). Documented keys that are no credential (``phone_number_id``,
    ``widget_id``) stay plain: a preview shows why a channel is replaced, and a channel
    without credentials (a widget) carries no ciphertext at all. The config of an
    undocumented type (webchat, email, sms), of a type not known, or that is no map (not
    known at preview, or a mistake Check refuses) is secret whole; an empty one holds
    nothing to hide.
    """
    from ._kinds import kind_of

    if config is None or (isinstance(config, Mapping) and not config):
        return set()
    kind = kind_of(channel_type)
    if not isinstance(config, Mapping) or kind is None or not kind.keys:
        return None
    return {k for k in config if kind.credential(k)}


def secret_paths(props: Mapping[str, Any]) -> set[Path]:
    """The paths of a channel's properties kept secret whatever the program gave, one rule
    for its inputs and its outputs: each credential of its config, or the whole config
    (:func:`sealed_config_keys`), and the outputs secret as a whole
    (:data:`._schema.SECRET_OUTPUTS`: the Meta verify token). What the program itself
    marked secret stays secret too: each front adds those paths."""
    paths: set[Path] = {(k,) for k in SECRET_OUTPUTS if k in props}
    if "config" in props:
        keys = sealed_config_keys(props.get("type"), props["config"])
        paths |= {("config",)} if keys is None else {("config", k) for k in keys}
    return paths


input_secret_paths = secret_paths
"""The secret paths of a channel's inputs (:func:`secret_paths`)."""
output_secret_paths = secret_paths
"""The secret paths of a channel's outputs (:func:`secret_paths`): the same rule."""


def sealed(
    props: Mapping[str, Any], paths: Iterable[Path], seal: Callable[[Any], Any]
) -> dict[str, Any]:
    """``props`` with ``seal`` applied at each of ``paths`` (a top-level key, or a key of a
    map under one): how a front puts the core's secret paths onto its own wire."""
    out = dict(props)
    for path in sorted(paths, key=len):
        head, rest = path[0], path[1:]
        if head not in out:
            continue
        if not rest:
            out[head] = seal(out[head])
        elif isinstance(out[head], Mapping) and rest[0] in out[head]:
            out[head] = {**out[head], rest[0]: seal(out[head][rest[0]])}
    return out


def sealed_config(channel_type: Any, config: Any, seal: Callable[[Any], Any]) -> Any:
    """A declared ``config`` with ``seal`` applied at its secret paths
    (:func:`secret_paths`): each credential, or the whole config. Each front passes
    its wire's secret (``pulumi.Output.secret``, the dynamic server's secret object)."""
    inputs = {"type": channel_type, "config": config}
    return sealed(inputs, secret_paths(inputs), seal)["config"]


def channel_outputs(channel: Channel) -> dict[str, Any]:
    """A channel's outputs (plain). ``config`` holds the user's keys only."""
    from ._kinds import kind_of

    outs: dict[str, Any] = {
        "type": channel.type,
        "config": channel.user_config,
        "is_active": channel.is_active,
    }
    identity = channel.identity  # parses the config: once
    if identity is not None:
        outs["identity"] = identity
    if channel.business_id is not None:
        outs["business_id"] = channel.business_id
    if channel.created_at is not None:
        outs["created_at"] = channel.created_at
    kind = kind_of(channel.type)
    if kind is not None and kind.meta_setup:
        meta = channel.meta_setup
        if isinstance(meta.get("callback_url"), str):
            outs["meta_callback_url"] = meta["callback_url"]
        if isinstance(meta.get("verify_token"), str):
            outs["meta_verify_token"] = meta["verify_token"]
    return outs


def planned_outputs(news: Mapping[str, Any], olds: Mapping[str, Any]) -> dict[str, Any]:
    """Preview outputs: the checked inputs, what PingBack keeps from before, and unknowns
    for what it will say (``business_id``, ``created_at``, the Meta setup)."""
    from ._kinds import kind_of

    outs = {k: v for k, v in news.items() if k in READ_BACK}
    kind = kind_of(news.get("type"))
    for key in COMPUTED:
        if key in outs:
            continue
        if key.startswith("meta_") and kind is not None and not kind.meta_setup:
            continue
        if key == "identity" and kind is not None and kind.identity_key is None:
            continue
        same_type = olds.get("type") == news.get("type")
        keep = key in ("business_id", "created_at") or (same_type and key.startswith("meta_"))
        outs[key] = olds[key] if keep and key in olds else UNKNOWN
    return outs


def is_refresh(props: Mapping[str, Any]) -> bool:
    """Whether a Read refreshes a resource of the stack, from what it carries: a refresh
    carries the outputs a create wrote; a lookup (``get``, ``pulumi import``, the
    ``import`` option) carries nothing, or the state the program gave as both inputs and
    outputs. A refresh of a channel that is gone drops it; a lookup of one is an error."""
    return any(isinstance(props.get(k), str) for k in REFRESH_MARKS)


def reported(
    problems: Iterable[tuple[str, str]], names: Mapping[str, str], *, options: bool = False
) -> tuple[tuple[str, str], ...]:
    """Problems as (property, reason) pairs a front turns into CheckFailures, in its own
    ``names``. The CLI prints the program's value of a named top-level property, secrets
    in plain text: so only printable properties (:data:`._schema.PRINTABLE`, nested
    config paths and, with ``options``, the options the dynamic front passes as inputs)
    are named, and anything else is said in the reason of a failure about the resource
    ("")."""
    shown = {*PRINTABLE, *(OPTION_KEYS if options else ())}
    out = []
    for prop, reason in problems:
        head, dot, rest = prop.partition(".")
        named = names.get(head, head) + dot + rest
        if head in shown or (head == "config" and rest):
            out.append((named, reason))
        else:
            out.append(("", f"{named}: {reason}" if named else reason))
    return tuple(out)


def declared_inputs(outs: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs a program declaring this channel has (for refresh and import)."""
    return {k: outs[k] for k in READ_BACK if k in outs}


def channel_info(channel: Channel) -> dict[str, Any]:
    """What a lookup (``getChannels``, ``getChannel``) says of a channel: its id, type,
    identity, whether it is active, when it was made, and the keys of its config that its
    type documents and that hold no credential (``phone_number_id``, ``widget_id``). Never
    a credential, nor a key PingBack does not document (any may hold one): so nothing in
    it is secret."""
    from ._kinds import kind_of

    kind = kind_of(channel.type)
    config = {
        key: value
        for key, value in channel.user_config.items()
        if kind is not None and key in kind.keys and not kind.credential(key)
    }
    return {
        "id": channel.id,
        "type": channel.type,
        "identity": channel.identity,
        "is_active": channel.is_active,
        "created_at": channel.created_at,
        "config": config,
    }
