"""One run of the program against the engine's state: steps, pending deletes (see
:mod:`._engine`)."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pulumi.runtime import proto

from ._driver import Driver, _reset_secrets
from ._model import (
    Declared,
    EngineError,
    Recording,
    Registered,
    ResourceState,
    Run,
    _trigger_changed,
    replace_keys,
)
from ._render import changed_inputs
from ._wire import (
    Path_,
    reset_path,
)

if TYPE_CHECKING:
    from ._engine import Engine


class Deployment:
    """The resources one `up` (or preview) registers; each is stepped when registered.
    ``run``: the command's record, once ``Engine.deployment()`` has ended (a failed
    one's is also its error's)."""

    def __init__(
        self,
        engine: Engine,
        driver: Driver,
        command: Recording,
        *,
        preview: bool,
    ) -> None:
        self.engine = engine
        self.driver = driver
        self.preview = preview
        self.target_replace: set[str] = set()
        self._steps = command.steps  # {name: step}: written as the command runs
        self._command = command
        self.registered: set[str] = set()

    @property
    def run(self) -> Run:
        """The command's record, once it has ended."""
        assert self._command.run is not None, "the deployment has not ended"
        return self._command.run

    def register(self, d: Declared) -> Registered:
        engine = self.engine
        with engine.lock:
            assert d.name not in self.registered, f"duplicate resource name {d.name}"
            self.registered.add(d.name)
        if d.read_id is not None:
            r = self.driver.lookup(d)
            with engine.lock:
                engine._state[d.name] = r
                self._steps[d.name] = "read"
            return Registered(r.id, r.outputs, set(r.output_secrets))
        return self._step(d)

    def _done(self, d: Declared, kind: str, r: ResourceState) -> Registered:
        """``r`` in the state, the step's kind in the run."""
        with self.engine.lock:
            self.engine._state[d.name] = r
            self._steps[d.name] = kind
        return Registered(r.id, r.outputs, set(r.output_secrets))

    def _planned(
        self,
        d: Declared,
        kind: str,
        old: ResourceState | None,
        checked: dict[str, Any],
        secrets: AbstractSet[Path_],
    ) -> Registered:
        """Preview: nothing is written. A provider that supports previews is asked
        (Create/Update with ``preview``) and the program sees its answer; otherwise the
        program sees the checked inputs as outputs, and the rest unknown."""
        with self.engine.lock:
            self._steps[d.name] = kind
            self._command.diff_lines += changed_inputs(
                d.name,
                old.inputs if old else {},
                old.input_secrets if old else set(),
                checked,
                secrets,
            )
        drv = self.driver
        if drv.supports_preview and kind != "same":
            if kind == "update" and old is not None:
                planned = drv.update(d, old, checked, secrets, preview=True)
            else:
                planned = drv.create(d, checked, secrets, preview=True)
            return Registered(
                old.id if old and kind == "update" else "",
                planned.outputs,
                set(planned.output_secrets),
            )
        if drv.supports_preview and old is not None:
            return Registered(old.id, old.outputs, set(old.output_secrets))
        outputs = {k: v for k, v in checked.items() if k != "__provider"}
        return Registered(old.id if old else "", outputs, set(secrets), unknown=True)

    def _step(self, d: Declared) -> Registered:
        engine, drv = self.engine, self.driver
        news, news_secrets = drv.news(d)
        with engine.lock:
            old = engine._state.get(d.name)
        if d.import_id is not None and (old is None or old.id != d.import_id):
            # The import step, then Check and Diff of the program against what it read.
            # A resource of the stack whose import id changed is import-replaced (SG,
            # ImportReplacement): the new id is read and taken, and the old channel is
            # deleted at the end of the run.
            replaced = old
            old = drv.import_(d, d.import_id)
            if not self.preview:
                with engine.lock:
                    engine._state[d.name] = old
                    if replaced is not None:
                        engine._pending.append(replaced)
        if old is None:
            checked, secrets = drv.check(d, {}, news)
            if self.preview:
                return self._planned(d, "create", None, checked, secrets)
            return self._done(d, "create", drv.create(d, checked, secrets))
        for path in d.ignore_changes:  # applied before Check: the old value, its secrets
            reset_path(news, old.inputs, path)
            news_secrets = _reset_secrets(news_secrets, old.input_secrets, path)
        if d.name in self.target_replace:
            # --target-replace: Check without olds, no Diff, no second Check (SG).
            checked, secrets = drv.check(d, {}, news, news_secrets=news_secrets)
            return self._replace(d, old, checked, secrets, bool(d.delete_before_replace), ("id",))
        checked, secrets = drv.check(d, old.inputs, news, old.input_secrets, old, news_secrets)
        if _trigger_changed(d.replacement_trigger, old.declared.replacement_trigger):
            # replacement_trigger: no Diff; the replacement gets a second Check.
            checked, secrets = drv.check(d, {}, news, news_secrets=news_secrets)
            return self._replace(d, old, checked, secrets, bool(d.delete_before_replace), ())
        diff = drv.diff(
            d.name,
            old.id,
            old.outputs,
            old.inputs,
            checked,
            (old.output_secrets, old.input_secrets, secrets),
            d.ignore_changes,
        )
        with engine.lock:
            self._command.diffs[d.name] = diff
        # applyReplaceOnChanges: on the detailed diff and the changed keys (the dynamic
        # server sends neither, so replace_on_changes changes nothing there).
        keys = replace_keys(diff, d.replace_on_changes)
        if diff.changes == proto.DiffResponse.DIFF_NONE:
            if self.preview:
                return self._planned(d, "same", old, checked, secrets)
            same = replace(old, inputs=checked, input_secrets=secrets, declared=d)
            return self._done(d, "same", same)
        if not keys:
            if self.preview:
                return self._planned(d, "update", old, checked, secrets)
            return self._done(d, "update", drv.update(d, old, checked, secrets))
        if d.import_id is not None:
            # SG: "previously-imported resources that still specify an ID may not be
            # replaced" — whether imported in this run or an earlier one.
            raise EngineError(
                "Replace",
                d.name,
                "previously-imported resources that still specify an ID may not be replaced; "
                "please remove the `import` declaration from your program",
            )
        if d.protect and old.protect:
            raise EngineError(
                "Replace",
                d.name,
                f'unable to replace resource "{engine.urn(d.name)}"\nas it is currently marked '
                "for protection. To unprotect the resource, remove the `protect` flag from the "
                "resource in your Pulumi program and run `pulumi up`",
            )
        # the replacement's own Check
        checked, secrets = drv.check(d, {}, news, news_secrets=news_secrets)
        delete_first = (
            d.delete_before_replace
            if d.delete_before_replace is not None
            else diff.deleteBeforeReplace
        )
        return self._replace(d, old, checked, secrets, delete_first, tuple(keys))

    def _replace(
        self,
        d: Declared,
        old: ResourceState,
        checked: dict[str, Any],
        secrets: AbstractSet[Path_],
        delete_first: bool,
        keys: tuple[str, ...],
    ) -> Registered:
        engine, drv = self.engine, self.driver
        if self.preview:
            return self._planned(d, "replace:" + ",".join(keys), old, checked, secrets)
        if delete_first:
            drv.delete(old)
            with engine.lock:
                del engine._state[d.name]
            return self._done(d, "replace", drv.create(d, checked, secrets))
        new = drv.create(d, checked, secrets)
        with engine.lock:
            engine._pending.append(old)  # deleted at the end of the run
        return self._done(d, "replace", new)

    def finish(self) -> None:
        """End of a run: delete what the program no longer declares (reverse order),
        then retire pending deletes — this run's and any a failed run left."""
        engine, drv = self.engine, self.driver
        removed = [r for n, r in engine._state.items() if n not in self.registered]
        for r in reversed(removed):
            if self.preview:
                self._steps[r.name] = "delete"
                continue
            if engine.remove(drv, r):
                self._steps[r.name] = "delete"
        if self.preview:
            return
        for r in list(engine._pending):
            drv.delete(r)
            engine._pending.remove(r)
