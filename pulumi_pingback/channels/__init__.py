"""PingBack's channel rules, and everything derived from them: no HTTP, no Pulumi wire.

- :mod:`._kinds`: one row per channel type (keys, credentials, identity, formats).
- :mod:`._schema`: one row per property of a channel (and the native schema).
- :mod:`._configs`: the typed configs a program writes.
- :mod:`._check`: the validator; :mod:`._diff`: update or replace, per path (pure).
- :mod:`._models`: a channel as PingBack answers it, and as declared.
- :mod:`._results`: what the core hands both fronts (inputs, outputs, secret paths).
- :mod:`._unknowns`: values a preview does not know yet.
"""
