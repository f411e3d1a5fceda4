"""The HTTP client and its write safety: PingBack's terms only, no Pulumi.

- :mod:`._transport`: one HTTP exchange (the pool, a deadline, a size cap);
  :mod:`._status`: a status to its error; :mod:`._redact`: secrets out of server text.
- :mod:`._retry`: what is retried and how long to wait: the one attempt loop.
- :mod:`._limit`: an operation's time limit (``customTimeouts``), which every request,
  wait and settle window of it ends by.
- :mod:`._listing`: one list of the business, shared by concurrent readers.
- :mod:`._ownership`: the one registry of who owns a channel (in memory, with
  :mod:`._journal` as its store on disk): may this bind, is this create a retry of a
  lost one, may this delete go ahead.
- :mod:`._creates`: creates never guess (settle, recover, one identity one channel).
- :mod:`._client`: :class:`PingBackClient`, the writes and reads together.
"""
