"""The engine's floor for a dynamic provider: a channel of the same shape as
``PingBackChannel`` whose ``pulumi.dynamic.ResourceProvider`` does nothing but wait one
round trip per create, update, read and delete.

``benchmarks.cli`` copies this file as ``trivial_floor.py`` beside the ``__main__.py`` of a
Python project (``benchmarks.trivial.PROGRAM``: stack config ``count`` and ``rtt``, seconds), run by the
same CLI and virtualenv as the program of ``PingBackChannel``s. The provider lives in a
module of its own, not in ``__main__``, so that the SDK pickles it by reference (a short
``__provider`` in each resource's state, as ``PingBackChannel``'s), not by value, and
marks that pickle secret only when it captured a secret (it captures none). Its ``diff``
compares the three inputs and makes no call, as ``pingback``'s makes none; its outputs are
the inputs plus ``business_id`` and ``created_at`` (a widget's), none secret.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone
from typing import Any

from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

INPUTS = ("type", "config", "is_active")


class Trivial(ResourceProvider):
    """Waits one round trip per create, update, read and delete; nothing else."""

    serialize_as_secret_always = False  # the floor has no secret

    def __init__(self, rtt: float) -> None:
        super().__init__()
        self.rtt = rtt

    def create(self, props: dict[str, Any]) -> CreateResult:
        time.sleep(self.rtt)
        now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        outs = {**props, "business_id": "b" * 36, "created_at": now}
        return CreateResult(str(uuid.uuid4()), outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in INPUTS if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        time.sleep(self.rtt)
        return UpdateResult({**olds, **news})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        time.sleep(self.rtt)
        return ReadResult(id_, props)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        time.sleep(self.rtt)


class Channel(Resource, module="trivial", name="Channel"):
    def __init__(self, name: str, provider: Trivial, widget_id: str) -> None:
        props = {
            "type": "widget",
            "config": {"widget_id": widget_id},
            "is_active": True,
            "business_id": None,
            "created_at": None,
        }
        super().__init__(provider, name, props)
