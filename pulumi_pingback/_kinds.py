"""One row per channel type: its config keys and which of them are credentials.

Light on purpose (no pydantic, no httpx): a Pulumi program imports it on every preview.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._types import ChannelType

__all__ = ["KINDS", "Kind", "kind_of"]


@dataclass(frozen=True)
class Kind:
    """A channel type as PingBack documents it."""

    type: str
    keys: tuple[str, ...] = ()
    """The documented config keys, in order; empty for a type PingBack does not document."""
    credentials: tuple[str, ...] = ()
    """Keys whose values are credentials."""

    @property
    def free_form(self) -> bool:
        """Undocumented config: any keys, all treated as secret."""
        return not self.keys

    def readable(self, key: str) -> bool:
        """Whether a config key's value may be shown in plain text (state, previews)."""
        return key in self.keys and key not in self.credentials


_META = ("phone_number_id", "access_token", "verify_token")
_X = ("api_key", "api_secret", "access_token", "access_token_secret", "bearer_token")

KINDS: dict[str, Kind] = {
    k.type: k
    for k in (
        Kind(ChannelType.TELEGRAM.value, ("bot_token",), ("bot_token",)),
        Kind(ChannelType.WHATSAPP.value, _META, ("access_token", "verify_token")),
        Kind(ChannelType.INSTAGRAM.value, _META, ("access_token", "verify_token")),
        Kind(ChannelType.X.value, _X, _X),
        Kind(ChannelType.WEBCHAT.value),
        Kind(ChannelType.WIDGET.value),
        Kind(ChannelType.EMAIL.value),
        Kind(ChannelType.SMS.value),
    )
}


def kind_of(channel_type: object) -> Kind | None:
    return KINDS.get(channel_type) if isinstance(channel_type, str) else None
