"""The functions for Python programs of the dynamic provider: :func:`get_channels` and
:func:`get_channel`, the native provider's ``getChannels`` and ``getChannel`` as plain
functions of this package that return :class:`pulumi.Output` s.

They run in the program's own process (a dynamic provider has no functions of its own):
with the stack's ``pingback:*`` settings (then ``PINGBACK_*``), as the provider takes
them, one list of the business per program run, at preview and at update alike. Their
answers never hold a credential (:func:`..channels._results.channel_info`).
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any, TypedDict

import pulumi

if TYPE_CHECKING:
    from .._operations import Channels

__all__ = ["ChannelInfo", "get_channel", "get_channels"]


class ChannelInfo(TypedDict):
    """A channel of the business as the functions read it: never a credential."""

    id: str
    type: str
    identity: str | None
    """What it is bound to (``telegram:bot/<bot id>``…), None for a type without one."""
    is_active: bool
    created_at: str | None
    config: dict[str, Any]
    """The keys of its config that its type documents and that hold no credential
    (``phone_number_id``, ``widget_id``)."""


_lock = threading.Lock()
_ops: list[Channels] = []


def _operations() -> Channels:
    """The program's operations, from its stack's settings, made once per run."""
    from .._operations import Channels
    from .._settings import SETTINGS

    with _lock:
        if not _ops:
            config = {key: pulumi.runtime.get_config(key) for key in SETTINGS}
            _ops.append(Channels.from_config(config, project=pulumi.get_project()))
        return _ops[0]


def _answer(function: str, args: dict[str, Any]) -> Any:
    from .._exceptions import ChannelValidationError

    ops = _operations()
    problems = ops.check_lookup(function, args)
    if problems:
        raise ChannelValidationError(problems)
    if function == "get_channels":
        return ops.channels_of(args.get("type"))
    return ops.channel_by(args.get("id"), args.get("identity"))


def _output(function: str, args: dict[str, Any]) -> pulumi.Output[Any]:
    async def ask() -> Any:
        return await asyncio.to_thread(_answer, function, args)

    return pulumi.Output.from_input(asyncio.ensure_future(ask()))


def get_channels(type: str | None = None) -> pulumi.Output[list[ChannelInfo]]:
    """Every channel of the business, or of one ``type`` (``"widget"``, a
    :class:`ChannelType`), oldest first — those no stack manages too, such as the widget
    channel PingBack makes with a widget. Read at every preview and update."""
    value = getattr(type, "value", type)
    return _output("get_channels", {} if value is None else {"type": value})


def get_channel(
    id: str | None = None, *, identity: str | None = None
) -> pulumi.Output[ChannelInfo]:
    """One channel of the business: by its ``id``, or by what it is bound to
    (``identity="telegram:bot/7123456789"``). An error when there is none (or, for an
    identity, several)."""
    args = {k: v for k, v in (("id", id), ("identity", identity)) if v is not None}
    return _output("get_channel", args)
