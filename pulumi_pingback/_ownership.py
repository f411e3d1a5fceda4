"""Which resource of this deployment manages which channel: so none is bound twice or lost.

The dynamic-provider protocol never tells ``create`` that it is a replacement, nor
``delete`` that the id it is given is still in use; one provider process serves a whole
``pulumi up`` though, and sees every call. From them this module knows:

- **declared adoptions** — every Check whose inputs carry ``adopt_id``;
- **held ids** — every Diff that keeps its resource's channel (update or no change);
- **adopted ids** — every channel a Create of this process adopted.

and applies three rules (the engine's call orders are in docs/engine-fidelity.md):

1. ``delete`` never deletes a channel that a resource of this deployment still declares
   with ``adopt_id``: a replacement re-adopts it (in a create-before-delete replace,
   forced ones included, the engine deletes the old id at the end; in a delete-before-
   replace it deletes it first). If the declaring resource is another kind of channel,
   the delete fails before anything is changed.
2. ``create`` never adopts a channel another resource of this deployment holds.
3. ``diff`` fails for a resource whose channel another resource just adopted.

The CLI starts one provider process per deployment (``pulumi up``, ``preview``,
``refresh``, ``destroy``), so these records never outlive the command that made them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._exceptions import AdoptionError
from ._kinds import a_channel, channel_identity, describe_identity

__all__ = ["Ownership"]


@dataclass(frozen=True)
class _Declared:
    type: str
    identity: str | None


def _describe(kind: _Declared) -> str:
    return describe_identity(kind.identity) if kind.identity else a_channel(kind.type)


class Ownership:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._declared: dict[str, _Declared] = {}
        self._held: set[str] = set()
        self._adopted: set[str] = set()

    def checked(self, inputs: Mapping[str, Any]) -> None:
        """Check saw these inputs: remember a declared ``adopt_id``."""
        adopt_id, ctype, config = inputs.get("adopt_id"), inputs.get("type"), inputs.get("config")
        if not isinstance(adopt_id, str) or not isinstance(ctype, str):
            return
        identity = channel_identity(ctype, config) if isinstance(config, Mapping) else None
        with self._lock:
            self._declared[adopt_id] = _Declared(ctype, identity)

    def diffed(self, channel_id: str, news: Mapping[str, Any], *, replaced: bool) -> None:
        """Diff of the resource holding ``channel_id``; rule 3."""
        with self._lock:
            if not replaced:
                self._held.add(channel_id)
            stolen = channel_id in self._adopted and news.get("adopt_id") != channel_id
        if stolen:
            raise AdoptionError(
                f"channel {channel_id} is managed by this resource, and another resource of "
                "this deployment has just adopted it",
                channel_id=channel_id,
                reason="taken",
            )

    def before_adopt(self, channel_id: str) -> None:
        """Rule 2."""
        with self._lock:
            held = channel_id in self._held
        if held:
            raise AdoptionError(
                f"channel {channel_id} is already managed by another resource of this stack",
                channel_id=channel_id,
                reason="taken",
            )

    def adopted(self, channel_id: str) -> None:
        with self._lock:
            self._adopted.add(channel_id)

    def keep_on_delete(self, channel_id: str, old: Mapping[str, Any]) -> bool:
        """Rule 1: True when ``delete`` must leave the channel in PingBack."""
        with self._lock:
            declared = self._declared.get(channel_id)
        if declared is None:
            return False
        old_type = old.get("type")
        old_identity = old.get("identity") if isinstance(old.get("identity"), str) else None
        if declared.type == old_type and (
            declared.identity is None or old_identity is None or declared.identity == old_identity
        ):
            return True
        was = _Declared(str(old_type), old_identity)
        raise AdoptionError(
            f"channel {channel_id} is adopted by a resource that now declares "
            f"{_describe(declared)}, but the channel is {_describe(was)}; adoption keeps "
            "the channel, so it cannot be replaced by another",
            channel_id=channel_id,
            reason="replace",
        )
