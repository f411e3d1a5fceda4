"""The provider calls of one engine operation on one provider process (see :mod:`._engine`)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import grpc
from pulumi.runtime import proto, rpc

from ._model import CheckFailed, Declared, EngineError, ResourceState, StepError
from ._processes import ProviderProcess
from ._wire import (
    Path_,
    from_wire,
    strip_secrets,
    to_struct,
)

if TYPE_CHECKING:
    from ._engine import Engine


class Driver:
    """The provider calls one engine operation makes, on one provider process.

    Thread-safe; every call is recorded in the run of the command making it (outside a
    command, nowhere). Properties cross here: program names and plain values in, the
    target's wire out, and back. It writes no state: it returns what the engine keeps.
    """

    def __init__(
        self,
        engine: Engine,
        process: ProviderProcess,
        accept_secrets: bool,
        supports_preview: bool | None = None,
    ) -> None:
        self.engine = engine
        self.process = process
        self.target = engine.target
        self.accept_secrets = accept_secrets  # the provider's Configure answer
        self.supports_preview = (
            accept_secrets and self.target.native if supports_preview is None else supports_preview
        )

    def _names(self, name: str) -> dict[str, Any]:
        """The urn, name and type every resource call carries."""
        return {"urn": self.engine.urn(name), "name": name, "type": self.target.type_token}

    def rpc(self, method: str, name: str, request: Any) -> Any:
        self.engine._record_call(method, name)
        try:
            return getattr(self.process.stub, method)(request, timeout=300)
        except grpc.RpcError as exc:
            raise StepError(
                method, name, exc.details() or str(exc), self.target.type_token
            ) from None

    def wire(self, props: dict[str, Any], secrets: AbstractSet[Path_]) -> Any:
        """Properties as the engine marshals them for this provider: secrets kept as
        secrets if it accepts them (KeepSecrets), else stripped; the target's names."""
        plain, _ = strip_secrets(props)
        sent, sent_secrets = self.target.send(plain, secrets)
        if self.accept_secrets:
            sent = _wrap(sent, sent_secrets)
        return to_struct(sent)

    def answer(self, struct: Any) -> tuple[dict[str, Any], set[Path_]]:
        """A provider's answer as the engine keeps it (KeepSecrets), in program names."""
        values, paths = from_wire(struct)
        return self.target.receive(values, paths)

    def news(self, d: Declared) -> tuple[dict[str, Any], set[Path_]]:
        """The program's inputs as the engine passes them: plain, secret paths apart
        (the program's, and the schema's secret inputs: ``program_secrets``),
        ``__provider`` added for the dynamic provider."""
        plain, _ = strip_secrets(d.inputs)
        plain = {k: v for k, v in plain.items() if v is not None}
        if not self.target.native:
            plain["__provider"] = self.engine.blob
        return plain, self.program_secrets(d)

    def program_secrets(self, d: Declared) -> set[Path_]:
        """The secret paths of what the program registers: those it marked, and — as a
        generated SDK or a YAML program sends them — the schema's secret inputs, each
        as one secret."""
        plain, secrets = strip_secrets(d.inputs)
        return secrets | self.target.schema_secrets(plain)

    def check(
        self,
        d: Declared,
        olds: dict[str, Any],
        news: dict[str, Any],
        old_secrets: AbstractSet[Path_] = frozenset(),
        old: ResourceState | None = None,
        news_secrets: AbstractSet[Path_] | None = None,
    ) -> tuple[dict[str, Any], AbstractSet[Path_]]:
        """Checked inputs and their secret paths: the provider's, plus — for a provider
        that does not accept secrets — the news' on same-named properties
        (annotateSecrets). ``old``: the resource whose outputs go as ``oldOutputs``
        (none for a create or a replacement's own Check); ``news_secrets``: the news'
        secret paths (default: the program's); every Check has a fresh ``randomSeed``."""
        program_secrets = self.program_secrets(d) if news_secrets is None else news_secrets
        resp = self.rpc(
            "Check",
            d.name,
            proto.CheckRequest(
                **self._names(d.name),
                olds=self.wire(olds, set(old_secrets)),
                news=self.wire(news, program_secrets),
                randomSeed=os.urandom(32),
                old_outputs=self.wire(
                    old.outputs if old else {}, old.output_secrets if old else set()
                ),
            ),
        )
        if resp.failures:
            raise CheckFailed(  # the program's values, as secret as the SDK sent them
                d.name,
                [(f.property, f.reason) for f in resp.failures],
                _wrap(*self.target.send(strip_secrets(d.inputs)[0], self.program_secrets(d))),
                self.target.type_token,
            )
        checked, sealed = self.answer(resp.inputs)
        if self.accept_secrets:
            return checked, sealed
        return checked, sealed | program_secrets

    def diff(
        self,
        name: str,
        id_: str,
        olds: dict[str, Any],
        old_inputs: dict[str, Any],
        news: dict[str, Any],
        secrets: tuple[AbstractSet[Path_], AbstractSet[Path_], AbstractSet[Path_]] = (
            frozenset(),
            frozenset(),
            frozenset(),
        ),
        ignore_changes: Sequence[str] = (),
    ) -> Any:
        """``secrets``: the secret paths of olds, old_inputs and news; ``ignore_changes``:
        the resource option, which the engine sends along (having applied it already)."""
        resp = self.rpc(
            "Diff",
            name,
            proto.DiffRequest(
                id=id_,
                **self._names(name),
                olds=self.wire(olds, secrets[0]),  # the servers pass old *outputs* to diff()
                news=self.wire(news, secrets[2]),
                old_inputs=self.wire(old_inputs, secrets[1]),
                ignoreChanges=list(ignore_changes),
            ),
        )
        if resp.changes == proto.DiffResponse.DIFF_UNKNOWN:
            raise AssertionError("the provider must never answer DIFF_UNKNOWN")
        if not self.target.native and (resp.detailedDiff or resp.diffs):
            raise AssertionError("the dynamic server sends no detailed diff")
        return resp

    def create(
        self,
        d: Declared,
        inputs: dict[str, Any],
        input_secrets: AbstractSet[Path_],
        preview: bool = False,
    ) -> ResourceState:
        resp = self.rpc(
            "Create",
            d.name,
            proto.CreateRequest(
                **self._names(d.name),
                properties=self.wire(inputs, input_secrets),
                preview=preview,
            ),
        )
        if not resp.id and not preview:
            raise EngineError(
                "Create",
                d.name,
                f"plugin returned empty resource.ID from create '{self.engine.urn(d.name)}'",
            )
        outputs, sealed = self.answer(resp.properties)
        return ResourceState(
            d.name,
            resp.id,
            inputs,
            outputs,
            input_secrets,
            self.output_secrets(d, input_secrets, sealed),
            d,
        )

    def output_secrets(
        self, d: Declared, input_secrets: Iterable[Path_], returned: Iterable[Path_]
    ) -> set[Path_]:
        """Secret outputs: what the provider returned as secrets, ``additional_secret_outputs``,
        and — for a provider that does not accept secrets — the same-named inputs'
        (annotateSecrets; the dynamic provider's blob is no secret: it holds none)."""
        paths = set(returned) | {(k,) for k in d.additional_secret_outputs}
        if not self.accept_secrets:
            paths |= set(input_secrets)
        return paths

    def update(
        self,
        d: Declared,
        old: ResourceState,
        checked: dict[str, Any],
        secrets: AbstractSet[Path_],
        preview: bool = False,
    ) -> ResourceState:
        """An Update: ``old`` as the state takes the answer — the checked inputs, the
        outputs — (a preview's: what the program sees; the state takes nothing)."""
        resp = self.rpc(
            "Update",
            d.name,
            proto.UpdateRequest(
                id=old.id,
                **self._names(d.name),
                olds=self.wire(old.outputs, old.output_secrets),
                news=self.wire(checked, secrets),
                old_inputs=self.wire(old.inputs, old.input_secrets),
                ignoreChanges=list(d.ignore_changes),
                preview=preview,
            ),
        )
        outputs, sealed = self.answer(resp.properties)
        return replace(
            old,
            inputs=checked,
            input_secrets=secrets,
            declared=d,
            outputs=outputs,
            output_secrets=self.output_secrets(d, secrets, sealed),
        )

    def delete(self, r: ResourceState) -> None:
        """The engine's delete step: nothing for ``retain_on_delete``."""
        if r.retain_on_delete:
            return
        self.rpc(
            "Delete",
            r.name,
            proto.DeleteRequest(
                id=r.id,
                **self._names(r.name),
                properties=self.wire(r.outputs, r.output_secrets),
                old_inputs=self.wire(r.inputs, r.input_secrets),
            ),
        )

    def read(self, r: ResourceState) -> tuple[str, ResourceState | None]:
        """A refresh of ``r``: Read, then the Diff of the refreshed state against the old
        inputs, inverted (step.go RefreshStep). Returns deleted | changed | same, and the
        refreshed resource (None: deleted)."""
        resp = self.rpc(
            "Read",
            r.name,
            proto.ReadRequest(
                id=r.id,
                **self._names(r.name),
                properties=self.wire(r.outputs, r.output_secrets),
                inputs=self.wire(r.inputs, r.input_secrets) if r.inputs else None,
            ),
        )
        if not resp.id:
            return "deleted", None
        outs, sealed_outs = self.answer(resp.properties)
        sealed_ins: AbstractSet[Path_]
        if resp.HasField("inputs"):
            ins, sealed_ins = self.answer(resp.inputs)
        else:
            ins, sealed_ins = r.inputs, set()
        if not self.accept_secrets:  # annotateSecrets from the old state (PP Read)
            sealed_outs |= r.output_secrets
            sealed_ins |= r.input_secrets
        diff = self.diff(  # the state's ignore_changes go along (step.go RefreshStep)
            r.name,
            resp.id,
            outs,
            ins,
            r.inputs,
            (sealed_outs, sealed_ins, r.input_secrets),
            r.declared.ignore_changes,
        )
        refreshed = replace(
            r,
            id=resp.id,
            outputs=outs,
            output_secrets=sealed_outs | {(k,) for k in r.declared.additional_secret_outputs},
            inputs=ins,
            input_secrets=sealed_ins,
        )
        return ("changed" if diff.changes == proto.DiffResponse.DIFF_SOME else "same"), refreshed

    def lookup(self, d: Declared) -> ResourceState:
        """A read step (opts.id / a static get): Read with the registered inputs as
        both ``properties`` and ``inputs`` — the engine leaves ``inputs`` out when there
        are none (PP Read), and always sends ``properties``."""
        news, secrets = self.news(d)
        assert d.read_id is not None
        resp = self.rpc(
            "Read",
            d.name,
            proto.ReadRequest(
                id=d.read_id,
                **self._names(d.name),
                properties=self.wire(news, secrets),
                inputs=self.wire(news, secrets) if news else None,
            ),
        )
        outs, sealed = self.answer(resp.properties)
        # An empty id is not an error here: the resource comes back with no outputs.
        return ResourceState(
            d.name,
            resp.id,
            news,
            outs if resp.id else {},
            secrets,
            self.output_secrets(d, secrets, sealed),
            d,
            external=True,
        )

    def import_(self, d: Declared, import_id: str) -> ResourceState:
        """The import step (step.go ImportStep): Read(id) with empty properties and no
        inputs. No properties back: "does not exist"; no inputs back: "does not support
        importing"; an empty id: the import id. (The dynamic server fails here:
        pulumi#16175.)"""
        resp = self.rpc(
            "Read",
            d.name,
            proto.ReadRequest(id=import_id, **self._names(d.name), properties=to_struct({})),
        )
        if not resp.HasField("properties"):
            raise EngineError("Import", d.name, f"resource '{import_id}' does not exist")
        if not resp.HasField("inputs"):
            raise EngineError(
                "Import",
                d.name,
                "provider does not support importing resources; please try updating the "
                "'pingback' plugin",
            )
        outs, sealed_outs = self.answer(resp.properties)
        ins, sealed_ins = self.answer(resp.inputs)
        return ResourceState(
            d.name,
            resp.id or import_id,
            ins,
            outs,
            sealed_ins,
            self.output_secrets(d, sealed_ins, sealed_outs),
            d,
        )


def _reset_secrets(
    secrets: AbstractSet[Path_], old_secrets: AbstractSet[Path_], path: str
) -> set[Path_]:
    """The news' secret paths once ``ignore_changes`` put the old value at ``path``: the
    program's there give way to the old value's."""
    at = tuple(path.split("."))
    return {p for p in secrets if p[: len(at)] != at} | {
        p for p in old_secrets if p[: len(at)] == at
    }


def _go_string(value: Any) -> str:
    """A provider input as the engine writes it into ``variables`` (JSON unless a string)."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    import json

    return json.dumps(value)


def _wrap(value: Any, secrets: AbstractSet[Path_], path: Path_ = ()) -> Any:
    """``value`` with the values at ``secrets`` wrapped as wire secrets — a secret inside
    a secret too (a provider may return ``config`` secret with ``config.bot_token``
    secret in it, and the engine sends both back)."""
    if isinstance(value, dict):
        value = {k: _wrap(v, secrets, (*path, k)) for k, v in value.items()}
    elif isinstance(value, list):
        value = [_wrap(v, secrets, (*path, str(i))) for i, v in enumerate(value)]
    if path and path in secrets:
        return rpc.wrap_rpc_secret(value)
    return value
