"""Whether an existing channel may be adopted as declared: pure decisions, no request
(:meth:`._client.PingBackClient.adopt` reads the channel and acts on them). A live
channel is never changed by an adoption nobody saw: one that differs is refused naming
the keys, never their values."""

from __future__ import annotations

from ._exceptions import AdoptionError
from ._kinds import a_channel, describe_identity
from ._models import Channel, DesiredChannel

__all__ = ["adoption_refusal", "differing_keys", "differs"]


def adoption_refusal(
    channel_id: str, existing: Channel | None, desired: DesiredChannel, *, taken: bool
) -> AdoptionError | None:
    """Why ``existing`` cannot be adopted as ``desired`` at all (missing, ``taken`` by
    another resource of the deployment, another type or identity), or None."""
    if existing is None:
        return AdoptionError(
            f"PingBack has no channel {channel_id} in this business",
            channel_id=channel_id,
            reason="missing",
        )
    if taken:
        return AdoptionError(
            f"channel {channel_id} was already created or adopted by another resource "
            "in this deployment",
            channel_id=channel_id,
            reason="taken",
        )
    if existing.type != desired.type:
        return AdoptionError(
            f"channel {channel_id} is {a_channel(existing.type)}, not {desired.type}",
            channel_id=channel_id,
            reason="mismatch",
        )
    have, want = existing.identity, desired.identity
    if have is not None and want is not None and have != want:
        return AdoptionError(
            f"channel {channel_id} is bound to the {describe_identity(have)}, not the "
            f"{describe_identity(want)} declared",
            channel_id=channel_id,
            reason="mismatch",
        )
    return None


def differs(channel_id: str, existing: Channel, desired: DesiredChannel) -> AdoptionError:
    """The refusal of an adoption that would overwrite what PingBack holds (without
    ``adopt_overwrite``): the keys, not their values."""
    keys = differing_keys(existing, desired)
    return AdoptionError(
        f"channel {channel_id} holds {_listing_of(keys)} that PingBack keeps "
        "otherwise than declared (values not shown); adopting it would overwrite "
        f"{'it' if len(keys) == 1 else 'them'} in PingBack",
        channel_id=channel_id,
        reason="differs",
        keys=keys,
    )


def differing_keys(existing: Channel, desired: DesiredChannel) -> list[str]:
    """The config keys (and ``is_active``) whose values PingBack holds otherwise than
    declared, present on one side only included; compared, never shown."""
    have, want = existing.user_config, dict(desired.config)
    keys = sorted(k for k in set(have) | set(want) if have.get(k, _ABSENT) != want.get(k, _ABSENT))
    if existing.is_active != desired.is_active:
        keys.append("is_active")
    return keys


_ABSENT = object()


def _listing_of(keys: list[str]) -> str:
    named = ", ".join(("" if k == "is_active" else "config.") + k for k in keys)
    return f"{'a value' if len(keys) == 1 else 'values'} ({named})"
