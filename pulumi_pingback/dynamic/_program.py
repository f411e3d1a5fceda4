"""What a dynamic-provider program checks once per run, on its side, before the first
``PingBackChannel`` is registered.

The provider process checks the ``pingback:`` settings too, on its first call, but that
call belongs to whichever resource the engine sends first: a typo or a missing token
would show under an arbitrary resource, once per resource. Checked here, a bad setting
fails the program itself, once, under the stack, before any resource is registered or
any request sent. And the program knows what the provider process cannot: whether the
stack config holds ``pingback:token`` as a secret.
"""

from __future__ import annotations

import os
import threading

import pulumi
from pulumi.runtime.config import CONFIG, get_config, get_config_env, is_config_secret

from .._advice import UNENCRYPTED_OWNER_CREDENTIAL
from .._exceptions import ConfigurationError
from .._settings import SETTINGS, load_settings

__all__ = ["once_per_program"]

_checked: list[object] = []
"""The config the check last passed for: the SDK sets a new one for each program run
(an Automation API process runs many, one per stack), so each run is checked once."""
_lock = threading.Lock()


def once_per_program() -> None:
    """Check the settings and warn about a plain-text token, once per program run.

    Raises :class:`pulumi.RunError` (printed by the CLI without a traceback) naming the
    setting and the fix."""
    current = CONFIG.get()
    if _checked and _checked[0] is current:
        return
    with _lock:
        if _checked and _checked[0] is current:
            return
        every = {*current, *get_config_env()}
        keys = [key for key in every if key.startswith("pingback:")]
        config = {key: get_config(key) for key in SETTINGS}
        given = dict(config)
        if given["pingback:token"] is None and not os.environ.get(SETTINGS["pingback:token"]):
            # No token at all is the provider's to say (refresh and destroy, which run
            # no program, say it there too); a program under mocks needs none.
            given["pingback:token"] = "checked-by-the-provider"
        try:
            load_settings(given, keys=keys, project=pulumi.get_project())
        except ConfigurationError as exc:
            raise pulumi.RunError(exc.message) from None
        _checked[:] = [current]
        if config.get("pingback:token") is not None and not is_config_secret("pingback:token"):
            pulumi.log.warn(UNENCRYPTED_OWNER_CREDENTIAL)
