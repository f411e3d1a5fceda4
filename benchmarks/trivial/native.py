"""The engine's floor for a native plugin: the lightest provider the Pulumi Python SDK
serves, a channel of the same shape as ``pingback:index:Channel`` whose every call does
nothing but wait one round trip.

``benchmarks.cli`` copies this file as the ``__main__.py`` of a source plugin folder (with
a ``PulumiPlugin.yaml`` naming the virtualenv `pulumi package add` made for ``pingback``),
so the CLI starts it exactly as it starts ``pingback``: the Python language host's
RunPlugin, the same interpreter, the same SDK, the same gRPC server
(``pulumi.provider.experimental``). Only the provider differs.

What it does per resource, and nothing else:

- Check, Diff: no work (the inputs as given; a change when type, config or isActive
  differ), as ``pingback`` makes no API call there;
- Create, Update, Read, Delete: sleep the round trip (stack config ``trivial:rtt``,
  seconds), as ``pingback`` waits for one answer of PingBack's;
- outputs: the inputs, plus ``businessId`` and ``createdAt`` (a widget's outputs in
  ``pingback``), the id a UUID: as many properties, none of them secret.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from datetime import datetime, timezone

from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import (
    ConfigureRequest,
    ConfigureResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    GetSchemaRequest,
    GetSchemaResponse,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)
from pulumi.provider.experimental.server import main

PACKAGE = "trivial"
INPUTS = ("type", "config", "isActive")

_STRING = {"type": "string"}
_CHANNEL = {
    "properties": {
        "type": _STRING,
        "config": {"type": "object", "additionalProperties": {"$ref": "pulumi.json#/Any"}},
        "isActive": {"type": "boolean"},
        "businessId": _STRING,
        "createdAt": _STRING,
    },
    "required": ["type", "config", "isActive"],
    "inputProperties": {
        "type": _STRING,
        "config": {"type": "object", "additionalProperties": {"$ref": "pulumi.json#/Any"}},
        "isActive": {"type": "boolean"},
    },
    "requiredInputs": ["type"],
}
SCHEMA = json.dumps(
    {
        "name": PACKAGE,
        "version": "0.0.1",
        "config": {"variables": {"rtt": {"type": "number"}}},
        "provider": {"inputProperties": {"rtt": {"type": "number"}}},
        "resources": {f"{PACKAGE}:index:Channel": _CHANNEL},
    }
)
BUSINESS = str(uuid.uuid4())
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the wire's unknown (pulumi.runtime.rpc)


class Trivial(Provider):
    """Waits one round trip per Create, Update, Read and Delete; nothing else."""

    def __init__(self) -> None:
        self.rtt = 0.0

    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        return GetSchemaResponse(schema=SCHEMA)

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        given = request.args.get("rtt") if request.args else None
        value = given.value if given is not None else None
        if value is None and request.variables:
            value = request.variables.get(f"{PACKAGE}:config:rtt")
        self.rtt = float(value) if isinstance(value, (str, float)) else 0.0
        return ConfigureResponse(accept_secrets=True, supports_preview=True)

    async def diff(self, request: DiffRequest) -> DiffResponse:
        changed = [k for k in INPUTS if request.old_state.get(k) != request.new_inputs.get(k)]
        return DiffResponse(changes=bool(changed), diffs=changed)

    async def create(self, request: CreateRequest) -> CreateResponse:
        outputs = dict(request.properties)
        outputs["businessId"] = PropertyValue(BUSINESS)
        if request.preview:
            outputs["createdAt"] = PropertyValue(UNKNOWN)  # Computed does not marshal
            return CreateResponse(None, outputs)
        await asyncio.sleep(self.rtt)
        now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        outputs["createdAt"] = PropertyValue(now)
        return CreateResponse(str(uuid.uuid4()), outputs)

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        if not request.preview:
            await asyncio.sleep(self.rtt)
        return UpdateResponse({**request.olds, **request.news})

    async def read(self, request: ReadRequest) -> ReadResponse:
        await asyncio.sleep(self.rtt)
        return ReadResponse(request.resource_id, request.properties, request.inputs)

    async def delete(self, request: DeleteRequest) -> None:
        await asyncio.sleep(self.rtt)


if __name__ == "__main__":
    main(sys.argv[1:], "0.0.1", Trivial())
