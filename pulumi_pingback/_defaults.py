"""Every default and bound, once; the modules that use one import it from here.

Light: no import of its own, so the settings, the schema, the `pingback` command and a
Pulumi program's preview read it cheaply.
"""

from __future__ import annotations

# ---- settings: what a user may change (pingback:* / PINGBACK_*) ---------------------------

API_URL = "https://api.pingback.live"
"""pingback:apiUrl / PINGBACK_API_URL: the service."""
TIMEOUT = 30.0
"""pingback:timeout / PINGBACK_TIMEOUT: seconds to wait for each answer."""
TIMEOUT_MAX = 3600.0
MAX_RETRIES = 3
"""pingback:maxRetries / PINGBACK_MAX_RETRIES: attempts after the first."""
MAX_RETRIES_MAX = 20

# ---- the API ----------------------------------------------------------------------------------

CHANNELS_PATH = "/api/v1/channels/"
"""The channels endpoints (``…/{id}`` for one), under the API URL."""

# ---- the client's own bounds --------------------------------------------------------------

CONNECT_TIMEOUT = 10.0
"""Seconds to connect, at most (never more than the timeout)."""
DEADLINE_FACTOR = 2
"""A whole request (connect, send, answer) ends after this many timeouts, however it drips."""
MAX_ANSWER_BYTES = 16 * 2**20
"""An answer larger than this is cut off and refused."""
MAX_RETRY_AFTER = 60.0
"""A 429 asking to wait longer than this fails at once instead."""
BACKOFF_INITIAL = 0.5
"""The first wait between attempts (jittered, doubling)…"""
BACKOFF_CAP = 8.0
"""…up to this."""
SETTLE_FIRST_PAUSE = 0.25
"""After a create whose outcome is unknown: the first pause between lists (doubling) over
the settle window, which is the timeout."""
READ_WINDOW = 30.0
"""Seconds one list serves the reads of a process (writes invalidate it)."""

NOTICE_LOGGER = "pulumi_pingback.notice"
"""The logger of what the user is told at INFO whatever ``PINGBACK_LOG_LEVEL`` says (one
line per adopted channel); the providers send it to the engine's log (``_enginelog``)."""
