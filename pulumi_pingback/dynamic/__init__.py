"""The dynamic-provider front, for Python programs: :class:`PingBackChannel` (the
resource a program declares, :mod:`._resource`) and :class:`PingBackChannelProvider`
(its provider, which only marshals the core's calls, :mod:`._provider`)."""
