"""Channels as PingBack returns them, and channels as declared.

:class:`Channel` parses an answer (pydantic: it tolerates fields the docs do not list);
:class:`DesiredChannel` is what a create or update sends and the test of a match.
Validation of declared inputs is :mod:`._check`; what a type is, :mod:`._kinds`.
No repr here ever contains a config value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .._untrusted import is_channel_id
from ._kinds import channel_identity

__all__ = ["Channel", "Declaration", "DesiredChannel", "split_config", "strings_in"]


def strings_in(value: Any) -> Iterator[str]:
    """Every string in a (nested) config: each may be a credential."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from strings_in(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from strings_in(v)


def split_config(config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the user's keys, the server-added ``_…`` keys)."""
    user = {k: v for k, v in config.items() if not k.startswith("_")}
    server = {k: v for k, v in config.items() if k.startswith("_")}
    return user, server


class Channel(BaseModel):
    """A channel as PingBack returns it; tolerates fields the docs do not list. Its ``id``
    and ``business_id`` are UUIDs, as PingBack documents them: anything else makes the
    answer unreadable (:mod:`.._untrusted`), so no id this model holds can address
    anything but a channel."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str
    business_id: str | None = None
    type: str
    config: dict[str, Any] = Field(default_factory=dict)
    is_active: bool = True
    created_at: str | None = None

    @field_validator("id", "business_id")
    @classmethod
    def _a_uuid(cls, value: str | None) -> str | None:
        if value is not None and not is_channel_id(value):
            raise ValueError("not a UUID")  # the value is never quoted
        return value

    @property
    def user_config(self) -> dict[str, Any]:
        """The config keys the user declared (server-added ``_…`` keys removed)."""
        return split_config(self.config)[0]

    @property
    def server_config(self) -> dict[str, Any]:
        """The ``_…`` keys PingBack added (e.g. ``_meta_setup_instructions``)."""
        return split_config(self.config)[1]

    @property
    def identity(self) -> str | None:
        return channel_identity(self.type, self.config)

    @property
    def meta_setup(self) -> dict[str, Any]:
        value = self.config.get("_meta_setup_instructions")
        return value if isinstance(value, dict) else {}

    def __repr__(self) -> str:  # config holds credentials: never in a repr
        return f"Channel(id={self.id!r}, type={self.type!r}, is_active={self.is_active!r})"

    __str__ = __repr__


@dataclass(frozen=True)
class DesiredChannel:
    """A channel as declared: the body of a create or update, and the test of a match."""

    type: str
    config: Mapping[str, Any] = field(default_factory=dict)
    is_active: bool = True

    def body(self) -> dict[str, Any]:
        return {"type": self.type, "config": dict(self.config), "is_active": self.is_active}

    def matches(self, channel: Channel) -> bool:
        """PingBack holds exactly this (its own ``_…`` keys aside)."""
        return (
            channel.type == self.type
            and channel.user_config == dict(self.config)
            and channel.is_active == self.is_active
        )

    @property
    def identity(self) -> str | None:
        return channel_identity(self.type, self.config)

    def secrets(self) -> list[str]:
        """Every string in the config: each may be a credential."""
        return list(strings_in(self.config))

    def __repr__(self) -> str:  # config holds credentials: never in a repr
        return f"DesiredChannel(type={self.type!r}, is_active={self.is_active!r})"


@dataclass(frozen=True)
class Declaration:
    """A resource's checked inputs, typed: what a create or update takes. They were
    checked once, by the provider's Check; the engine hands them back to Create and
    Update over the wire, and :meth:`of` only reads them."""

    channel: DesiredChannel
    adopt_id: str | None = None
    adopt_overwrite: bool = False

    @classmethod
    def of(cls, inputs: Mapping[str, Any]) -> Declaration:
        """The declaration in checked inputs. Inputs that did not pass Check (never from
        the engine) are refused naming what is missing, without checking them again."""
        from .._exceptions import ChannelValidationError

        channel_type, config = inputs.get("type"), inputs.get("config", {})
        is_active, adopt_id = inputs.get("is_active", True), inputs.get("adopt_id")
        problems = [
            (name, "was not checked: run the provider's check first")
            for name, ok in (
                ("type", isinstance(channel_type, str)),
                ("config", isinstance(config, Mapping)),
                ("is_active", isinstance(is_active, bool)),
                ("adopt_id", adopt_id is None or isinstance(adopt_id, str)),
            )
            if not ok
        ]
        if problems:
            raise ChannelValidationError(problems)
        assert isinstance(channel_type, str) and isinstance(config, Mapping)
        return cls(
            DesiredChannel(channel_type, dict(config), bool(is_active)),
            adopt_id or None,
            inputs.get("adopt_overwrite") is True,
        )
